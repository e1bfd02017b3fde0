//go:build linux

// Pool tests: the Connector's limits, reuse, waiters, idle expiry, the reuse check, the
// stale-connection retry, Stats, and our DNS + happy-eyeballs dialing, all against real servers
// on loopback (internal/rawserver for exact control). The file is Linux-only because it listens
// on 127.0.0.2 and 127.0.0.3, peeks sockets with MSG_PEEK and builds a loopback black hole with a
// full accept queue.
//
// Every identifier here starts with "pool" so other test files of the package cannot collide.

package aiohttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/rawserver"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------------------------
// Helpers

// poolGauge counts something current and remembers the maximum it reached.
type poolGauge struct{ cur, max atomic.Int64 }

func (g *poolGauge) inc() {
	n := g.cur.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *poolGauge) dec() { g.cur.Add(-1) }

// poolKeepAlive returns a handler that answers every request of a connection with 200 and body
// after delay, until the client closes the connection. inflight, when set, counts requests being
// handled (read and not yet answered), which is never more than the client's connections in use.
func poolKeepAlive(delay time.Duration, body string, inflight *poolGauge) rawserver.Handler {
	return func(c *rawserver.Conn) {
		for {
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			if inflight != nil {
				inflight.inc()
			}
			if delay > 0 {
				time.Sleep(delay)
			}
			if inflight != nil {
				inflight.dec()
			}
			if c.Send(rawserver.Response(200, body)) != nil {
				return
			}
		}
	}
}

// poolSession makes a session closed by the test's cleanup (before the servers started earlier,
// since cleanups run last-in first-out).
func poolSession(t *testing.T, cfg Config) *Session {
	t.Helper()
	s, err := NewSession(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// poolFetch does one request, reads the body to EOF and closes the response.
func poolFetch(ctx context.Context, s *Session, method, url string, opts ...RequestOption) (string, error) {
	resp, err := s.Request(ctx, method, url, opts...)
	if err != nil {
		return "", err
	}
	defer resp.Close()
	b, err := io.ReadAll(resp)
	if err != nil {
		return "", err
	}
	if resp.Status != 200 {
		return string(b), fmt.Errorf("status %d", resp.Status)
	}
	return string(b), nil
}

// poolEventually polls cond until it holds, failing the test after 5 s.
func poolEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// poolPeerClosed reports whether the client end of an accepted connection is gone: a
// non-blocking MSG_PEEK reads EOF or a reset. A pending request (bytes) or nothing means open.
func poolPeerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	cerr := rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil && n == 0:
			closed = true // EOF
		case err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK:
			closed = true // reset
		}
	})
	return cerr != nil || closed
}

// poolOpenTracker counts the connections the clients hold open across any number of servers,
// without the lag of waiting for each handler to notice EOF: when a connection is accepted, the
// others are peeked, and those whose client end is closed are dropped first. A client closes a
// connection (evicting it) before dialing the next one, so its FIN is already queued on loopback
// when the new connection is accepted.
type poolOpenTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]string
	max   int
	worst []string // the connections open at the maximum
}

func (ot *poolOpenTracker) opened(c net.Conn) {
	ot.mu.Lock()
	defer ot.mu.Unlock()
	if ot.conns == nil {
		ot.conns = map[net.Conn]string{}
	}
	for o := range ot.conns {
		if poolPeerClosed(o) {
			delete(ot.conns, o)
		}
	}
	ot.conns[c] = c.LocalAddr().String() + "<-" + c.RemoteAddr().String()
	if len(ot.conns) > ot.max {
		ot.max = len(ot.conns)
		ot.worst = ot.worst[:0]
		for _, s := range ot.conns {
			ot.worst = append(ot.worst, s)
		}
	}
}

func (ot *poolOpenTracker) closed(c net.Conn) {
	ot.mu.Lock()
	delete(ot.conns, c)
	ot.mu.Unlock()
}

// poolResolver is a real name-to-address table for ConnectorConfig.Resolver (test data): it
// answers names in hosts, else "no such host", after delay, and counts its look-ups.
type poolResolver struct {
	hosts map[string][]netip.Addr
	delay time.Duration
	calls atomic.Int64
}

func (r *poolResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.calls.Add(1)
	if r.delay > 0 {
		t := time.NewTimer(r.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	addrs, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// poolBlackhole listens on ip:port with an accept queue that is already full, so further
// connection attempts get no answer at all (Linux drops their SYNs). It skips the test when the
// address cannot be bound or the queue does not fill.
func poolBlackhole(t *testing.T, ip string, port string) string {
	t.Helper()
	addr := net.JoinHostPort(ip, port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s for a black hole: %v", addr, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	rc, err := ln.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	var lerr error
	require.NoError(t, rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), 0) }))
	require.NoError(t, lerr)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			if isTimeout(err) {
				return addr // the queue is full: the next attempts hang
			}
			t.Skipf("black hole %s: %v", addr, err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Skipf("the accept queue of %s does not fill; no black hole on this system", addr)
	return ""
}

// ---------------------------------------------------------------------------------------------
// 1. LimitPerHost

func TestPoolLimitPerHost(t *testing.T) {
	var inflight poolGauge
	srv := rawserver.Start(t, poolKeepAlive(20*time.Millisecond, "ok", &inflight))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{LimitPerHost: 4}})
	c := s.Connector()

	var maxOpen atomic.Int64 // the pool's own count, sampled by the requests
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			body, err := poolFetch(context.Background(), s, "GET", srv.URL+"/")
			if err == nil && body != "ok" {
				err = fmt.Errorf("body %q", body)
			}
			if o := int64(c.Stats().Open); o > maxOpen.Load() {
				maxOpen.Store(o)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	st := c.Stats()
	require.LessOrEqual(t, srv.MaxOpen(), 4, "connections open at once at the server")
	require.LessOrEqual(t, srv.Accepted(), 4, "connections accepted")
	require.LessOrEqual(t, inflight.max.Load(), int64(4), "requests handled at once")
	require.LessOrEqual(t, maxOpen.Load(), int64(4), "Stats().Open")
	require.Equal(t, 64, srv.Requests())
	require.LessOrEqual(t, st.Dials, uint64(4), "Stats().Dials")
	require.GreaterOrEqual(t, st.Dials, uint64(1))
	require.Equal(t, uint64(64), st.Dials+st.Reuses, "every request dialed or reused: %+v", st)
	require.Equal(t, 0, st.Waiters)
	require.Equal(t, 0, st.InUse)
}

// ---------------------------------------------------------------------------------------------
// 2. Limit across hosts, with eviction of other keys' idle connections

func TestPoolLimitAcrossHosts(t *testing.T) {
	var tracker poolOpenTracker
	var inflight poolGauge
	serve := poolKeepAlive(2*time.Millisecond, "ok", &inflight)
	h := func(c *rawserver.Conn) {
		tracker.opened(c.Conn)
		defer tracker.closed(c.Conn)
		serve(c)
	}
	var srvs []*rawserver.Server
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		srvs = append(srvs, rawserver.StartOn(t, ip+":0", h))
	}
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 3}})
	c := s.Connector()

	const workers, each = 24, 10
	var wg sync.WaitGroup
	var maxOpen atomic.Int64
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for j := range each {
				srv := srvs[(w+j)%len(srvs)]
				body, err := poolFetch(context.Background(), s, "GET", srv.URL+"/")
				if err == nil && body != "ok" {
					err = fmt.Errorf("body %q", body)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", srv.Addr, err)
				}
				if o := int64(c.Stats().Open); o > maxOpen.Load() {
					maxOpen.Store(o)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	total := 0
	for _, srv := range srvs {
		total += srv.Requests()
	}
	st := c.Stats()
	tracker.mu.Lock()
	maxConns, worst := tracker.max, tracker.worst
	tracker.mu.Unlock()
	t.Logf("stats %+v; accepted %d/%d/%d", st, srvs[0].Accepted(), srvs[1].Accepted(), srvs[2].Accepted())
	require.Equal(t, workers*each, total, "requests seen by the servers")
	require.LessOrEqual(t, inflight.max.Load(), int64(3), "requests handled at once over all servers")
	require.LessOrEqual(t, maxConns, 3, "connections open at once over all servers: %v", worst)
	require.LessOrEqual(t, maxOpen.Load(), int64(3), "Stats().Open")
	require.LessOrEqual(t, st.Open, 3)
	require.Equal(t, 0, st.Waiters)
	require.Equal(t, uint64(workers*each), st.Dials+st.Reuses)
}

// ---------------------------------------------------------------------------------------------
// 3. Sequential requests share one connection

func TestPoolSequentialReuse(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "hello", nil))
	s := poolSession(t, Config{})
	for i := range 100 {
		resp, err := s.Get(context.Background(), srv.URL+"/"+strconv.Itoa(i))
		require.NoError(t, err)
		if i%2 == 0 { // read to EOF; odd ones are closed unread (a small remainder is drained)
			b, err := io.ReadAll(resp)
			require.NoError(t, err)
			require.Equal(t, "hello", string(b))
		}
		require.NoError(t, resp.Close())
	}
	st := s.Connector().Stats()
	require.Equal(t, 1, srv.Accepted(), "connections accepted")
	require.Equal(t, 100, srv.Requests())
	require.Equal(t, uint64(1), st.Dials)
	require.Equal(t, uint64(99), st.Reuses)
	require.Equal(t, 1, st.Idle)
}

// ---------------------------------------------------------------------------------------------
// 4. EOF releases the connection without Close

func TestPoolEOFReleases(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, strings.Repeat("b", 5000), nil))
	s := poolSession(t, Config{})
	c := s.Connector()
	resp, err := s.Get(context.Background(), srv.URL+"/")
	require.NoError(t, err)
	defer resp.Close()
	st := c.Stats()
	require.Equal(t, 1, st.InUse, "%+v", st)
	require.Equal(t, 0, st.Idle)

	b, err := io.ReadAll(resp)
	require.NoError(t, err)
	require.Len(t, b, 5000)
	st = c.Stats()
	require.Equal(t, 1, st.Idle, "after EOF, before Close: %+v", st)
	require.Equal(t, 0, st.InUse)
	require.Equal(t, 1, st.Open)

	require.NoError(t, resp.Close())
	st = c.Stats()
	require.Equal(t, 1, st.Idle, "after Close: %+v", st)
	require.Equal(t, 0, st.InUse)
	require.Equal(t, 1, st.Open)
}

// ---------------------------------------------------------------------------------------------
// 5. A waiter's ctx cancellation

func TestPoolWaiterCancel(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "body", nil))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 1}})
	c := s.Connector()

	first, err := s.Get(context.Background(), srv.URL+"/1") // body unread: holds the only slot
	require.NoError(t, err)
	defer first.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		resp, err := s.Get(ctx, srv.URL+"/2")
		if resp != nil {
			resp.Close()
		}
		done <- err
	}()
	poolEventually(t, "the second request to wait", func() bool { return c.Stats().Waiters == 1 })
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the cancelled waiter did not return")
	}
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrClient)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	var te *TimeoutError
	require.False(t, errors.As(err, &te), "a cancellation is not a timeout: %v", err)
	st := c.Stats()
	require.Equal(t, 0, st.Waiters, "%+v", st)
	require.Equal(t, 1, st.InUse)

	require.NoError(t, first.Close())
	body, err := poolFetch(context.Background(), s, "GET", srv.URL+"/3")
	require.NoError(t, err)
	require.Equal(t, "body", body)
	st = c.Stats()
	require.Equal(t, 1, srv.Accepted())
	require.Equal(t, uint64(1), st.Dials, "%+v", st)
	require.Equal(t, uint64(1), st.Reuses)
	require.Equal(t, 2, srv.Requests(), "the cancelled request never reached the server")
}

// ---------------------------------------------------------------------------------------------
// 6. Connect timeout while waiting for a slot

func TestPoolWaitConnectTimeout(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "body", nil))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 1}})
	c := s.Connector()

	first, err := s.Get(context.Background(), srv.URL+"/1")
	require.NoError(t, err)
	defer first.Close()

	before := c.Stats().Timeouts
	resp, err := s.Get(context.Background(), srv.URL+"/2", Timeout{Connect: 100 * time.Millisecond})
	require.Nil(t, resp)
	require.Error(t, err)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	require.Equal(t, PhaseConnect, te.Phase)
	require.Equal(t, 100*time.Millisecond, te.Duration)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, ErrClient)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
	st := c.Stats()
	require.Equal(t, before+1, st.Timeouts, "%+v", st)
	require.Equal(t, 0, st.Waiters)

	require.NoError(t, first.Close())
	_, err = poolFetch(context.Background(), s, "GET", srv.URL+"/3")
	require.NoError(t, err)
	require.Equal(t, 1, srv.Accepted())
}

// ---------------------------------------------------------------------------------------------
// 7. Idle expiry

func TestPoolIdleExpiry(t *testing.T) {
	ended := make(chan error, 4)
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			if _, err := c.ReadRequest(); err != nil {
				ended <- err
				return
			}
			if c.Send(rawserver.Response(200, "ok")) != nil {
				return
			}
		}
	})
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{IdleTimeout: 100 * time.Millisecond}})
	c := s.Connector()
	_, err := poolFetch(context.Background(), s, "GET", srv.URL+"/")
	require.NoError(t, err)
	require.Equal(t, 1, c.Stats().Idle)

	time.Sleep(400 * time.Millisecond)
	poolEventually(t, "the idle connection to expire", func() bool { return c.Stats().Open == 0 })
	select {
	case err := <-ended:
		require.ErrorIs(t, err, io.EOF, "the server sees the client close the connection")
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the idle connection close")
	}
	st := c.Stats()
	require.Empty(t, st.Hosts, "an empty host entry is dropped")

	// The next request dials a new connection.
	_, err = poolFetch(context.Background(), s, "GET", srv.URL+"/")
	require.NoError(t, err)
	require.Equal(t, 2, srv.Accepted())
	require.Equal(t, uint64(2), c.Stats().Dials)
}

// ---------------------------------------------------------------------------------------------
// 8. ForceClose

func TestPoolForceClose(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "ok", nil))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{ForceClose: true}})
	c := s.Connector()
	for i := range 5 {
		resp, err := s.Get(context.Background(), srv.URL+"/")
		require.NoError(t, err)
		if i%2 == 0 {
			_, err = io.ReadAll(resp)
			require.NoError(t, err)
		}
		require.NoError(t, resp.Close())
		st := c.Stats()
		require.Equal(t, 0, st.Open, "after request %d: %+v", i, st)
	}
	st := c.Stats()
	require.Equal(t, 5, srv.Accepted())
	require.Equal(t, uint64(5), st.Dials)
	require.Equal(t, uint64(0), st.Reuses)
}

// ---------------------------------------------------------------------------------------------
// 9. Unread body bytes and Close

func TestPoolCloseUnreadBody(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	small := strings.Repeat("s", 100)
	partial := strings.Repeat("p", 200)
	var chunked strings.Builder
	chunked.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
	for range 64 {
		chunked.WriteString("4000\r\n" + strings.Repeat("c", 0x4000) + "\r\n")
	}
	chunked.WriteString("0\r\n\r\n")
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			var out string
			switch req.URL.Path {
			case "/big":
				out = rawserver.Response(200, big)
			case "/bigchunked":
				out = chunked.String()
			case "/partial":
				out = rawserver.Response(200, partial)
			default:
				out = rawserver.Response(200, small)
			}
			if c.Send(out) != nil {
				return
			}
		}
	})
	s := poolSession(t, Config{})
	c := s.Connector()
	ctx := context.Background()

	// A small unread body: drained on Close, the connection is kept.
	resp, err := s.Get(ctx, srv.URL+"/small")
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	st := c.Stats()
	require.Equal(t, 1, st.Idle, "100 unread bytes are drained and the connection kept: %+v", st)
	require.Equal(t, uint64(1), st.Dials)

	// A remainder of 100 bytes after reading half the body: kept as well, no new dial.
	resp, err = s.Get(ctx, srv.URL+"/partial")
	require.NoError(t, err)
	half := make([]byte, 100)
	_, err = io.ReadFull(resp, half)
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	st = c.Stats()
	require.Equal(t, uint64(1), st.Dials, "%+v", st)
	require.Equal(t, uint64(1), st.Reuses)
	require.Equal(t, 1, st.Idle)

	// 1 MiB unread: the socket is closed, the next request dials anew.
	for i, path := range []string{"/big", "/bigchunked"} {
		resp, err = s.Get(ctx, srv.URL+path)
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		st = c.Stats()
		require.Equal(t, 0, st.Open, "%s: a connection with unread bytes is never pooled: %+v", path, st)
		body, err := poolFetch(ctx, s, "GET", srv.URL+"/small")
		require.NoError(t, err)
		require.Equal(t, small, body)
		st = c.Stats()
		require.Equal(t, uint64(2+i), st.Dials, "%s: the next request dials: %+v", path, st)
		require.Equal(t, 2+i, srv.Accepted())
	}
}

// ---------------------------------------------------------------------------------------------
// 10. A connector shared by sessions

func TestPoolSharedConnector(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "ok", nil))
	ctx := context.Background()

	conn, err := NewConnector(ConnectorConfig{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	s1 := poolSession(t, Config{Connector: conn})
	s2 := poolSession(t, Config{Connector: conn})
	_, err = poolFetch(ctx, s1, "GET", srv.URL+"/")
	require.NoError(t, err)
	require.NoError(t, s1.Close())
	_, err = s1.Get(ctx, srv.URL+"/")
	require.ErrorIs(t, err, ErrSessionClosed, "the closed session refuses requests")
	require.ErrorIs(t, err, ErrClient)
	_, err = poolFetch(ctx, s2, "GET", srv.URL+"/")
	require.NoError(t, err, "a session that does not own the connector leaves it open")
	require.Equal(t, uint64(1), conn.Stats().Reuses, "the idle connection survived s1.Close")

	owner := poolSession(t, Config{})
	guest := poolSession(t, Config{Connector: owner.Connector()})
	_, err = poolFetch(ctx, guest, "GET", srv.URL+"/")
	require.NoError(t, err)
	require.NoError(t, owner.Close())
	resp, err := guest.Get(ctx, srv.URL+"/")
	require.Nil(t, resp)
	require.ErrorIs(t, err, ErrSessionClosed, "the owner closed the connector")
	require.ErrorIs(t, err, ErrClient)
	require.Equal(t, 0, owner.Connector().Stats().Open, "Close closed the idle connection")
}

// ---------------------------------------------------------------------------------------------
// 11. Server-closed keep-alive connections and the stale-connection retry

func TestPoolServerClosedIdle(t *testing.T) {
	var gets, posts atomic.Int64
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		if req.Method == "POST" {
			posts.Add(1)
		} else {
			gets.Add(1)
		}
		_ = c.Send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")
		time.Sleep(50 * time.Millisecond) // then close the idle connection
	})
	s := poolSession(t, Config{})
	ctx := context.Background()

	body, err := poolFetch(ctx, s, "GET", srv.URL+"/1")
	require.NoError(t, err)
	require.Equal(t, "ok", body)

	time.Sleep(200 * time.Millisecond)
	body, err = poolFetch(ctx, s, "GET", srv.URL+"/2")
	require.NoError(t, err, "the peek or the stale retry covers a GET")
	require.Equal(t, "ok", body)
	require.Equal(t, int64(2), gets.Load())

	time.Sleep(200 * time.Millisecond)
	body, err = poolFetch(ctx, s, "POST", srv.URL+"/3", Body(strings.NewReader("payload")))
	require.NoError(t, err, "a POST is never sent on a connection the server closed")
	require.Equal(t, "ok", body)
	require.Equal(t, int64(1), posts.Load(), "the POST was sent once")
	require.Equal(t, 3, srv.Accepted())
}

func TestPoolStaleRetry(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{} // "METHOD /path" -> bodies received
	// Every connection answers its first request and closes on reading its second, unanswered.
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for i := 0; ; i++ {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			k := req.Method + " " + req.URL.Path
			mu.Lock()
			seen[k] = append(seen[k], string(req.Body))
			mu.Unlock()
			if i == 1 {
				return
			}
			if c.Send(rawserver.Response(200, "ok")) != nil {
				return
			}
		}
	})
	count := func(k string) int {
		mu.Lock()
		defer mu.Unlock()
		return len(seen[k])
	}
	s := poolSession(t, Config{})
	c := s.Connector()
	ctx := context.Background()

	_, err := poolFetch(ctx, s, "GET", srv.URL+"/a")
	require.NoError(t, err)

	// GET on the reused connection: the server reads it and closes; retried once, fresh.
	body, err := poolFetch(ctx, s, "GET", srv.URL+"/b")
	require.NoError(t, err, "a GET is retried on a fresh connection")
	require.Equal(t, "ok", body)
	require.Equal(t, 2, count("GET /b"))
	require.Equal(t, 2, srv.Accepted())

	// POST without Idempotency-Key on the reused connection: not retried.
	resp, err := s.Post(ctx, srv.URL+"/c", Body(strings.NewReader("post-c")))
	require.Nil(t, resp)
	require.Error(t, err)
	require.ErrorIs(t, err, ErrServerDisconnected)
	require.ErrorIs(t, err, ErrClient)
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	require.NotEmpty(t, sd.Reason, "the error says why it was not retried")
	require.Equal(t, 1, count("POST /c"), "the POST was sent exactly once")
	require.Equal(t, 2, srv.Accepted(), "no new connection for the POST")
	require.Equal(t, 0, c.Stats().Open, "the dead connection is closed")

	// POST with Idempotency-Key on a reused connection: retried, the body sent again in full.
	_, err = poolFetch(ctx, s, "GET", srv.URL+"/d")
	require.NoError(t, err)
	body, err = poolFetch(ctx, s, "POST", srv.URL+"/e", Body(strings.NewReader("post-e")),
		Header{"Idempotency-Key": {"key-1"}})
	require.NoError(t, err, "a POST with Idempotency-Key is retried")
	require.Equal(t, "ok", body)
	mu.Lock()
	require.Equal(t, []string{"post-e", "post-e"}, seen["POST /e"])
	mu.Unlock()
	require.Equal(t, 4, srv.Accepted())

	// POST with Idempotency-Key whose body cannot be rewound: not retried.
	_, err = poolFetch(ctx, s, "GET", srv.URL+"/f")
	require.NoError(t, err)
	resp, err = s.Post(ctx, srv.URL+"/g", Body(struct{ io.Reader }{strings.NewReader("post-g")}),
		Header{"Idempotency-Key": {"key-2"}})
	require.Nil(t, resp)
	require.ErrorIs(t, err, ErrServerDisconnected)
	require.Equal(t, 1, count("POST /g"), "a body that cannot be rewound is sent once")
	require.Equal(t, 5, srv.Accepted())
}

// Stray bytes left after a response (here: arriving after it, so the connection went idle
// cleanly) are read as the next status line; the design retries such a request once on a fresh
// connection when it is replayable.
func TestPoolStaleRetryStrayBytes(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			if c.Send(rawserver.Response(200, "ok")) != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
			if c.Send("garbage after the body\r\n") != nil {
				return
			}
		}
	})
	s := poolSession(t, Config{})
	ctx := context.Background()
	_, err := poolFetch(ctx, s, "GET", srv.URL+"/1")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // the stray bytes are in the socket now
	body, err := poolFetch(ctx, s, "GET", srv.URL+"/2")
	require.NoError(t, err, "stray bytes on a reused connection: a GET is retried on a fresh one")
	require.Equal(t, "ok", body)
	require.Equal(t, 2, srv.Accepted())
}

// ---------------------------------------------------------------------------------------------
// 12. Stats per host

func TestPoolStatsPerHost(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "abc", nil))
	s := poolSession(t, Config{})
	c := s.Connector()
	key := "http://" + srv.Addr
	require.True(t, strings.HasPrefix(key, "http://127.0.0.1:"))

	require.Empty(t, c.Stats().Hosts)
	resp, err := s.Get(context.Background(), srv.URL+"/")
	require.NoError(t, err)
	defer resp.Close()
	st := c.Stats()
	require.Equal(t, map[string]HostStats{key: {Open: 1, InUse: 1}}, st.Hosts, "during the request")
	require.Equal(t, HostStats{Open: 1, InUse: 1}, st.HostStats)

	_, err = io.ReadAll(resp)
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	st = c.Stats()
	require.Equal(t, map[string]HostStats{key: {Open: 1, Idle: 1}}, st.Hosts, "after the request")
	require.Equal(t, HostStats{Open: 1, Idle: 1}, st.HostStats)
	require.Equal(t, uint64(1), st.Dials)
	require.Equal(t, uint64(0), st.Reuses)

	// A second host gets its own entry.
	srv2 := rawserver.StartOn(t, "127.0.0.2:0", poolKeepAlive(0, "abc", nil))
	resp2, err := s.Get(context.Background(), srv2.URL+"/")
	require.NoError(t, err)
	defer resp2.Close()
	st = c.Stats()
	require.Equal(t, map[string]HostStats{
		key:                   {Open: 1, Idle: 1},
		"http://" + srv2.Addr: {Open: 1, InUse: 1},
	}, st.Hosts)
	require.Equal(t, HostStats{Open: 2, Idle: 1, InUse: 1}, st.HostStats)
	require.NoError(t, resp2.Close())

	require.NoError(t, s.Close())
	st = c.Stats()
	require.Empty(t, st.Hosts, "Close closed the idle connections")
	require.Equal(t, 0, st.Open)
}

// ---------------------------------------------------------------------------------------------
// 13. DNS and happy eyeballs

func TestPoolHappyEyeballsRefusedFirst(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "ok", nil))
	_, port, _ := net.SplitHostPort(srv.Addr)
	r := &poolResolver{hosts: map[string][]netip.Addr{
		// Nothing listens on 127.0.0.9 (refused at once) nor on ::1 (refused, or unreachable
		// without IPv6); the server is on 127.0.0.1.
		"multi.test": {netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.1")},
		"mixed.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}}
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r}})
	c := s.Connector()
	for _, host := range []string{"multi.test", "mixed.test"} {
		for range 3 {
			body, err := poolFetch(context.Background(), s, "GET", "http://"+host+":"+port+"/")
			require.NoError(t, err, host)
			require.Equal(t, "ok", body)
		}
		require.Contains(t, c.Stats().Hosts, "http://"+host+":"+port)
	}
	require.Equal(t, int64(2), r.calls.Load(), "one look-up per host")
	require.Equal(t, 2, srv.Accepted(), "one connection per host, reused")
}

func TestPoolHappyEyeballsBlackhole(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "ok", nil))
	_, port, _ := net.SplitHostPort(srv.Addr)
	hole := poolBlackhole(t, "127.0.0.10", port)
	hole2 := poolBlackhole(t, "127.0.0.11", port)
	r := &poolResolver{hosts: map[string][]netip.Addr{
		"slow.test":  {netip.MustParseAddr("127.0.0.10"), netip.MustParseAddr("127.0.0.1")},
		"hole.test":  {netip.MustParseAddr("127.0.0.10")},
		"holes.test": {netip.MustParseAddr("127.0.0.10"), netip.MustParseAddr("127.0.0.11")},
	}}
	t.Logf("black holes at %s and %s", hole, hole2)
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r, HappyEyeballsDelay: 50 * time.Millisecond}})
	c := s.Connector()
	ctx := context.Background()

	// The first address never answers: the second is tried after HappyEyeballsDelay and wins;
	// the pending attempt is cancelled and joined (goleak checks it).
	body, err := poolFetch(ctx, s, "GET", "http://slow.test:"+port+"/")
	require.NoError(t, err)
	require.Equal(t, "ok", body)
	require.Equal(t, 1, srv.Accepted())

	// One address, SockConnect bounds the attempt.
	_, err = poolFetch(ctx, s, "GET", "http://hole.test:"+port+"/", Timeout{SockConnect: 100 * time.Millisecond})
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	require.Equal(t, PhaseSockConnect, te.Phase)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrClient)

	// Two addresses, each attempt bounded by SockConnect: both fail, sock_connect is reported.
	_, err = poolFetch(ctx, s, "GET", "http://holes.test:"+port+"/", Timeout{SockConnect: 100 * time.Millisecond})
	require.ErrorAs(t, err, &te)
	require.Equal(t, PhaseSockConnect, te.Phase)

	// Connect bounds all attempts.
	before := c.Stats().Timeouts
	_, err = poolFetch(ctx, s, "GET", "http://holes.test:"+port+"/", Timeout{Connect: 150 * time.Millisecond})
	require.ErrorAs(t, err, &te)
	require.Equal(t, PhaseConnect, te.Phase)
	require.Equal(t, 150*time.Millisecond, te.Duration)
	require.Equal(t, before+1, c.Stats().Timeouts)

	// The caller's own deadline is not our timeout.
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = poolFetch(dctx, s, "GET", "http://hole.test:"+port+"/")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, errors.As(err, &te), "the caller's deadline is reported as it is: %v", err)

	st := c.Stats()
	require.Equal(t, 0, st.Dialing, "%+v", st)
	require.Equal(t, 1, st.Open, "failed dials give their slots back: %+v", st)
}

func TestPoolDNSCache(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "ok", nil))
	_, port, _ := net.SplitHostPort(srv.Addr)
	hosts := map[string][]netip.Addr{
		"multi.test": {netip.MustParseAddr("127.0.0.9"), netip.MustParseAddr("127.0.0.1")},
	}
	url := "http://multi.test:" + port + "/"
	ctx := context.Background()

	t.Run("sequential", func(t *testing.T) {
		r := &poolResolver{hosts: hosts}
		s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r, ForceClose: true}})
		accepted := srv.Accepted()
		for range 20 {
			_, err := poolFetch(ctx, s, "GET", url)
			require.NoError(t, err)
		}
		require.Equal(t, uint64(20), s.Connector().Stats().Dials)
		require.Equal(t, accepted+20, srv.Accepted())
		require.Equal(t, int64(1), r.calls.Load(), "20 dials, one look-up")
	})

	t.Run("concurrent", func(t *testing.T) {
		r := &poolResolver{hosts: hosts, delay: 50 * time.Millisecond}
		s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r}})
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for range 10 {
			wg.Go(func() {
				_, err := poolFetch(ctx, s, "GET", url)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, int64(1), r.calls.Load(), "concurrent first requests share one look-up")
	})

	t.Run("no cache", func(t *testing.T) {
		r := &poolResolver{hosts: hosts}
		s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r, ForceClose: true, DNSCacheTTL: NoTimeout}})
		for range 3 {
			_, err := poolFetch(ctx, s, "GET", url)
			require.NoError(t, err)
		}
		require.Equal(t, int64(3), r.calls.Load(), "DNSCacheTTL NoTimeout looks up every time")
	})

	t.Run("failure not cached", func(t *testing.T) {
		r := &poolResolver{hosts: hosts}
		s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Resolver: r}})
		for i := range 2 {
			_, err := poolFetch(ctx, s, "GET", "http://nowhere.test:"+port+"/")
			require.ErrorIs(t, err, ErrConnector)
			require.ErrorIs(t, err, ErrClient)
			var ce *ConnectorError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "dns", ce.Op)
			require.Equal(t, "nowhere.test", ce.Addr)
			var de *net.DNSError
			require.ErrorAs(t, err, &de, "the resolver's error is wrapped")
			require.Equal(t, int64(i+1), r.calls.Load(), "a failure is not cached")
		}
		st := s.Connector().Stats()
		require.Equal(t, 0, st.Open, "%+v", st)
		require.Empty(t, st.Hosts)
	})
}

// ---------------------------------------------------------------------------------------------
// More connector semantics from the design: MRU reuse, LRU eviction across keys, FIFO waiters,
// a saturated key that does not block others, Close with waiters, Connection: close.

// poolNumbered answers every request with the number of its connection ("c1", "c2", ...).
func poolNumbered(ids *atomic.Int64) rawserver.Handler {
	return func(c *rawserver.Conn) {
		id := ids.Add(1)
		for {
			if _, err := c.ReadRequest(); err != nil {
				return
			}
			if c.Send(rawserver.Response(200, "c"+strconv.FormatInt(id, 10))) != nil {
				return
			}
		}
	}
}

func TestPoolReusesMostRecent(t *testing.T) {
	var ids atomic.Int64
	srv := rawserver.Start(t, poolNumbered(&ids))
	s := poolSession(t, Config{})
	ctx := context.Background()
	r1, err := s.Get(ctx, srv.URL+"/")
	require.NoError(t, err)
	defer r1.Close()
	r2, err := s.Get(ctx, srv.URL+"/") // r1 is in use: a second connection
	require.NoError(t, err)
	defer r2.Close()
	b1, err := io.ReadAll(r1) // released first: the older idle connection
	require.NoError(t, err)
	b2, err := io.ReadAll(r2) // released last: the most recently used
	require.NoError(t, err)
	require.Equal(t, "c1", string(b1))
	require.Equal(t, "c2", string(b2))
	for range 3 {
		body, err := poolFetch(ctx, s, "GET", srv.URL+"/")
		require.NoError(t, err)
		require.Equal(t, "c2", body, "the most recently used idle connection is taken")
	}
	require.Equal(t, 2, srv.Accepted())
}

func TestPoolEvictsLeastRecentlyUsedOtherKey(t *testing.T) {
	var srvs []*rawserver.Server
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		srvs = append(srvs, rawserver.StartOn(t, ip+":0", poolKeepAlive(0, "ok", nil)))
	}
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 2}})
	c := s.Connector()
	ctx := context.Background()
	for _, srv := range srvs[:2] {
		_, err := poolFetch(ctx, s, "GET", srv.URL+"/")
		require.NoError(t, err)
	}
	_, err := poolFetch(ctx, s, "GET", srvs[0].URL+"/") // A is now more recent than B
	require.NoError(t, err)
	_, err = poolFetch(ctx, s, "GET", srvs[2].URL+"/") // the total is full: B's idle one goes
	require.NoError(t, err)
	st := c.Stats()
	require.Equal(t, map[string]HostStats{
		"http://" + srvs[0].Addr: {Open: 1, Idle: 1},
		"http://" + srvs[2].Addr: {Open: 1, Idle: 1},
	}, st.Hosts, "the least recently used idle connection of another key is evicted")
	_, err = poolFetch(ctx, s, "GET", srvs[0].URL+"/")
	require.NoError(t, err)
	require.Equal(t, 1, srvs[0].Accepted(), "A's connection survived")
	require.Equal(t, uint64(3), c.Stats().Dials)
}

func TestPoolWaitersFIFO(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			mu.Lock()
			order = append(order, req.URL.Path)
			mu.Unlock()
			if c.Send(rawserver.Response(200, "ok")) != nil {
				return
			}
		}
	})
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 1}})
	c := s.Connector()
	ctx := context.Background()
	first, err := s.Get(ctx, srv.URL+"/0")
	require.NoError(t, err)
	defer first.Close()
	errs := make(chan error, 5)
	for i := 1; i <= 5; i++ {
		go func() {
			_, err := poolFetch(ctx, s, "GET", srv.URL+"/"+strconv.Itoa(i))
			errs <- err
		}()
		poolEventually(t, "waiter "+strconv.Itoa(i)+" to queue", func() bool { return c.Stats().Waiters == i })
	}
	require.NoError(t, first.Close())
	for range 5 {
		select {
		case err := <-errs:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("waiters were not served")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"/0", "/1", "/2", "/3", "/4", "/5"}, order, "waiters are served in FIFO order")
	require.Equal(t, 1, srv.Accepted())
}

func TestPoolSaturatedKeyDoesNotBlockOthers(t *testing.T) {
	srvA := rawserver.StartOn(t, "127.0.0.1:0", poolKeepAlive(0, "a", nil))
	srvB := rawserver.StartOn(t, "127.0.0.2:0", poolKeepAlive(0, "b", nil))
	srvC := rawserver.StartOn(t, "127.0.0.3:0", poolKeepAlive(0, "c", nil))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 2, LimitPerHost: 1}})
	c := s.Connector()
	ctx := context.Background()

	a1, err := s.Get(ctx, srvA.URL+"/")
	require.NoError(t, err)
	defer a1.Close()
	b1, err := s.Get(ctx, srvB.URL+"/")
	require.NoError(t, err)
	defer b1.Close()

	aDone := make(chan error, 1)
	go func() {
		_, err := poolFetch(ctx, s, "GET", srvA.URL+"/")
		aDone <- err
	}()
	poolEventually(t, "A's second request to wait", func() bool { return c.Stats().Waiters == 1 })
	cDone := make(chan error, 1)
	go func() {
		_, err := poolFetch(ctx, s, "GET", srvC.URL+"/")
		cDone <- err
	}()
	poolEventually(t, "C's request to wait", func() bool { return c.Stats().Waiters == 2 })

	// B's connection goes idle: A's waiter is first in line but its key is full, so C's waiter
	// gets the slot (evicting B's idle connection).
	_, err = io.ReadAll(b1)
	require.NoError(t, err)
	select {
	case err := <-cDone:
		require.NoError(t, err, "C's request")
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter of a saturated key blocked a waiter of another key")
	}
	st := c.Stats()
	require.Equal(t, 1, st.Waiters, "A's waiter still waits: %+v", st)
	require.NoError(t, a1.Close())
	select {
	case err := <-aDone:
		require.NoError(t, err, "A's second request")
	case <-time.After(5 * time.Second):
		t.Fatal("A's waiter was not served after A's connection was released")
	}
	require.Equal(t, 1, srvA.Accepted(), "A's second request reused A's connection")
	require.Equal(t, 0, c.Stats().Waiters)
}

func TestPoolCloseWithWaiters(t *testing.T) {
	srv := rawserver.Start(t, poolKeepAlive(0, "held", nil))
	s := poolSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 1}})
	c := s.Connector()
	ctx := context.Background()
	held, err := s.Get(ctx, srv.URL+"/")
	require.NoError(t, err)
	defer held.Close()
	done := make(chan error, 1)
	go func() {
		resp, err := s.Get(ctx, srv.URL+"/")
		if resp != nil {
			resp.Close()
		}
		done <- err
	}()
	poolEventually(t, "the request to wait", func() bool { return c.Stats().Waiters == 1 })
	require.NoError(t, s.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrSessionClosed, "a queued request fails when the connector closes")
		require.ErrorIs(t, err, ErrClient)
	case <-time.After(5 * time.Second):
		t.Fatal("the queued request did not return after Close")
	}
	// The response in use still reads; its connection is closed, not pooled, when it is done.
	b, err := io.ReadAll(held)
	require.NoError(t, err)
	require.Equal(t, "held", string(b))
	require.NoError(t, held.Close())
	st := c.Stats()
	require.Equal(t, 0, st.Open, "%+v", st)
	require.Equal(t, 0, st.Waiters)
}

func TestPoolConnectionCloseNotReused(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			var out string
			switch req.URL.Path {
			case "/close": // the server keeps the socket open; the client must still not reuse it
				out = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
			case "/http10":
				out = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
			case "/http10ka":
				out = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
			default:
				out = rawserver.Response(200, "ok")
			}
			if c.Send(out) != nil {
				return
			}
		}
	})
	s := poolSession(t, Config{})
	c := s.Connector()
	ctx := context.Background()
	for i, tc := range []struct {
		path  string
		dials uint64
		open  int
	}{
		{"/close", 1, 0},
		{"/http10", 2, 0},
		{"/http10ka", 3, 1},
		{"/", 3, 1},
	} {
		body, err := poolFetch(ctx, s, "GET", srv.URL+tc.path)
		require.NoError(t, err, tc.path)
		require.Equal(t, "ok", body)
		st := c.Stats()
		require.Equal(t, tc.dials, st.Dials, "%d %s: %+v", i, tc.path, st)
		require.Equal(t, tc.open, st.Open, "%d %s: %+v", i, tc.path, st)
	}
}
