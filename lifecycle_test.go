package aiohttp

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/rawserver"
	"github.com/stretchr/testify/require"
)

func TestLifecycleLazyHead(t *testing.T) {
	release := make(chan struct{})
	var waitedTooLong atomic.Bool
	srv := tlServe(t, map[string]tlRoute{
		"/lazy": func(c *rawserver.Conn, _ *rawserver.Request) bool {
			if c.Send("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n") != nil {
				return false
			}
			select {
			case <-release:
			case <-time.After(5 * time.Second):
				waitedTooLong.Store(true) // Get did not return before the body was sent
			}
			return c.Send("hello world") == nil
		},
		"/ok": tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/lazy")
	require.NoError(t, err)
	defer resp.Close()
	require.False(t, waitedTooLong.Load(), "Get must return as soon as the head is read")
	require.Equal(t, 200, resp.Status)
	require.EqualValues(t, 11, resp.ContentLength)
	close(release)
	body, err := resp.Bytes()
	require.NoError(t, err)
	require.Equal(t, "hello world", string(body))
	require.NoError(t, resp.Close())
	tlRequireReused(t, s, srv)
}

// tlRequirePayloadError checks a body error after the head.
func tlRequirePayloadError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrPayload)
	require.ErrorIs(t, err, ErrClient)
	var pe *PayloadError
	require.ErrorAs(t, err, &pe, "err = %v", err)
	require.NotErrorIs(t, err, ErrTimeout)
}

func TestLifecycleTruncatedLengthBody(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/short": tlSendClose("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("a", 50)),
		"/ok":    tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/short")
	require.NoError(t, err)
	defer resp.Close()
	_, err = resp.Bytes()
	tlRequirePayloadError(t, err)
	var pe *PayloadError
	require.ErrorAs(t, err, &pe)
	require.EqualValues(t, 50, pe.Received)
	require.NoError(t, resp.Close())
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestLifecycleTruncatedChunkedBody(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/short": tlSendClose("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n20\r\nonly-part-of-it"),
		"/ok":    tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/short")
	require.NoError(t, err)
	defer resp.Close()
	_, err = resp.Bytes()
	tlRequirePayloadError(t, err)
	require.NoError(t, resp.Close())
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestLifecycleResetMidBody(t *testing.T) {
	tlNoLeaks(t)
	reset := make(chan struct{})
	srv := tlServe(t, map[string]tlRoute{
		"/reset": func(c *rawserver.Conn, _ *rawserver.Request) bool {
			if c.Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"+strings.Repeat("a", 50)) != nil {
				return false
			}
			select {
			case <-reset:
			case <-time.After(5 * time.Second):
			}
			c.Reset()
			return false
		},
		"/ok": tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/reset")
	require.NoError(t, err)
	defer resp.Close()
	buf := make([]byte, 100)
	_, err = io.ReadFull(resp, buf[:50])
	require.NoError(t, err)
	close(reset)
	_, err = resp.Read(buf)
	tlRequirePayloadError(t, err)
	require.NoError(t, resp.Close())
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestLifecycleChunkedTrailersReused(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/chunked": tlSend("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
			"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"),
		"/ok": tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/chunked")
	require.NoError(t, err)
	defer resp.Close()
	require.EqualValues(t, -1, resp.ContentLength)
	body, err := resp.Text()
	require.NoError(t, err)
	require.Equal(t, "hello world", body)
	require.NoError(t, resp.Close())
	tlRequireReused(t, s, srv)
}

func TestLifecycleCloseDelimitedNotReused(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/eof": tlSendClose("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the server closes"),
		"/ok":  tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/eof")
	require.NoError(t, err)
	defer resp.Close()
	require.EqualValues(t, -1, resp.ContentLength)
	body, err := resp.Text()
	require.NoError(t, err)
	require.Equal(t, "read until the server closes", body)
	require.NoError(t, resp.Close())
	tlRequireNewConn(t, s, srv, 2, 0)
}

// tlRequireNotReusedAfter: the server keeps the connection open after answering, so only the
// client's own decision can make the next request use a new connection.
func tlRequireNotReusedAfter(t *testing.T, response string) {
	t.Helper()
	srv := tlServe(t, map[string]tlRoute{"/first": tlSend(response), "/ok": tlOK})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/first")
	require.NoError(t, err)
	defer resp.Close()
	body, err := resp.Text()
	require.NoError(t, err)
	require.Equal(t, "hello", body)
	require.NoError(t, resp.Close())
	tlRequireClosedByClient(t, srv, 1)
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestLifecycleHTTP10NotReused(t *testing.T) {
	t.Run("no keep-alive", func(t *testing.T) {
		tlRequireNotReusedAfter(t, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	})
	t.Run("keep-alive", func(t *testing.T) {
		srv := tlServe(t, map[string]tlRoute{
			"/first": tlSend("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello"),
			"/ok":    tlOK,
		})
		s := tlSession(t, Config{})
		resp, err := s.Get(context.Background(), srv.URL+"/first")
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, "HTTP/1.0", resp.Proto)
		_, err = resp.Bytes()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		tlRequireReused(t, s, srv)
	})
}

func TestLifecycleConnectionCloseNotReused(t *testing.T) {
	tlRequireNotReusedAfter(t, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello")
	t.Run("among other tokens", func(t *testing.T) {
		tlRequireNotReusedAfter(t, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 5\r\n\r\nhello")
	})
}

func TestLifecycleInformationalSkipped(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/1xx": tlSend("HTTP/1.1 100 Continue\r\n\r\n" +
			"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nfinal"),
		"/ok": tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/1xx")
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, 200, resp.Status)
	require.Equal(t, "yes", resp.Header().Get("X-Final"))
	require.Empty(t, resp.Header().Get("Link"), "the 103's fields are not the final response's")
	body, err := resp.Text()
	require.NoError(t, err)
	require.Equal(t, "final", body)
	require.NoError(t, resp.Close())
	tlRequireReused(t, s, srv)
}

func TestLifecycleTooManyInformational(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/1xx": tlSend(strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n", 20) +
			rawserver.Response(200, "never")),
		"/ok": tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/1xx")
	require.Nil(t, resp)
	require.ErrorIs(t, err, ErrMalformedResponse)
	require.ErrorIs(t, err, ErrClient)
	var me *MalformedResponseError
	require.ErrorAs(t, err, &me)
	tlRequireClosedByClient(t, srv, 1)
	tlRequireNewConn(t, s, srv, 2, 0)
}

func TestLifecycleNoBodyReused(t *testing.T) {
	srv := tlServe(t, map[string]tlRoute{
		"/204":  tlSend("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"),
		"/304":  tlSend("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 42\r\n\r\n"),
		"/head": tlSend("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"),
		"/ok":   tlOK,
	})
	s := tlSession(t, Config{})
	ctx := context.Background()
	for i, tc := range []struct {
		method, path string
		status       int
	}{{"GET", "/204", 204}, {"GET", "/304", 304}, {"HEAD", "/head", 200}, {"GET", "/204", 204}} {
		resp, err := s.Request(ctx, tc.method, srv.URL+tc.path)
		require.NoError(t, err, tc.path)
		require.Equal(t, tc.status, resp.Status)
		body, err := resp.Bytes()
		require.NoError(t, err)
		require.Empty(t, body)
		require.NoError(t, resp.Close())
		require.Equal(t, 1, srv.Accepted(), "request %d (%s %s) did not reuse the connection", i, tc.method, tc.path)
	}
	require.EqualValues(t, 3, s.Connector().Stats().Reuses)
	tlRequireReused(t, s, srv)
}

func TestLifecycleStrayBytesAfter204(t *testing.T) {
	// The stray bytes look like a whole response: a client that reused the connection would take
	// them for the answer to its next request.
	srv := tlServe(t, map[string]tlRoute{
		"/204": tlSend("HTTP/1.1 204 No Content\r\n\r\n" + rawserver.Response(200, "stray")),
		"/ok":  tlOK,
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/204")
	require.NoError(t, err)
	require.Equal(t, 204, resp.Status)
	require.NoError(t, resp.Close())
	tlRequireNewConn(t, s, srv, 2, 0) // checks the body is "ok", not "stray"
	tlRequireClosedByClient(t, srv, 1)
}

func TestLifecycleMalformedHeads(t *testing.T) {
	for _, tc := range []struct{ name, head string }{
		{"bad status line", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"},
		{"not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n"},
		{"NUL in header value", "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n"},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"},
		{"conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
		{"bad Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n"},
		{"unsupported Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tlServe(t, map[string]tlRoute{"/bad": tlSend(tc.head), "/ok": tlOK})
			s := tlSession(t, Config{})
			resp, err := s.Get(context.Background(), srv.URL+"/bad")
			require.Nil(t, resp)
			require.ErrorIs(t, err, ErrMalformedResponse)
			require.ErrorIs(t, err, ErrClient)
			var me *MalformedResponseError
			require.ErrorAs(t, err, &me, "err = %v", err)
			require.Contains(t, err.Error(), "GET "+srv.URL+"/bad")
			tlRequireClosedByClient(t, srv, 1)
			tlRequireNewConn(t, s, srv, 2, 0)
		})
	}
}

// tlReadHead reads a request head (not its body) from c and returns it.
func tlReadHead(c *rawserver.Conn) (string, error) {
	var sb strings.Builder
	for {
		line, err := c.R.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			return sb.String(), err
		}
		if line == "\r\n" {
			return sb.String(), nil
		}
	}
}

func TestLifecycleEarlyResponse(t *testing.T) {
	tlNoLeaks(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"bytes.Reader", func() io.Reader { return bytes.NewReader(big) }},
		{"bytes.Buffer", func() io.Reader { return bytes.NewBuffer(big) }},
		{"streaming", func() io.Reader { return io.MultiReader(bytes.NewReader(big[:1<<20]), bytes.NewReader(big[1<<20:])) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var head atomic.Value
			srv := rawserver.Start(t, func(c *rawserver.Conn) {
				h, err := tlReadHead(c)
				head.Store(h)
				if err != nil {
					return
				}
				_ = c.Send("HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 9\r\n\r\ntoo large")
				c.CloseWrite()
				// returning closes the connection with the body unread
			})
			s := tlSession(t, Config{})
			resp, err := s.Post(context.Background(), srv.URL+"/upload", Body(tc.body()))
			require.NoError(t, err, "an early response must win over the write error")
			defer resp.Close()
			require.Equal(t, 413, resp.Status)
			body, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, "too large", body)
			require.NoError(t, resp.Close())
			require.Equal(t, 1, srv.Accepted())
			h, _ := head.Load().(string)
			require.True(t, strings.HasPrefix(h, "POST /upload HTTP/1.1\r\n"), "head: %q", h)
		})
	}
}

func TestLifecycleStreamingBodyChunked(t *testing.T) {
	tlNoLeaks(t)
	type got struct {
		te   []string
		cl   int64
		body []byte
	}
	gotc := make(chan got, 4)
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			r, err := c.ReadRequest()
			if err != nil {
				return
			}
			gotc <- got{r.TransferEncoding, r.ContentLength, r.Body}
			if c.Send(rawserver.Response(200, strconv.Itoa(len(r.Body)))) != nil {
				return
			}
		}
	})
	s := tlSession(t, Config{})
	big := bytes.Repeat([]byte("streaming body "), 20000) // 300 kB, several chunks
	t.Run("MultiReader", func(t *testing.T) {
		want := append([]byte("first part, "), big...)
		resp, err := s.Post(context.Background(), srv.URL+"/up",
			Body(io.MultiReader(strings.NewReader("first part, "), bytes.NewReader(big))))
		require.NoError(t, err)
		body, err := resp.Text()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		require.Equal(t, strconv.Itoa(len(want)), body)
		g := <-gotc
		require.Equal(t, []string{"chunked"}, g.te)
		require.EqualValues(t, -1, g.cl)
		require.True(t, bytes.Equal(want, g.body), "the server received a different body")
	})
	t.Run("pipe", func(t *testing.T) {
		pr, pw := io.Pipe()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, part := range []string{"one ", "two ", "three"} {
				if _, err := pw.Write([]byte(part)); err != nil {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			pw.Close()
		}()
		defer wg.Wait()
		defer pr.Close()
		resp, err := s.Post(context.Background(), srv.URL+"/up", Body(pr))
		require.NoError(t, err)
		_, err = resp.Bytes()
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		g := <-gotc
		require.Equal(t, []string{"chunked"}, g.te)
		require.Equal(t, "one two three", string(g.body))
	})
}

func TestLifecycleHeaderInjectionRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		method string
		path   string
		opts   []RequestOption
	}{
		{"CRLF in value", "GET", "/", []RequestOption{Header{"X-A": {"1\r\nX-Evil: 1"}}}},
		{"LF in value", "GET", "/", []RequestOption{Header{"X-A": {"1\nX-Evil: 1"}}}},
		{"space in name", "GET", "/", []RequestOption{Header{"X Evil": {"1"}}}},
		{"colon in name", "GET", "/", []RequestOption{Header{"X-Evil:": {"1"}}}},
		{"CRLF in name", "GET", "/", []RequestOption{Header{"X-A\r\nX-Evil": {"1"}}}},
		{"NUL in value", "GET", "/", []RequestOption{Header{"X-A": {"a\x00b"}}}},
		{"method with request line", "GET /x HTTP/1.1\r\n", "/", nil},
		{"method with space", "GET /x", "/", nil},
		{"control character in path", "GET", "/a\x01b", nil},
		{"CRLF in path", "GET", "/a\r\nX-Evil: 1", nil},
		{"DEL in path", "GET", "/a\x7fb", nil},
		{"Host with CRLF", "GET", "/", []RequestOption{Header{"Host": {"example.com\r\nX-Evil: 1"}}}},
		{"Host with space", "GET", "/", []RequestOption{Header{"Host": {"example.com x"}}}},
		{"lower-case host with CRLF", "GET", "/", []RequestOption{Header{"host": {"a\r\nb"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw atomic.Value
			srv := rawserver.Start(t, func(c *rawserver.Conn) {
				r, err := c.ReadRequest()
				if err != nil {
					return
				}
				raw.Store(string(r.Raw))
				_ = c.Send(rawserver.Response(200, "sent"))
			})
			s := tlSession(t, Config{})
			resp, err := s.Request(ctx, tc.method, srv.URL+tc.path, tc.opts...)
			if resp != nil {
				resp.Close()
				t.Logf("sent: %q", raw.Load())
			}
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp, "the request was sent")
			require.Error(t, err)
			require.ErrorIs(t, err, ErrClient)
			var he *InvalidHeaderError
			var ue *InvalidURLError
			require.True(t, errors.As(err, &he) || errors.As(err, &ue),
				"want *InvalidHeaderError or *InvalidURLError, got %T: %v", errors.Unwrap(err), err)
			require.Zero(t, srv.Accepted(), "nothing may be sent")
		})
	}
}

// A space in the path or query is not a control character: like url.URL for the path and yarl
// in aiohttp, it is percent-encoded, never sent raw.
func TestLifecycleSpacesPercentEncoded(t *testing.T) {
	lines := make(chan string, 1)
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		line, _, _ := strings.Cut(string(r.Raw), "\r\n")
		lines <- line
		_ = c.Send(rawserver.Response(200, "ok"))
	})
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/a b?c d")
	require.NoError(t, err)
	require.NoError(t, resp.Close())
	require.Equal(t, "GET /a%20b?c%20d HTTP/1.1", <-lines)
}

func TestLifecycleContentLengthMismatchRefused(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		if _, err := c.ReadRequest(); err == nil {
			_ = c.Send(rawserver.Response(200, "sent"))
		}
	})
	s := tlSession(t, Config{})
	ten := []byte("0123456789")
	for _, tc := range []struct {
		name string
		opts []RequestOption
	}{
		{"bytes.Reader shorter", []RequestOption{Body(bytes.NewReader(ten)), Header{"Content-Length": {"5"}}}},
		{"bytes.Reader longer", []RequestOption{Body(bytes.NewReader(ten)), Header{"Content-Length": {"20"}}}},
		{"bytes.Buffer", []RequestOption{Body(bytes.NewBuffer(ten)), Header{"content-length": {"11"}}}},
		{"strings.Reader", []RequestOption{Body(strings.NewReader("abc")), Header{"Content-Length": {"4"}}}},
		{"JSON", []RequestOption{JSON(map[string]int{"a": 1}), Header{"Content-Length": {"1"}}}},
		{"no body", []RequestOption{Header{"Content-Length": {"3"}}}},
		{"not a number", []RequestOption{Body(bytes.NewReader(ten)), Header{"Content-Length": {"ten"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Post(context.Background(), srv.URL+"/", tc.opts...)
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp)
			var he *InvalidHeaderError
			require.ErrorAs(t, err, &he, "err = %v", err)
			require.ErrorIs(t, err, ErrClient)
			require.Zero(t, srv.Accepted(), "nothing may be sent")
		})
	}
}

// --- Transparent decompression ---

const tlPlain = "The quick brown fox jumps over the lazy dog. "

func tlCompress(t *testing.T, kind string, s string) []byte {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch kind {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "flate":
		fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
		require.NoError(t, err)
		w = fw
	}
	_, err := io.WriteString(w, s)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func tlCompressServer(t *testing.T) (*httptest.Server, *atomic.Value) {
	text := strings.Repeat(tlPlain, 50)
	gz, zl, fl := tlCompress(t, "gzip", text), tlCompress(t, "zlib", text), tlCompress(t, "flate", text)
	var ae atomic.Value
	send := func(w http.ResponseWriter, enc string, data []byte) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if enc != "" {
			w.Header().Set("Content-Encoding", enc)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Accept-Encoding")
		ae.Store(got)
		switch r.URL.Path {
		case "/gzip":
			if strings.Contains(got, "gzip") {
				send(w, "gzip", gz)
				return
			}
		case "/deflate":
			if strings.Contains(got, "deflate") {
				send(w, "deflate", zl)
				return
			}
		case "/raw-deflate":
			if strings.Contains(got, "deflate") {
				send(w, "deflate", fl)
				return
			}
		case "/force-gzip":
			send(w, "gzip", gz)
			return
		}
		send(w, "", []byte(text))
	}))
	t.Cleanup(srv.Close)
	return srv, &ae
}

func TestLifecycleDecompress(t *testing.T) {
	srv, ae := tlCompressServer(t)
	want := strings.Repeat(tlPlain, 50)
	s := tlSession(t, Config{})
	for _, path := range []string{"/gzip", "/deflate", "/raw-deflate"} {
		t.Run(path, func(t *testing.T) {
			resp, err := s.Get(context.Background(), srv.URL+path)
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, "gzip, deflate", ae.Load())
			require.EqualValues(t, -1, resp.ContentLength)
			require.Empty(t, resp.Header().Values("Content-Encoding"))
			require.Empty(t, resp.Header().Values("Content-Length"))
			require.Equal(t, "text/plain; charset=utf-8", resp.Header().Get("Content-Type"))
			text, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, want, text)
			require.NoError(t, resp.Close())
		})
	}
	// The decoded bodies were read to their end: one connection served all.
	require.EqualValues(t, 2, s.Connector().Stats().Reuses)
}

func TestLifecycleNoDecompress(t *testing.T) {
	srv, ae := tlCompressServer(t)
	gz := tlCompress(t, "gzip", strings.Repeat(tlPlain, 50))
	s := tlSession(t, Config{NoDecompress: true})
	resp, err := s.Get(context.Background(), srv.URL+"/force-gzip")
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, "", ae.Load(), "NoDecompress sends no Accept-Encoding")
	require.Equal(t, "gzip", resp.Header().Get("Content-Encoding"))
	require.EqualValues(t, len(gz), resp.ContentLength)
	body, err := resp.Bytes()
	require.NoError(t, err)
	require.Equal(t, gz, body, "the raw gzip bytes must come back")
	require.NoError(t, resp.Close())
}

func TestLifecycleUserAcceptEncoding(t *testing.T) {
	srv, ae := tlCompressServer(t)
	gz := tlCompress(t, "gzip", strings.Repeat(tlPlain, 50))
	s := tlSession(t, Config{})
	resp, err := s.Get(context.Background(), srv.URL+"/gzip", Header{"Accept-Encoding": {"gzip;q=1.0"}})
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, "gzip;q=1.0", ae.Load(), "the caller's Accept-Encoding is sent as is")
	require.Equal(t, "gzip", resp.Header().Get("Content-Encoding"))
	require.EqualValues(t, len(gz), resp.ContentLength)
	body, err := resp.Bytes()
	require.NoError(t, err)
	require.Equal(t, gz, body, "the caller asked for the encoding: the body is not decoded")
	zr, err := gzip.NewReader(bytes.NewReader(body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat(tlPlain, 50), string(plain))
	require.NoError(t, resp.Close())
}

// A streaming body whose source blocks is closed when the exchange ends early, so the body
// writer goroutine returns and the request does not hang.
func TestLifecycleEarlyResponseClosesBlockedBody(t *testing.T) {
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		if _, err := http.ReadRequest(c.R); err != nil {
			return
		}
		_ = c.Send("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!")
	})
	s := tlSession(t, Config{})
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write([]byte("first part, then the source blocks")) }()
	resp, err := s.Post(context.Background(), srv.URL+"/upload", Body(pr))
	require.NoError(t, err)
	require.Equal(t, 413, resp.Status)
	b, err := resp.Bytes()
	require.NoError(t, err)
	require.Equal(t, "big!", string(b))
	require.NoError(t, resp.Close())
	_, err = pw.Write([]byte("more"))
	require.ErrorIs(t, err, io.ErrClosedPipe)
}
