package aiohttp

// Regression tests for defects found in review; each comment names what used to go wrong.

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/rawserver"
)

type failAfter struct {
	sent bool
	err  error
}

func (r *failAfter) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "abc"), nil
	}
	return 0, r.err
}

// exchange.go:157-165 / 231-234: a body writer error (the caller's reader failed, or a body
// shorter than its Content-Length) is stored in ex.werr but nothing stops the head read: the
// server waits for the rest of the body, the caller waits for a head, and the request ends with
// a Total timeout; the reader's error is never reported.
func TestRegressionBodyReaderErrorReported(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := NewSession(Config{Timeout: Timeout{Total: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readErr := errors.New("source disk failed")
	start := time.Now()
	resp, err := s.Post(context.Background(), srv.URL, Body(&failAfter{err: readErr}))
	if err == nil {
		resp.Close()
		t.Fatal("want an error")
	}
	t.Logf("after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, readErr) {
		t.Fatalf("the body reader's error is lost: got %v", err)
	}
}

// connector.go:225 and dial.go:31: the Connect deadline is computed afresh in wait() and again
// in dialConn(), so a pool wait and the dial that follows each get the whole Connect budget.
// DESIGN: Connect covers "pool wait, DNS, all dial attempts, TLS" as one phase.
func TestRegressionConnectBudgetSpansPoolWait(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		io.WriteString(w, "ok")
	}))
	// A slow TLS handshake: a real server-side delay in the connect phase.
	srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		time.Sleep(600 * time.Millisecond)
		return nil, nil
	}}
	srv.StartTLS()
	defer srv.Close()
	tlsCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig
	s, err := NewSession(Config{
		ConnectorConfig: ConnectorConfig{LimitPerHost: 1, TLSConfig: tlsCfg},
		Timeout:         Timeout{Connect: time.Second, Total: 10 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, err := s.Get(context.Background(), srv.URL+"/hold")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(700 * time.Millisecond)
		hold.Close() // not drainable: the socket is closed and the slot handed on
	}()
	start := time.Now()
	resp, err := s.Get(context.Background(), srv.URL+"/fast")
	el := time.Since(start)
	if err == nil {
		resp.Close()
		t.Fatalf("connected after %v with Connect = 1s (pool wait 0.7s + TLS 0.6s); want a connect TimeoutError at 1s", el.Round(time.Millisecond))
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Phase != PhaseConnect {
		t.Fatalf("err %v after %v", err, el)
	}
}

// outrequest.go:150-152 + session.go:58-61: framing headers in the session's defaults are
// validated for syntax only. On the shared-map fast path they go on the wire verbatim (a GET
// announcing a body it never sends); with any request option they are checked or applied.
func TestRegressionSessionFramingHeadersRefused(t *testing.T) {
	for _, k := range []string{"Content-Length", "content-length", "Transfer-Encoding", "Host"} {
		_, err := NewSession(Config{Header: http.Header{k: {"5"}}})
		var he *InvalidHeaderError
		if !errors.As(err, &he) {
			t.Errorf("session default %s: want *InvalidHeaderError, got %v", k, err)
		}
	}
}

// exchange.go:96 + http1 parseFraming (Offset = base = 0): a response with a valid status line
// but conflicting framing headers counts as "bytes that are not a status line", so on a reused
// connection the request is sent a second time. DESIGN: retry only before a valid status line.
func TestRegressionFramingErrorNotResent(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for n := 0; ; n++ {
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			resp := rawserver.Response(200, "ok")
			if n == 1 {
				resp = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
			}
			if c.Send(resp) != nil {
				return
			}
		}
	})
	s, err := NewSession(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Bytes()
	resp.Close()
	_, err = s.Post(context.Background(), srv.URL, JSON(map[string]int{"charge": 100}),
		Header{"Idempotency-Key": {"k1"}})
	t.Logf("second request: %v; server read %d requests on %d connections", err, srv.Requests(), srv.Accepted())
	if srv.Requests() != 2 {
		t.Errorf("the POST was sent %d times after its response's status line arrived", srv.Requests()-1)
	}
}

// body.go:348-352: Bytes presizes from an untrusted Content-Length up to 16 MiB; no MaxBodySize
// exists (DESIGN: "presized from Content-Length, capped by MaxBodySize").
func TestRegressionBytesPresizeBounded(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		if _, err := c.ReadRequest(); err != nil {
			return
		}
		c.Send("HTTP/1.1 200 OK\r\nContent-Length: 16000000\r\n\r\nshort")
	})
	s, err := NewSession(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := s.Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err = resp.Bytes()
	runtime.ReadMemStats(&m1)
	t.Logf("Bytes err=%v; allocated %d MiB for a 5-byte body", err, (m1.TotalAlloc-m0.TotalAlloc)>>20)
	if m1.TotalAlloc-m0.TotalAlloc > 1<<20 {
		t.Errorf("a lying Content-Length costs %d MiB per response", (m1.TotalAlloc-m0.TotalAlloc)>>20)
	}
}

// blockingReader is a streaming body source that is not an io.Closer (a bufio.Reader over a
// slow producer, say): Read blocks until release is closed.
type blockingReader struct {
	first   bool
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if !r.first {
		r.first = true
		return copy(p, "abc"), nil
	}
	<-r.release
	return 0, io.EOF
}

// exchange.go:218-229: when the exchange ends while the body writer is blocked in the caller's
// reader and that reader is not an io.Closer, finish waits for it with no bound: an early
// response (here a 413 with Connection: close) does not return, and Total (1 s) is not honoured.
func TestRegressionFinishDoesNotWaitForBodyReader(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		c.R.ReadString('\n')
		c.Send("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	})
	s, err := NewSession(Config{Timeout: Timeout{Total: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	br := &blockingReader{release: make(chan struct{})}
	start := time.Now()
	resp, err := s.Post(context.Background(), srv.URL, Body(br))
	el := time.Since(start)
	if err == nil {
		if resp.Status != 413 {
			t.Errorf("status %d, want 413", resp.Status)
		}
		resp.Close()
	}
	if el > 1500*time.Millisecond {
		t.Errorf("an early 413 took %v to return (Total = 1s): the request waited for the body reader", el.Round(time.Millisecond))
	}
	// The connection stays counted until the writer returns, then the writer releases it.
	if st := s.Connector().Stats(); st.Open != 1 {
		t.Errorf("while the body reader blocks, its connection must stay counted: %+v", st)
	}
	close(br.release)
	deadline := time.Now().Add(5 * time.Second)
	for s.Connector().Stats().Open != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the body writer never released its connection: %+v", s.Connector().Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// session.go:151 / connector.go:184-190 / exchange.go:59-73: nothing checks ctx before a
// request goes out on an idle connection. With ctx already cancelled, the interrupt runs on a
// goroutine started by AfterFunc, and the caller's Write usually wins: the POST reaches the
// server, and the caller still gets context.Canceled.
func TestRegressionPreCancelledRequestNotSent(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			mu.Lock()
			posts++
			mu.Unlock()
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := NewSession(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := 0
	for i := 0; i < 20; i++ {
		resp, err := s.Get(context.Background(), srv.URL) // an idle connection for the POST
		if err != nil {
			t.Fatal(err)
		}
		resp.Bytes()
		resp.Close()
		if resp, err := s.Post(ctx, srv.URL, JSON(map[string]int{"charge": 100})); err == nil {
			resp.Close()
		} else {
			errs++
		}
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("20 POSTs with an already-cancelled ctx: %d returned an error, %d reached the server", errs, posts)
	if posts > 0 {
		t.Errorf("%d POSTs made with an already-cancelled ctx reached the server", posts)
	}
}
