package aiohttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aiohttp-go/aiohttp"
)

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": 42, "name": %q}`, r.URL.Query().Get("name"))
	}))
	defer srv.Close()

	s, err := aiohttp.NewSession(aiohttp.Config{
		BaseURL: srv.URL + "/v1/",
		Timeout: aiohttp.Timeout{Total: 10 * time.Second, SockRead: 5 * time.Second},
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	resp, err := s.Get(context.Background(), "users/42", aiohttp.Params{"name": {"ada"}})
	if err != nil {
		panic(err)
	}
	defer resp.Close()
	var user struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := resp.JSON(&user); err != nil {
		panic(err)
	}
	fmt.Println(resp.Status, resp.URL().Path, user.ID, user.Name)
	// Output: 200 /v1/users/42 42 ada
}

func ExampleSession_Post() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.Copy(w, r.Body)
	}))
	defer srv.Close()
	s, _ := aiohttp.NewSession(aiohttp.Config{})
	defer s.Close()

	resp, err := s.Post(context.Background(), srv.URL+"/echo", aiohttp.JSON(map[string]int{"n": 1}))
	if err != nil {
		panic(err)
	}
	defer resp.Close()
	text, _ := resp.Text()
	fmt.Println(resp.Status, text)
	// Output: 201 {"n":1}
}

func ExampleTimeoutError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
	}))
	defer srv.Close()
	s, _ := aiohttp.NewSession(aiohttp.Config{})
	defer s.Close()

	_, err := s.Get(context.Background(), srv.URL, aiohttp.Timeout{SockRead: 50 * time.Millisecond})
	var te *aiohttp.TimeoutError
	fmt.Println(errors.As(err, &te), te.Phase, errors.Is(err, context.DeadlineExceeded), errors.Is(err, aiohttp.ErrClient))
	// Output: true sock_read true true
}

func ExampleResponseError() {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	s, _ := aiohttp.NewSession(aiohttp.Config{RaiseForStatus: true})
	defer s.Close()

	_, err := s.Get(context.Background(), srv.URL+"/missing")
	var re *aiohttp.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Status, re.Message)
	}
	// Output: 404 Not Found
}

func ExampleConnector_Stats() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	conn, _ := aiohttp.NewConnector(aiohttp.ConnectorConfig{Limit: 10, LimitPerHost: 2})
	defer conn.Close()
	s, _ := aiohttp.NewSession(aiohttp.Config{Connector: conn}) // shared: s.Close leaves conn open
	defer s.Close()

	for range 5 {
		resp, err := s.Get(context.Background(), srv.URL)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp) // EOF returns the connection to the pool
		resp.Close()
	}
	st := conn.Stats()
	fmt.Println("open", st.Open, "idle", st.Idle, "dials", st.Dials, "reuses", st.Reuses)
	// Output: open 1 idle 1 dials 1 reuses 4
}
