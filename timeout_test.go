package aiohttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/rawserver"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// tlSlack bounds how late a timeout may fire (the machine is noisy: generous on purpose).
const tlSlack = 5 * time.Second

// tlRoute serves one request on a raw connection; it returns false to end the connection.
type tlRoute func(c *rawserver.Conn, r *rawserver.Request) bool

// tlServer is a rawserver that dispatches requests by path and counts connection handlers that
// returned (the client closed the connection, or the route ended it).
type tlServer struct {
	*rawserver.Server
	ended atomic.Int32
}

func tlServe(t *testing.T, routes map[string]tlRoute) *tlServer {
	t.Helper()
	ts := &tlServer{}
	ts.Server = rawserver.Start(t, func(c *rawserver.Conn) {
		defer ts.ended.Add(1)
		for {
			r, err := c.ReadRequest()
			if err != nil {
				return
			}
			h := routes[r.URL.Path]
			if h == nil {
				_ = c.Send(rawserver.Response(404, "no route"))
				continue
			}
			if !h(c, r) {
				return
			}
		}
	})
	return ts
}

// tlSend returns a route that sends s and keeps the connection open.
func tlSend(s string) tlRoute {
	return func(c *rawserver.Conn, _ *rawserver.Request) bool { return c.Send(s) == nil }
}

// tlSendClose returns a route that sends s and closes the connection.
func tlSendClose(s string) tlRoute {
	return func(c *rawserver.Conn, _ *rawserver.Request) bool { _ = c.Send(s); return false }
}

// tlStall is a route that answers nothing: the connection stays open until the client closes it
// (or sends another request on it, which is then served).
func tlStall(c *rawserver.Conn, _ *rawserver.Request) bool { return true }

// tlSignal returns a route that runs r and then signals ch without blocking.
func tlSignal(ch chan struct{}, r tlRoute) tlRoute {
	return func(c *rawserver.Conn, req *rawserver.Request) bool {
		ok := r(c, req)
		select {
		case ch <- struct{}{}:
		default:
		}
		return ok
	}
}

// tlDribble returns a route that sends a head with Content-Length n, then the body one byte
// every `every`.
func tlDribble(n int, every time.Duration) tlRoute {
	return func(c *rawserver.Conn, _ *rawserver.Request) bool {
		if c.Send("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n") != nil {
			return false
		}
		for i := 0; i < n; i++ {
			time.Sleep(every)
			if c.Send("x") != nil {
				return false
			}
		}
		return true
	}
}

func tlSession(t *testing.T, cfg Config) *Session {
	t.Helper()
	s, err := NewSession(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// tlRequireTimeout checks a timeout error: the phase, the categories, the message, and that it
// did not fire before min had passed since t0, nor much later.
func tlRequireTimeout(t *testing.T, err error, phase, method, url string, t0 time.Time, min time.Duration) {
	t.Helper()
	elapsed := time.Since(t0)
	require.Error(t, err)
	_, ok := err.(*RequestError)
	require.True(t, ok, "outer error is %T, want *RequestError: %v", err, err)
	var te *TimeoutError
	require.ErrorAs(t, err, &te, "err = %v", err)
	require.Equal(t, phase, te.Phase, "err = %v", err)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrClient)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
	msg := err.Error()
	require.Contains(t, msg, method+" ")
	require.Contains(t, msg, url)
	require.Contains(t, msg, phase)
	require.GreaterOrEqual(t, elapsed, min, "%s timeout fired before its duration: %v", phase, err)
	require.Less(t, elapsed, min+tlSlack, "%s timeout fired far too late", phase)
}

// tlRequireNewConn makes a GET /ok and checks that it was served on a new connection: the server
// accepted `accepted` connections in all, and the pool reused none since `reuses`.
func tlRequireNewConn(t *testing.T, s *Session, srv *tlServer, accepted int, reuses uint64) {
	t.Helper()
	resp, err := s.Get(context.Background(), srv.URL+"/ok")
	require.NoError(t, err)
	body, err := resp.Text()
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	require.Equal(t, "ok", body)
	require.Equal(t, accepted, srv.Accepted(), "the next request must be sent on a new connection")
	require.Equal(t, reuses, s.Connector().Stats().Reuses, "no connection may be reused")
}

// tlRequireReused makes a GET /ok and checks that it reused the one connection so far.
func tlRequireReused(t *testing.T, s *Session, srv *tlServer) {
	t.Helper()
	before := s.Connector().Stats().Reuses
	resp, err := s.Get(context.Background(), srv.URL+"/ok")
	require.NoError(t, err)
	body, err := resp.Text()
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	require.Equal(t, "ok", body)
	require.Equal(t, 1, srv.Accepted(), "the connection should have been reused")
	require.Equal(t, before+1, s.Connector().Stats().Reuses)
}

// tlRequireClosedByClient waits until the server saw n connections end.
func tlRequireClosedByClient(t *testing.T, srv *tlServer, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return int(srv.ended.Load()) >= n },
		5*time.Second, 5*time.Millisecond, "the client did not close the connection")
}

var tlOK = tlSend(rawserver.Response(200, "ok"))

// tlNoLeaks checks, once the test and its cleanups are done, that it left no goroutine behind.
// Call it first, so that its check runs after every other cleanup (servers, sessions).
func tlNoLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// tlTry runs f until it returns "" (a conclusive run, whose checks passed), at most n times: a
// run is inconclusive when the machine was too loaded for its timing to tell (the head itself
// came later than a short timeout, say). When every run was, the test is skipped, not failed.
func tlTry(t *testing.T, n int, f func() (inconclusive string)) {
	t.Helper()
	for i := 1; ; i++ {
		why := f()
		if why == "" {
			return
		}
		if i == n {
			t.Skipf("inconclusive after %d attempts (machine overloaded): %s", n, why)
		}
		t.Logf("attempt %d inconclusive: %s", i, why)
	}
}

// --- SockRead ---

func TestTimeoutSockReadStallMidBody(t *testing.T) {
	tlTry(t, 4, func() string {
		srv := tlServe(t, map[string]tlRoute{
			"/partial": tlSend("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"),
			"/ok":      tlOK,
		})
		const sr = 200 * time.Millisecond
		s := tlSession(t, Config{Timeout: Timeout{SockRead: sr}})
		url := srv.URL + "/partial"
		t0 := time.Now()
		resp, err := s.Get(context.Background(), url)
		if err != nil {
			tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
			return "the head came later than SockRead"
		}
		defer resp.Close()
		buf := make([]byte, 100)
		_, err = io.ReadFull(resp, buf[:10])
		if err != nil {
			tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
			return "the first body bytes came later than SockRead"
		}
		require.Equal(t, "0123456789", string(buf[:10]))
		_, err = resp.Read(buf)
		tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
		// The error is sticky and the connection is gone.
		_, err2 := resp.Read(buf)
		require.ErrorIs(t, err2, ErrTimeout)
		require.NoError(t, resp.Close())
		tlRequireClosedByClient(t, srv, 1)
		tlRequireNewConn(t, s, srv, 2, 0)
		return ""
	})
}

func TestTimeoutSockReadSteadyDribble(t *testing.T) {
	// 34 bytes, one every 30 ms: about a second in all, five times SockRead, but never a gap
	// near it. SockRead is re-armed per read, so it must not fire. A run in which the server
	// itself (starved of CPU by a loaded machine) was silent for SockRead/2 or more proves
	// nothing and is tried again.
	const (
		n     = 34
		every = 30 * time.Millisecond
		sr    = 200 * time.Millisecond
	)
	var maxGap, lastSent atomic.Int64
	srv := tlServe(t, map[string]tlRoute{
		"/dribble": func(c *rawserver.Conn, _ *rawserver.Request) bool {
			maxGap.Store(0)
			if c.Send("HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n") != nil {
				return false
			}
			lastSent.Store(time.Now().UnixNano())
			for i := 0; i < n; i++ {
				time.Sleep(every)
				if c.Send("x") != nil {
					return false
				}
				now := time.Now().UnixNano()
				if gap := now - lastSent.Load(); gap > maxGap.Load() {
					maxGap.Store(gap)
				}
				lastSent.Store(now)
			}
			return true
		},
	})
	s := tlSession(t, Config{Timeout: Timeout{SockRead: sr}})
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		resp, err := s.Get(context.Background(), srv.URL+"/dribble")
		require.NoError(t, err)
		body, err := resp.Bytes()
		// The server's longest silence, counting the one still open when the client gave up.
		gap := max(time.Duration(maxGap.Load()), time.Since(time.Unix(0, lastSent.Load())))
		resp.Close()
		if err != nil && gap >= sr/2 {
			if attempt == 5 {
				t.Skipf("inconclusive: in every attempt the server itself was silent for SockRead/2 or more (machine overloaded); last: %v", err)
			}
			t.Logf("attempt %d: the server itself was silent for %v (machine overloaded): %v", attempt, gap, err)
			continue
		}
		require.NoError(t, err, "the server's longest silence was %v", gap)
		require.Len(t, body, n)
		require.Greater(t, time.Since(t0), sr, "the dribble should outlast SockRead")
		return
	}
}

func TestTimeoutSockReadNoAnswer(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{"/stall": tlStall})
	const sr = 150 * time.Millisecond
	s := tlSession(t, Config{Timeout: Timeout{SockRead: sr}})
	url := srv.URL + "/stall"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url)
	require.Nil(t, resp)
	tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
	tlRequireClosedByClient(t, srv, 1)
}

// TestTimeoutSockReadMeasuredFromLastByte: SockRead is the longest wait for the next bytes, so it
// must not fire sooner than SockRead after the last byte arrived. The server sends the head, then
// one body byte 20 ms later, then stalls.
func TestTimeoutSockReadMeasuredFromLastByte(t *testing.T) {
	tlTry(t, 4, func() string {
		var lastSent atomic.Int64
		srv := tlServe(t, map[string]tlRoute{
			"/late-byte": func(c *rawserver.Conn, _ *rawserver.Request) bool {
				if c.Send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") != nil {
					return false
				}
				time.Sleep(20 * time.Millisecond)
				before := time.Now() // the client cannot have the byte earlier
				if c.Send("x") != nil {
					return false
				}
				lastSent.Store(before.UnixNano())
				return true
			},
		})
		const sr = 800 * time.Millisecond
		s := tlSession(t, Config{Timeout: Timeout{SockRead: sr}})
		url := srv.URL + "/late-byte"
		t0 := time.Now()
		resp, err := s.Get(context.Background(), url)
		if err != nil {
			tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
			return "the head came later than SockRead"
		}
		defer resp.Close()
		_, err = resp.Bytes()
		failed := time.Now()
		sent := lastSent.Load()
		if sent == 0 || time.Unix(0, sent).After(failed) {
			return "the server sent its byte only after the client gave up"
		}
		tlRequireTimeout(t, err, PhaseSockRead, "GET", url, time.Unix(0, sent), sr)
		return ""
	})
}

// --- Total ---

func TestTimeoutTotalNoAnswer(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{"/stall": tlStall})
	const total = 200 * time.Millisecond
	s := tlSession(t, Config{Timeout: Timeout{Total: total}})
	url := srv.URL + "/stall"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url)
	require.Nil(t, resp)
	tlRequireTimeout(t, err, PhaseTotal, "GET", url, t0, total)
	tlRequireClosedByClient(t, srv, 1)
}

func TestTimeoutTotalCoversBody(t *testing.T) {
	// The head comes at once, the body one byte every 30 ms: Total (400 ms) expires while the
	// body is being read.
	tlTry(t, 4, func() string {
		srv := tlServe(t, map[string]tlRoute{"/dribble": tlDribble(100, 30*time.Millisecond), "/ok": tlOK})
		const total = 400 * time.Millisecond
		s := tlSession(t, Config{Timeout: Timeout{Total: total}})
		url := srv.URL + "/dribble"
		t0 := time.Now()
		resp, err := s.Get(context.Background(), url)
		if err != nil {
			tlRequireTimeout(t, err, PhaseTotal, "GET", url, t0, total)
			return "the head came later than Total"
		}
		defer resp.Close()
		_, err = resp.Bytes()
		tlRequireTimeout(t, err, PhaseTotal, "GET", url, t0, total)
		require.NoError(t, resp.Close())
		tlRequireClosedByClient(t, srv, 1)
		tlRequireNewConn(t, s, srv, 2, 0)
		return ""
	})
}

// TestTimeoutTotalNotEarlyWithSockRead: with SockRead shorter than Total, the socket deadline
// switches from SockRead's to Total's near the end; Total must still not fire before Total. The
// server sends the head at once, a body byte at ~330 ms and one at ~480 ms, then stalls: the
// read after the second byte wants Total's deadline (2 s), just after the SockRead deadline
// armed for the read after the first byte (~1.93 s).
func TestTimeoutTotalNotEarlyWithSockRead(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/two-bytes": func(c *rawserver.Conn, _ *rawserver.Request) bool {
			start := time.Now()
			if c.Send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n") != nil {
				return false
			}
			time.Sleep(time.Until(start.Add(330 * time.Millisecond)))
			if c.Send("a") != nil {
				return false
			}
			time.Sleep(time.Until(start.Add(480 * time.Millisecond)))
			return c.Send("b") == nil
		},
	})
	const total = 2 * time.Second
	s := tlSession(t, Config{Timeout: Timeout{Total: total, SockRead: 1600 * time.Millisecond}})
	url := srv.URL + "/two-bytes"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url)
	require.NoError(t, err)
	defer resp.Close()
	_, err = resp.Bytes()
	tlRequireTimeout(t, err, PhaseTotal, "GET", url, t0, total)
}

// --- Connect ---

func TestTimeoutConnectPoolWait(t *testing.T) {
	tlNoLeaks(t)
	srv := tlServe(t, map[string]tlRoute{"/hold": tlSend(rawserver.Response(200, "held")), "/ok": tlOK})
	s := tlSession(t, Config{ConnectorConfig: ConnectorConfig{Limit: 1}})
	held, err := s.Get(context.Background(), srv.URL+"/hold")
	require.NoError(t, err)
	defer held.Close() // unread: it holds the only slot

	const connect = 100 * time.Millisecond
	url := srv.URL + "/ok"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url, Timeout{Connect: connect})
	require.Nil(t, resp)
	tlRequireTimeout(t, err, PhaseConnect, "GET", url, t0, connect)
	require.EqualValues(t, 1, s.Connector().Stats().Timeouts)
	require.Zero(t, s.Connector().Stats().Waiters, "the timed-out waiter must leave the queue")

	// The slot is freed by closing the held response, and the next request gets it.
	require.NoError(t, held.Close())
	resp, err = s.Get(context.Background(), url, Timeout{Connect: connect})
	require.NoError(t, err)
	body, err := resp.Text()
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	require.Equal(t, "ok", body)
}

// TestTimeoutConnectDoesNotCoverResponse: Connect and SockConnect end once the connection is
// made; a slow response is not theirs to time out.
func TestTimeoutConnectDoesNotCoverResponse(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/slow": func(c *rawserver.Conn, _ *rawserver.Request) bool {
			time.Sleep(300 * time.Millisecond)
			return c.Send(rawserver.Response(200, "slow")) == nil
		},
	})
	s := tlSession(t, Config{Timeout: Timeout{Connect: 100 * time.Millisecond, SockConnect: 100 * time.Millisecond}})
	resp, err := s.Get(context.Background(), srv.URL+"/slow")
	require.NoError(t, err)
	body, err := resp.Text()
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	require.Equal(t, "slow", body)
}

// --- SockConnect ---

// tlSilent accepts and never speaks (a TLS client's handshake stalls on it).
func tlSilent(c *rawserver.Conn) { _, _ = io.Copy(io.Discard, c.R) }

func TestTimeoutSockConnectTLSHandshake(t *testing.T) {
	srv := rawserver.Start(t, tlSilent)
	const sc = 150 * time.Millisecond
	s := tlSession(t, Config{Timeout: Timeout{SockConnect: sc}})
	url := "https://" + srv.Addr + "/"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url)
	require.Nil(t, resp)
	tlRequireTimeout(t, err, PhaseSockConnect, "GET", url, t0, sc)
	require.Equal(t, 1, srv.Accepted())
	require.Zero(t, s.Connector().Stats().Open, "the failed dial must give its slot back")
}

// tlResolver maps host names to fixed addresses.
type tlResolver struct {
	hosts map[string][]netip.Addr
	calls atomic.Int32
}

func (r *tlResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.calls.Add(1)
	if a, ok := r.hosts[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// tlSilentPair starts two silent servers on 127.0.0.1 and 127.0.0.2 with the same port.
func tlSilentPair(t *testing.T) (a, b *rawserver.Server, port string) {
	t.Helper()
	for range 20 {
		a = rawserver.Start(t, tlSilent)
		_, port, _ = net.SplitHostPort(a.Addr)
		probe, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err != nil {
			continue // port taken on 127.0.0.2; a is closed at cleanup
		}
		probe.Close()
		return a, rawserver.StartOn(t, "127.0.0.2:"+port, tlSilent), port
	}
	t.Skip("cannot listen on 127.0.0.2 with the port of a 127.0.0.1 listener")
	return nil, nil, ""
}

func tlTwoAddrSession(t *testing.T, tmo Timeout) (*Session, *tlResolver) {
	res := &tlResolver{hosts: map[string][]netip.Addr{
		"stall.test": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")},
	}}
	return tlSession(t, Config{Timeout: tmo, ConnectorConfig: ConnectorConfig{Resolver: res}}), res
}

func TestTimeoutSockConnectEachAddress(t *testing.T) {
	tlNoLeaks(t)
	a, b, port := tlSilentPair(t)
	const sc = 150 * time.Millisecond
	s, res := tlTwoAddrSession(t, Timeout{SockConnect: sc})
	url := "https://stall.test:" + port + "/"
	t0 := time.Now()
	resp, err := s.Get(context.Background(), url)
	require.Nil(t, resp)
	// Each attempt gets its own SockConnect: two in a row.
	tlRequireTimeout(t, err, PhaseSockConnect, "GET", url, t0, 2*sc)
	require.Equal(t, 1, a.Accepted(), "127.0.0.1 should have been tried")
	require.Equal(t, 1, b.Accepted(), "127.0.0.2 should have been tried")
	require.EqualValues(t, 1, res.calls.Load())
}

// TestTimeoutSockConnectCutShort: when Connect or Total ends the second attempt, that phase is
// the one reported, not the first attempt's sock_connect; and a SockConnect longer than Connect
// never fires.
func TestTimeoutSockConnectCutShort(t *testing.T) {
	t.Run("connect", func(t *testing.T) {
		a, b, port := tlSilentPair(t)
		const connect = 220 * time.Millisecond
		s, _ := tlTwoAddrSession(t, Timeout{SockConnect: 150 * time.Millisecond, Connect: connect})
		url := "https://stall.test:" + port + "/"
		t0 := time.Now()
		_, err := s.Get(context.Background(), url)
		tlRequireTimeout(t, err, PhaseConnect, "GET", url, t0, connect)
		require.Equal(t, 1, a.Accepted())
		require.Equal(t, 1, b.Accepted())
	})
	t.Run("total", func(t *testing.T) {
		a, b, port := tlSilentPair(t)
		const total = 220 * time.Millisecond
		s, _ := tlTwoAddrSession(t, Timeout{SockConnect: 150 * time.Millisecond, Total: total})
		url := "https://stall.test:" + port + "/"
		t0 := time.Now()
		_, err := s.Get(context.Background(), url)
		tlRequireTimeout(t, err, PhaseTotal, "GET", url, t0, total)
		require.Equal(t, 1, a.Accepted())
		require.Equal(t, 1, b.Accepted())
	})
	t.Run("one address, Connect shorter", func(t *testing.T) {
		srv := rawserver.Start(t, tlSilent)
		const connect = 150 * time.Millisecond
		s := tlSession(t, Config{Timeout: Timeout{SockConnect: time.Second, Connect: connect}})
		url := "https://" + srv.Addr + "/"
		t0 := time.Now()
		_, err := s.Get(context.Background(), url)
		tlRequireTimeout(t, err, PhaseConnect, "GET", url, t0, connect)
	})
}

// --- Per-request override ---

func TestTimeoutPerRequestOverride(t *testing.T) {
	slow := func(d time.Duration) tlRoute {
		return func(c *rawserver.Conn, _ *rawserver.Request) bool {
			time.Sleep(d)
			return c.Send(rawserver.Response(200, "late")) == nil
		}
	}
	// Where the timeout must fire, the server stalls longer than 200 ms, so that a loaded
	// machine that runs the deadline's timer late cannot let the answer in first.
	srv := tlServe(t, map[string]tlRoute{"/slow": slow(200 * time.Millisecond), "/slower": slow(time.Second)})
	const sr = 50 * time.Millisecond
	s := tlSession(t, Config{Timeout: Timeout{SockRead: sr, Total: 10 * time.Second}})
	url := srv.URL + "/slow"

	t.Run("session SockRead applies", func(t *testing.T) {
		url := srv.URL + "/slower"
		t0 := time.Now()
		_, err := s.Get(context.Background(), url)
		tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
	})
	t.Run("NoTimeout disables it", func(t *testing.T) {
		resp, err := s.Get(context.Background(), url, Timeout{SockRead: NoTimeout})
		require.NoError(t, err)
		body, err := resp.Text()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		require.Equal(t, "late", body)
	})
	t.Run("other fields keep the session's", func(t *testing.T) {
		// Overriding Total leaves the session's SockRead in force.
		url := srv.URL + "/slower"
		t0 := time.Now()
		_, err := s.Get(context.Background(), url, Timeout{Total: 5 * time.Second})
		tlRequireTimeout(t, err, PhaseSockRead, "GET", url, t0, sr)
	})
	t.Run("longer SockRead", func(t *testing.T) {
		resp, err := s.Get(context.Background(), url, Timeout{SockRead: 2 * time.Second})
		require.NoError(t, err)
		_, err = resp.Bytes()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
	})
}

// --- Cancellation and the caller's deadline ---

func tlRequireCtxErr(t *testing.T, err error, want error, url string) {
	t.Helper()
	require.Error(t, err)
	_, ok := err.(*RequestError)
	require.True(t, ok, "outer error is %T, want *RequestError: %v", err, err)
	require.ErrorIs(t, err, want)
	require.ErrorIs(t, err, ErrClient)
	require.False(t, errors.As(err, new(*TimeoutError)), "the caller's context is not our timeout: %v", err)
	require.NotErrorIs(t, err, ErrTimeout)
	require.Contains(t, err.Error(), "GET "+url)
}

func TestTimeoutCancelDuringHead(t *testing.T) {
	tlNoLeaks(t)
	got := make(chan struct{}, 1)
	srv := tlServe(t, map[string]tlRoute{"/stall": tlSignal(got, tlStall), "/ok": tlOK})
	s := tlSession(t, Config{Timeout: Timeout{SockRead: 10 * time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
		}
		cancel()
	}()
	url := srv.URL + "/stall"
	resp, err := s.Get(ctx, url)
	require.Nil(t, resp)
	tlRequireCtxErr(t, err, context.Canceled, url)
	tlRequireClosedByClient(t, srv, 1)
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestTimeoutCancelDuringBody(t *testing.T) {
	tlNoLeaks(t)
	srv := tlServe(t, map[string]tlRoute{
		"/partial": tlSend("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"),
		"/ok":      tlOK,
	})
	s := tlSession(t, Config{Timeout: Timeout{SockRead: 10 * time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := srv.URL + "/partial"
	resp, err := s.Get(ctx, url)
	require.NoError(t, err)
	defer resp.Close()
	buf := make([]byte, 100)
	_, err = io.ReadFull(resp, buf[:10])
	require.NoError(t, err)
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	_, err = resp.Read(buf)
	tlRequireCtxErr(t, err, context.Canceled, url)
	require.NoError(t, resp.Close())
	tlRequireClosedByClient(t, srv, 1)
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestTimeoutCallerDeadline(t *testing.T) {
	tlNoLeaks(t)
	// The session's own timeouts are far away: only the caller's deadline can fire.
	tmo := Timeout{SockRead: 10 * time.Second, Total: 20 * time.Second}
	t.Run("head", func(t *testing.T) {
		srv := tlServe(t, map[string]tlRoute{"/stall": tlStall, "/ok": tlOK})
		s := tlSession(t, Config{Timeout: tmo})
		const d = 150 * time.Millisecond
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		url := srv.URL + "/stall"
		resp, err := s.Get(ctx, url)
		require.Nil(t, resp)
		tlRequireCtxErr(t, err, context.DeadlineExceeded, url)
		require.GreaterOrEqual(t, time.Since(t0), d)
		tlRequireClosedByClient(t, srv, 1)
		tlRequireNewConn(t, s, srv, 2, 0)
	})
	t.Run("body", func(t *testing.T) {
		tlTry(t, 4, func() string {
			srv := tlServe(t, map[string]tlRoute{
				"/partial": tlSend("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"),
				"/ok":      tlOK,
			})
			s := tlSession(t, Config{Timeout: tmo})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			url := srv.URL + "/partial"
			resp, err := s.Get(ctx, url)
			if err != nil {
				tlRequireCtxErr(t, err, context.DeadlineExceeded, url)
				return "the head came after the caller's deadline"
			}
			defer resp.Close()
			_, err = resp.Bytes()
			tlRequireCtxErr(t, err, context.DeadlineExceeded, url)
			require.NoError(t, resp.Close())
			tlRequireClosedByClient(t, srv, 1)
			tlRequireNewConn(t, s, srv, 2, 0)
			return ""
		})
	})
}
