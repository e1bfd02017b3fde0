package aiohttp

// Regression tests for defects found in review; each comment names what used to go wrong.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// When the caller's body reader fails (or a body is shorter than its Content-Length), the head
// read is aborted at once and the reader's error is returned as *BodySourceError. It once waited
// for a Total timeout and lost the reader's error.
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

// One Connect budget covers the pool wait, DNS, every dial attempt and TLS (DESIGN: one phase).
// It once restarted after the pool wait.
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

// Framing headers and Host are refused as session defaults. They were once sent verbatim on the
// fast path (a GET announcing a body it never sends) and refused when any option was given.
func TestRegressionSessionFramingHeadersRefused(t *testing.T) {
	for _, k := range []string{"Content-Length", "content-length", "Transfer-Encoding", "Host"} {
		_, err := NewSession(Config{Header: http.Header{k: {"5"}}})
		var he *InvalidHeaderError
		if !errors.As(err, &he) {
			t.Errorf("session default %s: want *InvalidHeaderError, got %v", k, err)
		}
	}
}

// A response with a valid status line but broken framing is an error, never a reason for the
// stale-connection retry (DESIGN: retry only before a valid status line). It once was resent.
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

// Bytes does not trust a large Content-Length up front: a 5-byte body declared as 16 MB once
// allocated 16 MiB.
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
	blocked chan struct{} // closed when Read starts blocking
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if !r.first {
		r.first = true
		return copy(p, "abc"), nil
	}
	close(r.blocked)
	<-r.release
	return 0, io.EOF
}

// An early response (a 413 with Connection: close) returns while the body writer is blocked in a
// caller's reader that is not an io.Closer; the connection stays counted and is released by the
// writer when the reader returns. Close once waited for the reader, past Total.
func TestRegressionFinishDoesNotWaitForBodyReader(t *testing.T) {
	br := &blockingReader{blocked: make(chan struct{}), release: make(chan struct{})}
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		c.R.ReadString('\n')
		<-br.blocked // answer once the body writer is stuck in the caller's reader
		c.Send("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	})
	s, err := NewSession(Config{Timeout: Timeout{Total: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

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

// A request whose ctx is already cancelled is never written, even on an idle connection. The
// interrupt runs on AfterFunc's goroutine, and the caller's Write once won the race.
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

// slowSeeker is a mutex-guarded io.ReadSeeker (not an io.Closer) that yields 1 KiB per Read after
// a short sleep. It counts overlapping calls: two goroutines reading it at once.
type slowSeeker struct {
	mu       sync.Mutex
	data     []byte
	off      int
	inside   int
	overlaps int
}

func (s *slowSeeker) Read(p []byte) (int, error) {
	s.mu.Lock()
	s.inside++
	if s.inside > 1 {
		s.overlaps++
	}
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inside--
	if s.off >= len(s.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1024)], s.data[s.off:])
	s.off += n
	return n, nil
}

func (s *slowSeeker) Seek(off int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch whence {
	case io.SeekStart:
		s.off = int(off)
	case io.SeekCurrent:
		s.off += int(off)
	}
	return int64(s.off), nil
}

// A 307 that arrives while a streaming body is still being sent: the next hop's rewind waits
// for the old writer, so two writers never read one body. The redirected request once carried a
// corrupted (shorter) body.
func TestRegressionRedirectRewindWaitsForOldWriter(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB
	got := make(chan []byte, 1)
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		req, err := http.ReadRequest(c.R) // head only
		if err != nil {
			return
		}
		if req.URL.Path == "/start" {
			_ = c.Send("HTTP/1.1 307 Temporary Redirect\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n")
			_, _ = io.Copy(io.Discard, c.R) // until the client closes
			return
		}
		b, _ := io.ReadAll(req.Body)
		got <- b
		_ = c.Send(rawserver.Response(200, "ok"))
	})
	s := tlSession(t, Config{})
	src := &slowSeeker{data: data}
	resp, err := s.Post(context.Background(), srv.URL+"/start", Body(src), Header{"Idempotency-Key": {"k"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Close()
	requireWholeBody(t, "redirected body", <-got, data, src)
}

// The same on the stale-connection retry: a PUT on a reused connection that the server drops
// without answering is resent whole, with no overlapping reads of the body.
func TestRegressionStaleRetryRewindWaitsForOldWriter(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16)
	got := make(chan []byte, 1)
	var firstPut atomic.Bool
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := http.ReadRequest(c.R)
			if err != nil {
				return
			}
			if req.Method == "GET" {
				_, _ = io.Copy(io.Discard, req.Body)
				_ = c.Send(rawserver.Response(200, "ok"))
				continue
			}
			if firstPut.CompareAndSwap(false, true) {
				return // drop the reused connection without a byte of response
			}
			b, _ := io.ReadAll(req.Body)
			got <- b
			_ = c.Send(rawserver.Response(200, "ok"))
			return
		}
	})
	s := tlSession(t, Config{})
	if err := getText(context.Background(), s, srv.URL+"/warm"); err != nil {
		t.Fatal(err)
	}
	src := &slowSeeker{data: data}
	resp, err := s.Put(context.Background(), srv.URL+"/up", Body(src))
	if err != nil {
		t.Fatal(err)
	}
	resp.Close()
	requireWholeBody(t, "retried body", <-got, data, src)
}

// requireWholeBody checks that the server got the whole body and that no two reads of the
// source overlapped.
func requireWholeBody(t *testing.T, what string, got, want []byte, src *slowSeeker) {
	t.Helper()
	src.mu.Lock()
	overlaps := src.overlaps
	src.mu.Unlock()
	if overlaps > 0 || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes received, want %d (equal=%v); overlapping reads of the source: %d",
			what, len(got), len(want), bytes.Equal(got, want), overlaps)
	}
}

// A connection handed to a waiter that left is requeued with its age and still expires: requeue
// once forgot the expiry timer.
func TestRegressionRequeuedConnectionExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := pipeSession(t, ConnectorConfig{IdleTimeout: 2 * time.Second}, Timeout{})
		if err := getText(t.Context(), s, "http://10.0.0.1/"); err != nil {
			t.Fatal(err)
		}
		c := s.Connector()
		c.mu.Lock()
		pc := c.popIdleLocked(c.hosts[poolKey{"http", "10.0.0.1:80"}]) // as dispatchLocked does for a waiter
		c.mu.Unlock()
		time.Sleep(3 * time.Second) // the janitor fires with nothing idle and is not re-armed
		synctest.Wait()
		c.requeue(pc) // the waiter's ctx fired at the moment of the grant (wait's tail)
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := c.Stats(); st.Open != 0 {
			t.Fatalf("requeued connection still open a minute past IdleTimeout (2s): %+v", st)
		}
	})
}

// Each acquisition gets its own Connect budget: the stale retry's dial once found the budget
// spent by the first attempt's exchange and failed with a connect timeout.
func TestRegressionConnectBudgetPerAcquisition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var conns atomic.Int32
		s, err := NewSession(Config{Timeout: Timeout{Connect: 5 * time.Second},
			ConnectorConfig: ConnectorConfig{LimitPerHost: 1, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				if err := ctx.Err(); err != nil {
					return nil, err // as a real dialer does
				}
				client, server := net.Pipe()
				first := conns.Add(1) == 1
				go func() {
					defer server.Close()
					br := bufio.NewReader(server)
					for {
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						io.Copy(io.Discard, req.Body)
						if req.URL.Path == "/flaky" && first {
							time.Sleep(6 * time.Second)
							return // hang up without a response: a stale-connection failure
						}
						io.WriteString(server, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					}
				}()
				return client, nil
			}}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		hold, err := s.Get(t.Context(), "http://10.0.0.1/")
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(time.Second, func() { hold.Bytes(); hold.Close() })
		// Waits 1 s in the pool (the connect phase starts), gets the idle connection, which the
		// server drops after 6 s: the retry on a fresh connection should succeed.
		err = getText(t.Context(), s, "http://10.0.0.1/flaky")
		if err != nil {
			t.Fatalf("stale retry failed: %v (dials: %d)", err, conns.Load())
		}
	})
}

// A request cancelled after acquire handed it an idle connection, before a byte was sent, gives
// the connection back to the pool (DESIGN); it was once closed.
func TestRegressionCancelledBeforeSendKeepsConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := pipeSession(t, ConnectorConfig{}, Timeout{})
		if err := getText(t.Context(), s, "http://10.0.0.1/"); err != nil {
			t.Fatal(err)
		}
		r, err := s.prepare("GET", "http://10.0.0.1/", &requestBuilder{maxRedirects: -1, raise: -1})
		if err != nil {
			t.Fatal(err)
		}
		dl := newDeadlines(Timeout{}, time.Now())
		ctx, cancel := context.WithCancel(t.Context())
		pc, reused, err := s.conn.acquire(ctx, r.key, acquireOpts{dl: &dl})
		if err != nil || !reused {
			t.Fatal(err, reused)
		}
		cancel()
		_, _, err = s.exchange(ctx, pc, r, &dl)
		if !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := s.Connector().Stats(); st.Open == 0 {
			t.Fatalf("the idle connection was closed: %+v", st)
		}
	})
}
