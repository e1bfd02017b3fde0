package aiohttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiohttp-go/aiohttp"
	"github.com/aiohttp-go/aiohttp/internal/rawserver"
	"github.com/stretchr/testify/require"
)

// Helpers shared by request_test.go, redirect_test.go, response_test.go, tls_test.go and
// httpbin_test.go. Their names start with "rq" to stay clear of other test files.

// rqSession makes a session closed by the test's cleanup.
func rqSession(t testing.TB, cfg aiohttp.Config) *aiohttp.Session {
	t.Helper()
	s, err := aiohttp.NewSession(cfg)
	require.NoError(t, err)
	require.NotNil(t, s)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rqServer starts an httptest server closed by the test's cleanup.
func rqServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// rqEcho is what rqEchoHandler reports about a request.
type rqEcho struct {
	Method           string      `json:"method"`
	URI              string      `json:"uri"`
	Host             string      `json:"host"`
	Header           http.Header `json:"header"`
	Body             string      `json:"body"`
	ContentLength    int64       `json:"content_length"`
	TransferEncoding []string    `json:"transfer_encoding"`
}

// rqEchoHandler answers every request with a JSON description of it.
func rqEchoHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rqEcho{
		Method:           r.Method,
		URI:              r.RequestURI,
		Host:             r.Host,
		Header:           r.Header,
		Body:             string(body),
		ContentLength:    r.ContentLength,
		TransferEncoding: r.TransferEncoding,
	})
}

// rqDo makes a request, decodes the echo and closes the response.
func rqDo(t testing.TB, s *aiohttp.Session, method, u string, opts ...aiohttp.RequestOption) rqEcho {
	t.Helper()
	resp, err := s.Request(context.Background(), method, u, opts...)
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, 200, resp.Status)
	var e rqEcho
	require.NoError(t, resp.JSON(&e))
	return e
}

// rqClosedAddr returns a loopback address nobody listens on.
func rqClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// rqNoneInUse checks that every connection of the session went back to the pool or was closed.
// rqNoneInUse checks that every connection was released. A body writer cut short by an early
// response releases its connection when it returns, which may be a moment after Close.
func rqNoneInUse(t testing.TB, s *aiohttp.Session) {
	t.Helper()
	var st aiohttp.ConnectorStats
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st = s.Connector().Stats(); st.InUse == 0 && st.Dialing == 0 {
			return
		}
	}
	require.Zero(t, st.InUse, "connections still in use: %+v", st)
	require.Zero(t, st.Dialing, "connections still dialing: %+v", st)
}

func TestRequestBaseURLJoin(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	other := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/api/v1/"})

	tests := []struct {
		name    string
		url     string
		wantURI string
		other   bool // served by the other server
	}{
		{"relative path", "users/42", "/api/v1/users/42", false},
		{"relative path with query", "users/42?x=1", "/api/v1/users/42?x=1", false},
		{"fragment dropped", "users/42#top", "/api/v1/users/42", false},
		{"absolute path", "/abs", "/abs", false},
		{"dot segments", "../x", "/api/x", false},
		{"dot dot to root", "../../../x", "/x", false},
		{"query only", "?q=1", "/api/v1/?q=1", false},
		{"empty", "", "/api/v1/", false},
		{"space escaped", "users/a b", "/api/v1/users/a%20b", false},
		{"non-ASCII escaped", "users/é", "/api/v1/users/%C3%A9", false},
		{"escaped slash kept", "users/a%2Fb", "/api/v1/users/a%2Fb", false},
		{"absolute URL wins", other.URL + "/elsewhere?z=2", "/elsewhere?z=2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rqDo(t, s, "GET", tt.url)
			require.Equal(t, tt.wantURI, e.URI)
			wantHost := strings.TrimPrefix(srv.URL, "http://")
			if tt.other {
				wantHost = strings.TrimPrefix(other.URL, "http://")
			}
			require.Equal(t, wantHost, e.Host)
		})
	}
	rqNoneInUse(t, s)
}

func TestRequestNewSessionRejectsBadBaseURL(t *testing.T) {
	for _, base := range []string{
		"http://example.com/api",   // no trailing slash
		"http://example.com",       // no path at all
		"/api/",                    // relative
		"api/",                     // relative
		"//example.com/api/",       // scheme-relative
		"ftp://example.com/",       // not http
		"ws://example.com/",        // not http
		"file:///etc/",             // not http, no host
		"http://example.com/?q=1",  // query
		"http://example.com/#frag", // fragment
		"http://exa mple.com/",     // unparsable
	} {
		t.Run(base, func(t *testing.T) {
			s, err := aiohttp.NewSession(aiohttp.Config{BaseURL: base})
			if s != nil {
				_ = s.Close()
			}
			require.Error(t, err)
			require.Nil(t, s)
			var ue *aiohttp.InvalidURLError
			require.True(t, errors.As(err, &ue), "want *InvalidURLError, got %T: %v", err, err)
		})
	}
	for _, base := range []string{"", "http://example.com/", "https://example.com/api/v1/", "http://127.0.0.1:8080/x/"} {
		t.Run("valid "+base, func(t *testing.T) {
			rqSession(t, aiohttp.Config{BaseURL: base})
		})
	}
}

func TestRequestParamsAfterQuery(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	tests := []struct {
		name string
		url  string
		opts []aiohttp.RequestOption
		want string
	}{
		{"no own query", "p", []aiohttp.RequestOption{aiohttp.Params{"b": {"2"}}}, "/p?b=2"},
		{"after own query", "p?a=1&z=0", []aiohttp.RequestOption{aiohttp.Params{"b": {"2"}, "a": {"3"}}}, "/p?a=1&z=0&a=3&b=2"},
		{"two Params options merge", "p", []aiohttp.RequestOption{aiohttp.Params{"a": {"1"}}, aiohttp.Params{"a": {"2"}}}, "/p?a=1&a=2"},
		{"escaped", "p", []aiohttp.RequestOption{aiohttp.Params{"q": {"a b&c=d/é"}}}, "/p?q=" + url.QueryEscape("a b&c=d/é")},
		{"empty Params change nothing", "p?x=1", []aiohttp.RequestOption{aiohttp.Params{}}, "/p?x=1"},
		{"own query kept as written", "p?q=a%2Bb&r=%20&s", []aiohttp.RequestOption{aiohttp.Params{"x": {"1"}}}, "/p?q=a%2Bb&r=%20&s&x=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rqDo(t, s, "GET", tt.url, tt.opts...)
			require.Equal(t, tt.want, e.URI)
		})
	}
}

// TestRequestWireHeaders checks the exact request head bytes: Host first, then the keys sorted
// as they are in the maps, defaults merged case-insensitively.
func TestRequestWireHeaders(t *testing.T) {
	raws := make(chan []byte, 16)
	srv := rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			raws <- append([]byte(nil), req.Raw...)
			if c.Send(rawserver.Response(200, "")) != nil {
				return
			}
		}
	})
	host := srv.Addr
	const defaults = "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: aiohttp-go/0.1\r\n"
	tests := []struct {
		name   string
		cfg    aiohttp.Config
		method string
		opts   []aiohttp.RequestOption
		want   string
	}{
		{
			name: "GET defaults", method: "GET",
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults + "\r\n",
		},
		{
			name: "HEAD has no Accept-Encoding", method: "HEAD",
			want: "HEAD /p HTTP/1.1\r\nHost: " + host + "\r\nAccept: */*\r\nUser-Agent: aiohttp-go/0.1\r\n\r\n",
		},
		{
			name: "Range has no Accept-Encoding", method: "GET",
			opts: []aiohttp.RequestOption{aiohttp.Header{"Range": {"bytes=0-9"}}},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\nAccept: */*\r\nRange: bytes=0-9\r\nUser-Agent: aiohttp-go/0.1\r\n\r\n",
		},
		{
			name: "session default replaced case-insensitively, exact key case kept", method: "GET",
			cfg:  aiohttp.Config{Header: http.Header{"x-api-key": {"session"}, "X-Keep": {"k"}}},
			opts: []aiohttp.RequestOption{aiohttp.Header{"X-Api-Key": {"request"}, "x-lower": {"v1", "v2"}}},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults +
				"X-Api-Key: request\r\nX-Keep: k\r\nx-lower: v1\r\nx-lower: v2\r\n\r\n",
		},
		{
			name: "session User-Agent and Accept in any case replace the defaults", method: "GET",
			cfg:  aiohttp.Config{Header: http.Header{"user-agent": {"svc/1.0"}, "ACCEPT": {"application/json"}}},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\nACCEPT: application/json\r\nAccept-Encoding: gzip, deflate\r\nuser-agent: svc/1.0\r\n\r\n",
		},
		{
			name: "request Accept-Encoding replaces ours", method: "GET",
			opts: []aiohttp.RequestOption{aiohttp.Header{"accept-encoding": {"identity"}}},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\nAccept: */*\r\nUser-Agent: aiohttp-go/0.1\r\naccept-encoding: identity\r\n\r\n",
		},
		{
			name: "NoDecompress sends no Accept-Encoding", method: "GET",
			cfg:  aiohttp.Config{NoDecompress: true},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\nAccept: */*\r\nUser-Agent: aiohttp-go/0.1\r\n\r\n",
		},
		{
			name: "POST without body states Content-Length 0", method: "POST",
			want: "POST /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults + "Content-Length: 0\r\n\r\n",
		},
		{
			name: "POST JSON", method: "POST",
			opts: []aiohttp.RequestOption{aiohttp.JSON(map[string]int{"a": 1})},
			want: "POST /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults[:len(defaults)-len("User-Agent: aiohttp-go/0.1\r\n")] +
				"Content-Type: application/json\r\nUser-Agent: aiohttp-go/0.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
		},
		{
			name: "BasicAuth", method: "GET",
			opts: []aiohttp.RequestOption{aiohttp.BasicAuth("u", "p")},
			want: "GET /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults[:len(defaults)-len("User-Agent: aiohttp-go/0.1\r\n")] +
				"Authorization: Basic dTpw\r\nUser-Agent: aiohttp-go/0.1\r\n\r\n",
		},
		{
			name: "DELETE without body has no framing header", method: "DELETE",
			want: "DELETE /p HTTP/1.1\r\nHost: " + host + "\r\n" + defaults + "\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rqSession(t, tt.cfg)
			resp, err := s.Request(context.Background(), tt.method, srv.URL+"/p", tt.opts...)
			require.NoError(t, err)
			require.NoError(t, resp.Close())
			require.Equal(t, tt.want, string(<-raws))
		})
	}
}

// TestRequestConfigCopied: editing the Config's header map after NewSession changes nothing.
func TestRequestConfigCopied(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	cfg := aiohttp.Config{BaseURL: srv.URL + "/", Header: http.Header{"X-Default": {"before"}}}
	s := rqSession(t, cfg)
	cfg.Header["X-Default"][0] = "after"
	cfg.Header["X-Added"] = []string{"added"}
	cfg.BaseURL = "http://example.invalid/"
	e := rqDo(t, s, "GET", "c")
	require.Equal(t, "/c", e.URI)
	require.Equal(t, []string{"before"}, e.Header.Values("X-Default"))
	require.Empty(t, e.Header.Values("X-Added"))
}

func TestRequestInvalidHeaders(t *testing.T) {
	for _, h := range []http.Header{
		{"X-Bad": {"a\r\nInjected: 1"}},
		{"X-Bad": {"a\nb"}},
		{"X-Bad": {"nul\x00"}},
		{"Bad Name": {"v"}},
		{"Bad:Name": {"v"}},
		{"": {"v"}},
	} {
		t.Run(fmt.Sprintf("%q", h), func(t *testing.T) {
			s, err := aiohttp.NewSession(aiohttp.Config{Header: h})
			if s != nil {
				_ = s.Close()
			}
			var he *aiohttp.InvalidHeaderError
			require.ErrorAs(t, err, &he)

			s = rqSession(t, aiohttp.Config{})
			resp, err := s.Get(context.Background(), "http://127.0.0.1:1/", aiohttp.Header(h))
			require.Nil(t, resp)
			require.ErrorAs(t, err, &he)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			require.Zero(t, s.Connector().Stats().Dials, "something was sent")
		})
	}
}

func TestRequestBodies(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	big := strings.Repeat("0123456789", 10_000) // 100 KB: written by the body goroutine
	type payload struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	tests := []struct {
		name    string
		method  string
		opts    []aiohttp.RequestOption
		body    string
		ctype   string
		length  int64 // -1: chunked
		chunked bool
	}{
		{"JSON", "POST", []aiohttp.RequestOption{aiohttp.JSON(payload{"x", 1})}, `{"name":"x","n":1}`, "application/json", 18, false},
		{"JSON keeps caller's Content-Type", "PUT", []aiohttp.RequestOption{aiohttp.JSON([]int{1}), aiohttp.Header{"Content-Type": {"application/vnd.api+json"}}}, `[1]`, "application/vnd.api+json", 3, false},
		{"Form", "POST", []aiohttp.RequestOption{aiohttp.Form(url.Values{"a": {"1 2"}, "b": {"&="}})}, "a=1+2&b=%26%3D", "application/x-www-form-urlencoded", 14, false},
		{"strings.Reader", "POST", []aiohttp.RequestOption{aiohttp.Body(strings.NewReader("hello"))}, "hello", "", 5, false},
		{"bytes.Reader", "PATCH", []aiohttp.RequestOption{aiohttp.Body(bytes.NewReader([]byte("hello!")))}, "hello!", "", 6, false},
		{"bytes.Buffer", "POST", []aiohttp.RequestOption{aiohttp.Body(bytes.NewBufferString("buf"))}, "buf", "", 3, false},
		{"large strings.Reader", "POST", []aiohttp.RequestOption{aiohttp.Body(strings.NewReader(big))}, big, "", int64(len(big)), false},
		{"non-seekable reader is chunked", "POST", []aiohttp.RequestOption{aiohttp.Body(io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo")))}, "hello", "", -1, true},
		{"large non-seekable reader is chunked", "PUT", []aiohttp.RequestOption{aiohttp.Body(io.MultiReader(strings.NewReader(big)))}, big, "", -1, true},
		{"POST without body", "POST", nil, "", "", 0, false},
		{"PUT without body", "PUT", nil, "", "", 0, false},
		{"Body(nil)", "POST", []aiohttp.RequestOption{aiohttp.Body(nil)}, "", "", 0, false},
		{"GET without body", "GET", nil, "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rqDo(t, s, tt.method, "b", tt.opts...)
			require.Equal(t, tt.method, e.Method)
			require.Equal(t, tt.body, e.Body)
			require.Equal(t, tt.ctype, e.Header.Get("Content-Type"))
			require.Equal(t, tt.length, e.ContentLength)
			if tt.chunked {
				require.Equal(t, []string{"chunked"}, e.TransferEncoding)
			} else {
				require.Empty(t, e.TransferEncoding)
			}
		})
	}
	rqNoneInUse(t, s)
}

func TestRequestCredentials(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	hostport := strings.TrimPrefix(srv.URL, "http://")
	s := rqSession(t, aiohttp.Config{})
	basic := func(u, p string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
	}
	tests := []struct {
		name string
		url  string
		opts []aiohttp.RequestOption
		want string
	}{
		{"BasicAuth", srv.URL + "/a", []aiohttp.RequestOption{aiohttp.BasicAuth("alice", "p@ss:w rd")}, basic("alice", "p@ss:w rd")},
		{"URL credentials", "http://alice:s3cret@" + hostport + "/a", nil, basic("alice", "s3cret")},
		{"URL credentials escaped", "http://al%40ice:p%3Ass@" + hostport + "/a", nil, basic("al@ice", "p:ss")},
		{"URL user without password", "http://alice@" + hostport + "/a", nil, basic("alice", "")},
		{"BasicAuth beats URL credentials", "http://alice:s3cret@" + hostport + "/a", []aiohttp.RequestOption{aiohttp.BasicAuth("bob", "pw")}, basic("bob", "pw")},
		{"Authorization header beats URL credentials", "http://alice:s3cret@" + hostport + "/a", []aiohttp.RequestOption{aiohttp.Header{"authorization": {"Bearer tok"}}}, "Bearer tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Get(context.Background(), tt.url, tt.opts...)
			require.NoError(t, err)
			defer resp.Close()
			var e rqEcho
			require.NoError(t, resp.JSON(&e))
			require.Equal(t, []string{tt.want}, e.Header.Values("Authorization"))
			require.Equal(t, "/a", e.URI)
			require.NotContains(t, resp.URL().String(), "s3cret", "the response URL keeps the password")
		})
	}
}

// TestRequestErrorsRedactPassword: no error message carries the password of a URL.
func TestRequestErrorsRedactPassword(t *testing.T) {
	const secret = "s3cretPW"
	notFound := rqServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ftp":
			w.Header().Set("Location", "ftp://bob:"+secret+"@example.com/")
			w.WriteHeader(http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	nfHost := strings.TrimPrefix(notFound.URL, "http://")
	closed := rqClosedAddr(t)
	s := rqSession(t, aiohttp.Config{})
	tests := []struct {
		name  string
		url   string
		opts  []aiohttp.RequestOption
		check func(t *testing.T, err error)
	}{
		{"dial refused", "http://alice:" + secret + "@" + closed + "/x", nil, func(t *testing.T, err error) {
			require.ErrorIs(t, err, aiohttp.ErrConnector)
		}},
		{"dial refused with BasicAuth", "http://" + closed + "/x", []aiohttp.RequestOption{aiohttp.BasicAuth("alice", secret)}, func(t *testing.T, err error) {
			require.ErrorIs(t, err, aiohttp.ErrConnector)
		}},
		{"invalid port", "http://alice:" + secret + "@127.0.0.1:99999/x", nil, func(t *testing.T, err error) {
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
			require.NotContains(t, ue.URL, secret)
		}},
		{"unparsable", "http://alice:" + secret + "@127.0.0.1/a\x7fb", nil, func(t *testing.T, err error) {
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
			require.NotContains(t, ue.URL, secret)
		}},
		{"scheme", "ftp://alice:" + secret + "@127.0.0.1/x", nil, func(t *testing.T, err error) {
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
		}},
		{"RaiseForStatus", "http://alice:" + secret + "@" + nfHost + "/missing", []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, func(t *testing.T, err error) {
			var re *aiohttp.ResponseError
			require.ErrorAs(t, err, &re)
			require.Equal(t, 404, re.Status)
			require.NotContains(t, re.URL.String(), secret)
		}},
		{"redirect to ftp with credentials", "http://alice:" + secret + "@" + nfHost + "/ftp", nil, func(t *testing.T, err error) {
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.Get(context.Background(), tt.url, tt.opts...)
			if resp != nil {
				resp.Close()
			}
			require.Error(t, err)
			require.Nil(t, resp)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var re *aiohttp.RequestError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "GET", re.Method)
			require.NotContains(t, re.URL, secret)
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, fmt.Sprintf("%+v", err), secret)
			tt.check(t, err)
		})
	}

	for _, base := range []string{
		"http://alice:" + secret + "@example.com/api", // no trailing slash
		"http://alice:" + secret + "@example.com/?q",  // query
		"ftp://alice:" + secret + "@example.com/",     // scheme
	} {
		t.Run("NewSession BaseURL "+strings.ReplaceAll(base, secret, "SECRET"), func(t *testing.T) {
			s, err := aiohttp.NewSession(aiohttp.Config{BaseURL: base})
			if s != nil {
				_ = s.Close()
			}
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
			require.NotContains(t, err.Error(), secret)
			require.NotContains(t, ue.URL, secret)
		})
	}
}

func TestRequestRaiseForStatus(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.Header().Set("X-Code", strconv.Itoa(code))
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d body", code)
	}))
	tests := []struct {
		name      string
		cfgRaise  bool
		opts      []aiohttp.RequestOption
		status    int
		wantError bool
	}{
		{"off 404", false, nil, 404, false},
		{"off 500", false, nil, 500, false},
		{"request on 404", false, []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, 404, true},
		{"request on 500", false, []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, 500, true},
		{"request on 200", false, []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, 200, false},
		{"request on 399", false, []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, 399, false},
		{"request on 400", false, []aiohttp.RequestOption{aiohttp.RaiseForStatus(true)}, 400, true},
		{"config 404", true, nil, 404, true},
		{"config 500", true, nil, 500, true},
		{"config 503", true, nil, 503, true},
		{"config 200", true, nil, 200, false},
		{"config on, request off 404", true, []aiohttp.RequestOption{aiohttp.RaiseForStatus(false)}, 404, false},
		{"config on, request off 500", true, []aiohttp.RequestOption{aiohttp.RaiseForStatus(false)}, 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/", RaiseForStatus: tt.cfgRaise})
			resp, err := s.Get(context.Background(), strconv.Itoa(tt.status), tt.opts...)
			if !tt.wantError {
				require.NoError(t, err)
				defer resp.Close()
				require.Equal(t, tt.status, resp.Status)
				body, err := resp.Text()
				require.NoError(t, err)
				require.Equal(t, fmt.Sprintf("status %d body", tt.status), body)
				return
			}
			if resp != nil {
				resp.Close()
			}
			require.Error(t, err)
			require.Nil(t, resp)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var re *aiohttp.ResponseError
			require.ErrorAs(t, err, &re)
			require.Equal(t, tt.status, re.Status)
			require.Equal(t, http.StatusText(tt.status), re.Message)
			require.Equal(t, "/"+strconv.Itoa(tt.status), re.URL.Path)
			require.Equal(t, strconv.Itoa(tt.status), re.Header.Get("X-Code"))
			var rerr *aiohttp.RequestError
			require.ErrorAs(t, err, &rerr)
			require.Equal(t, "GET", rerr.Method)
			require.Contains(t, err.Error(), strconv.Itoa(tt.status))
			rqNoneInUse(t, s)
		})
	}
}

func TestRequestOptionsBundle(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	api := aiohttp.Options(
		aiohttp.Header{"X-Api": {"1"}},
		aiohttp.Params{"key": {"k"}},
		nil, // ignored
		aiohttp.Options(aiohttp.BasicAuth("u", "p"), aiohttp.Header{"X-Nested": {"n"}}),
	)
	for i := 0; i < 2; i++ { // a bundle is a value: using it twice gives the same request
		e := rqDo(t, s, "POST", "o", api, aiohttp.JSON([]int{i}))
		require.Equal(t, "/o?key=k", e.URI)
		require.Equal(t, "1", e.Header.Get("X-Api"))
		require.Equal(t, "n", e.Header.Get("X-Nested"))
		require.Equal(t, "Basic dTpw", e.Header.Get("Authorization"))
		require.Equal(t, fmt.Sprintf("[%d]", i), e.Body)
	}
	// Later options win over a bundle's.
	e := rqDo(t, s, "GET", "o", api, aiohttp.Header{"x-api": {"2"}})
	require.Equal(t, []string{"2"}, e.Header.Values("X-Api"))
}

func TestRequestMethodCase(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, tt := range []struct{ in, want string }{
		{"get", "GET"}, {"Get", "GET"}, {"pOsT", "POST"}, {"delete", "DELETE"}, {"put", "PUT"},
		{"patch", "PATCH"}, {"options", "OPTIONS"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			e := rqDo(t, s, tt.in, "m")
			require.Equal(t, tt.want, e.Method)
		})
	}
	t.Run("head", func(t *testing.T) {
		resp, err := s.Request(context.Background(), "head", "m")
		require.NoError(t, err)
		defer resp.Close()
		require.Equal(t, "HEAD", resp.Method)
		require.Equal(t, 200, resp.Status)
	})
	t.Run("invalid method", func(t *testing.T) {
		resp, err := s.Request(context.Background(), "GE T", "m")
		require.Nil(t, resp)
		var he *aiohttp.InvalidHeaderError
		require.ErrorAs(t, err, &he)
		require.ErrorIs(t, err, aiohttp.ErrClient)
	})
}

func TestRequestSessionClosed(t *testing.T) {
	srv := rqServer(t, http.HandlerFunc(rqEchoHandler))
	s, err := aiohttp.NewSession(aiohttp.Config{BaseURL: srv.URL + "/"})
	require.NoError(t, err)
	e := rqDo(t, s, "GET", "x")
	require.Equal(t, "/x", e.URI)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	resp, err := s.Get(context.Background(), "x")
	require.Nil(t, resp)
	require.ErrorIs(t, err, aiohttp.ErrSessionClosed)
	require.ErrorIs(t, err, aiohttp.ErrClient)
}

// TestRequestSessionConcurrency shares one session between 50 goroutines making 20 requests
// each; every response must be the answer to its own request.
func TestRequestSessionConcurrency(t *testing.T) {
	var served atomic.Int64
	srv := rqServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%s|%s", r.Method, r.URL.RawQuery, r.Header.Get("X-G"), body)
	}))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/", Header: http.Header{"X-Session": {"s"}}})
	const goroutines, requests = 50, 20
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := 0; i < requests; i++ {
				gs, is := strconv.Itoa(g), strconv.Itoa(i)
				var (
					resp *aiohttp.Response
					err  error
					want string
				)
				if i%2 == 0 {
					resp, err = s.Get(ctx, "c", aiohttp.Params{"g": {gs}, "i": {is}}, aiohttp.Header{"X-G": {gs}})
					want = "GET|g=" + gs + "&i=" + is + "|" + gs + "|"
				} else {
					resp, err = s.Post(ctx, "c", aiohttp.Params{"g": {gs}, "i": {is}}, aiohttp.Header{"X-G": {gs}},
						aiohttp.Body(strings.NewReader("body-"+gs+"-"+is)))
					want = "POST|g=" + gs + "&i=" + is + "|" + gs + "|body-" + gs + "-" + is
				}
				if err != nil {
					t.Errorf("goroutine %d request %d: %v", g, i, err)
					return
				}
				got, err := resp.Text()
				resp.Close()
				if err != nil {
					t.Errorf("goroutine %d request %d: body: %v", g, i, err)
					return
				}
				if got != want {
					t.Errorf("goroutine %d request %d: got %q, want %q", g, i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, goroutines*requests, served.Load())
	rqNoneInUse(t, s)
	st := s.Connector().Stats()
	require.True(t, st.Open <= aiohttp.DefaultLimit, "more open connections than the limit: %+v", st)
	require.True(t, st.Reuses > 0, "connections were never reused: %+v", st)
}
