// Package rawserver is a scripted raw-TCP HTTP server for tests: a handler gets each accepted
// connection and reads requests and writes exact bytes, delays, resets and half-closes, so that
// the client can be tested against faults no well-behaved server produces.
package rawserver

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// Server accepts connections on a loopback address and runs a handler for each on its own
// goroutine. It is closed, connections included, by the test's cleanup, which waits for every
// handler to return.
type Server struct {
	Addr string // host:port
	URL  string // "http://" + Addr

	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted atomic.Int64
	requests atomic.Int64
	open     atomic.Int64
	maxOpen  atomic.Int64
}

// Handler serves one connection. It returns when done; the connection is then closed.
type Handler func(c *Conn)

// Start listens on 127.0.0.1 and serves with h until the test ends.
func Start(t testing.TB, h Handler) *Server { return StartOn(t, "127.0.0.1:0", h) }

// StartOn listens on addr (for example "127.0.0.2:0") and serves with h until the test ends.
func StartOn(t testing.TB, addr string, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("rawserver: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	s.URL = "http://" + s.Addr
	s.wg.Add(1)
	go s.serve(h)
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(h Handler) {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		if n := s.open.Add(1); n > s.maxOpen.Load() {
			s.maxOpen.Store(n) // races only make it larger, never smaller than one observer saw
		}
		s.mu.Lock()
		s.conns[nc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c := &Conn{Conn: nc, R: bufio.NewReader(nc), srv: s}
			h(c)
			nc.Close()
			s.open.Add(-1)
			s.mu.Lock()
			delete(s.conns, nc)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, closes every connection and waits for the handlers.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Accepted returns how many connections were accepted.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Requests returns how many requests handlers read with ReadRequest.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// MaxOpen returns the most connections that were open at once.
func (s *Server) MaxOpen() int { return int(s.maxOpen.Load()) }

// Conn is one accepted connection.
type Conn struct {
	net.Conn
	R   *bufio.Reader
	srv *Server
}

// ReadRequest reads one request, body included, and returns it with its exact bytes. The
// returned request's Body is already read (use the raw bytes or Body field of the result).
func (c *Conn) ReadRequest() (*Request, error) {
	var raw bytes.Buffer
	tee := bufio.NewReader(io.TeeReader(c.R, &raw))
	req, err := http.ReadRequest(tee)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	// Bytes the tee read ahead past this request belong to the next one: push them back.
	if n := tee.Buffered(); n > 0 {
		extra, _ := tee.Peek(n)
		c.R = bufio.NewReader(io.MultiReader(bytes.NewReader(append([]byte(nil), extra...)), c.R))
		raw.Truncate(raw.Len() - n)
	}
	c.srv.requests.Add(1)
	return &Request{Request: req, Body: body, Raw: raw.Bytes()}, nil
}

// Request is a request read by [Conn.ReadRequest].
type Request struct {
	*http.Request
	Body []byte
	Raw  []byte
}

// Send writes s as it is.
func (c *Conn) Send(s string) error {
	_, err := io.WriteString(c.Conn, s)
	return err
}

// Reset closes the connection with an RST instead of a FIN.
func (c *Conn) Reset() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Conn.Close()
}

// CloseWrite half-closes the connection: the client sees EOF, the server can still read.
func (c *Conn) CloseWrite() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// Response builds a minimal HTTP/1.1 response with Content-Length.
func Response(status int, body string) string {
	return "HTTP/1.1 " + itoa(status) + " " + http.StatusText(status) + "\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
