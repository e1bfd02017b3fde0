// Command restclient wraps a small JSON REST API with typed methods on top of one aiohttp
// session. With no arguments it starts the API embedded on a local port and runs a short demo.
//
//	go run ./examples/restclient
//	go run ./examples/restclient -base http://localhost:8080/api/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aiohttp-go/aiohttp"
)

// Todo is the API's resource.
type Todo struct {
	ID    int    `json:"id,omitempty"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

// Client is a typed client for the todo API. It is safe for concurrent use.
type Client struct {
	s *aiohttp.Session
}

// NewClient returns a client for the API at base (absolute, ending in "/").
func NewClient(base, token string) (*Client, error) {
	s, err := aiohttp.NewSession(aiohttp.Config{
		BaseURL:        base,
		Header:         http.Header{"Authorization": {"Bearer " + token}, "User-Agent": {"todo-client/1.0"}},
		Timeout:        aiohttp.Timeout{Total: 10 * time.Second, SockRead: 5 * time.Second},
		RaiseForStatus: true, // 4xx and 5xx become *aiohttp.ResponseError
	})
	if err != nil {
		return nil, err
	}
	return &Client{s: s}, nil
}

// Close releases the client's connections.
func (c *Client) Close() error { return c.s.Close() }

// List returns every todo, optionally only those with the given done state.
func (c *Client) List(ctx context.Context, done *bool) ([]Todo, error) {
	var opts []aiohttp.RequestOption
	if done != nil {
		opts = append(opts, aiohttp.Params{"done": {fmt.Sprint(*done)}})
	}
	var out []Todo
	return out, c.do(ctx, "GET", "todos", &out, opts...)
}

// Get returns one todo; a missing one gives an error for which IsNotFound is true.
func (c *Client) Get(ctx context.Context, id int) (Todo, error) {
	var t Todo
	return t, c.do(ctx, "GET", fmt.Sprintf("todos/%d", id), &t)
}

// Create adds a todo and returns it with its ID.
func (c *Client) Create(ctx context.Context, title string) (Todo, error) {
	var t Todo
	return t, c.do(ctx, "POST", "todos", &t, aiohttp.JSON(Todo{Title: title}))
}

// SetDone marks a todo done or not.
func (c *Client) SetDone(ctx context.Context, id int, done bool) (Todo, error) {
	var t Todo
	return t, c.do(ctx, "PATCH", fmt.Sprintf("todos/%d", id), &t, aiohttp.JSON(map[string]bool{"done": done}))
}

// Delete removes a todo.
func (c *Client) Delete(ctx context.Context, id int) error {
	return c.do(ctx, "DELETE", fmt.Sprintf("todos/%d", id), nil)
}

// do sends one request and decodes a JSON answer into out (nil: none expected).
func (c *Client) do(ctx context.Context, method, path string, out any, opts ...aiohttp.RequestOption) error {
	resp, err := c.s.Request(ctx, method, path, opts...)
	if err != nil {
		return err
	}
	defer resp.Close()
	if out == nil {
		return nil
	}
	return resp.JSON(out)
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var re *aiohttp.ResponseError
	return errors.As(err, &re) && re.Status == http.StatusNotFound
}

func main() {
	base := flag.String("base", "", "API base URL (default: start the embedded API)")
	flag.Parse()
	if *base == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		srv := &http.Server{Handler: newAPI("secret")}
		go srv.Serve(ln)
		defer srv.Close()
		*base = "http://" + ln.Addr().String() + "/api/"
	}
	if err := demo(*base); err != nil {
		fail(err)
	}
}

func demo(base string) error {
	c, err := NewClient(base, "secret")
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()

	for _, title := range []string{"write the connector", "write the tests", "ship it"} {
		t, err := c.Create(ctx, title)
		if err != nil {
			return err
		}
		fmt.Printf("created  #%d %q\n", t.ID, t.Title)
	}
	if t, err := c.SetDone(ctx, 1, true); err != nil {
		return err
	} else {
		fmt.Printf("updated  #%d done=%v\n", t.ID, t.Done)
	}
	open := false
	todos, err := c.List(ctx, &open)
	if err != nil {
		return err
	}
	fmt.Printf("open     %d todos: %v\n", len(todos), todos)
	if err := c.Delete(ctx, 2); err != nil {
		return err
	}
	fmt.Println("deleted  #2")
	if _, err := c.Get(ctx, 2); IsNotFound(err) {
		fmt.Println("get #2   not found, as expected:", err)
	} else {
		return fmt.Errorf("expected not found, got %v", err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "restclient:", err)
	os.Exit(1)
}
