package aiohttp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aiohttp-go/aiohttp"
	"github.com/stretchr/testify/require"
)

// rdHop is one request a redirect test server saw.
type rdHop struct {
	Server string // label of the server
	Method string
	URI    string
	Header http.Header
	Body   string
	CL     int64
	TE     []string
}

// rdRecorder records the requests of one or more servers.
type rdRecorder struct {
	mu   sync.Mutex
	hops []rdHop
}

func (rec *rdRecorder) wrap(label string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.hops = append(rec.hops, rdHop{label, r.Method, r.RequestURI, r.Header.Clone(), string(body), r.ContentLength, r.TransferEncoding})
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// take returns the recorded hops and forgets them.
func (rec *rdRecorder) take() []rdHop {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	h := rec.hops
	rec.hops = nil
	return h
}

// rdMux serves:
//
//	/r/{code}/{n}  a redirect with status code to /r/{code}/{n-1}, and /final when n is 0
//	/to?loc=L&code=C  a redirect to L verbatim (C defaults to 302)
//	/a/b/c?go=L    a 302 to L verbatim
//	/noloc         a 302 without Location
//	anything else  200 with the request URI as the body
func rdMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/r/{code}/{n}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		n, _ := strconv.Atoi(r.PathValue("n"))
		loc := "/final"
		if n > 1 {
			loc = "/r/" + strconv.Itoa(code) + "/" + strconv.Itoa(n-1)
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(code)
		io.WriteString(w, "redirecting")
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("loc") == "" {
			io.WriteString(w, r.RequestURI)
			return
		}
		code := 302
		if c := q.Get("code"); c != "" {
			code, _ = strconv.Atoi(c)
		}
		w.Header().Set("Location", q.Get("loc"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/a/b/c", func(w http.ResponseWriter, r *http.Request) {
		if loc := r.URL.Query().Get("go"); loc != "" {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusFound)
			return
		}
		io.WriteString(w, r.RequestURI)
	})
	mux.HandleFunc("/noloc", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "no location here")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RequestURI)
	})
	return mux
}

// rdTo is the path of a /to redirect to loc with the given status.
func rdTo(loc string, code int) string {
	return "/to?" + url.Values{"loc": {loc}, "code": {strconv.Itoa(code)}}.Encode()
}

func TestRedirectFollowed(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			resp, err := s.Get(context.Background(), "/r/"+strconv.Itoa(code)+"/3")
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, 200, resp.Status)
			require.Equal(t, srv.URL+"/final", resp.URL().String())
			body, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, "/final", body)

			h := resp.History()
			require.Len(t, h, 3)
			for i, hr := range h {
				require.Equal(t, code, hr.Status, "hop %d", i)
				require.Equal(t, "/r/"+strconv.Itoa(code)+"/"+strconv.Itoa(3-i), hr.URL().Path, "hop %d", i)
				require.Equal(t, "GET", hr.Method)
			}
			require.Equal(t, "/r/"+strconv.Itoa(code)+"/2", h[0].Header().Get("Location"))
			require.Equal(t, "/final", h[2].Header().Get("Location"))

			hops := rec.take()
			require.Len(t, hops, 4)
			for _, hop := range hops {
				require.Equal(t, "GET", hop.Method)
			}
		})
	}
	rqNoneInUse(t, s)
}

// rdSeeker is an io.ReadSeeker of no type the library knows.
type rdSeeker struct{ *strings.Reader }

func TestRedirectMethodAndBody(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	big := strings.Repeat("abcdefghij", 10_000) // over the inline write size

	advancedStrings := func() io.Reader {
		r := strings.NewReader("XXXhello")
		_, _ = io.CopyN(io.Discard, r, 3)
		return r
	}
	advancedBytes := func() io.Reader {
		r := bytes.NewReader([]byte("XXXhello"))
		_, _ = io.CopyN(io.Discard, r, 3)
		return r
	}
	advancedSeeker := func() io.Reader {
		r := rdSeeker{strings.NewReader("XXXhello")}
		_, _ = io.CopyN(io.Discard, r, 3)
		return r
	}
	file := func() io.Reader {
		p := filepath.Join(t.TempDir(), "body")
		require.NoError(t, os.WriteFile(p, []byte("XXXhello"), 0o600))
		f, err := os.Open(p)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		_, _ = io.CopyN(io.Discard, f, 3)
		return f
	}

	tests := []struct {
		name       string
		method     string
		code       int
		opt        func() aiohttp.RequestOption
		body       string // what the first hop carries
		ctype      string
		wantMethod string // of the second hop
		keepBody   bool
	}{
		{"POST 303 becomes GET", "POST", 303, func() aiohttp.RequestOption { return aiohttp.JSON(map[string]int{"a": 1}) }, `{"a":1}`, "application/json", "GET", false},
		{"POST 301 becomes GET", "POST", 301, func() aiohttp.RequestOption { return aiohttp.Form(url.Values{"a": {"1"}}) }, "a=1", "application/x-www-form-urlencoded", "GET", false},
		{"POST 302 becomes GET", "POST", 302, func() aiohttp.RequestOption { return aiohttp.JSON([]int{1}) }, "[1]", "application/json", "GET", false},
		{"POST 302 streaming body becomes GET", "POST", 302, func() aiohttp.RequestOption { return aiohttp.Body(io.MultiReader(strings.NewReader("stream"))) }, "stream", "", "GET", false},
		{"PUT 303 becomes GET", "PUT", 303, func() aiohttp.RequestOption { return aiohttp.Body(strings.NewReader("put")) }, "put", "", "GET", false},
		{"DELETE 303 becomes GET", "DELETE", 303, func() aiohttp.RequestOption { return nil }, "", "", "GET", false},
		{"PUT 301 stays PUT", "PUT", 301, func() aiohttp.RequestOption { return aiohttp.Body(strings.NewReader("put")) }, "put", "", "PUT", true},
		{"POST 307 JSON", "POST", 307, func() aiohttp.RequestOption { return aiohttp.JSON(map[string]int{"a": 1}) }, `{"a":1}`, "application/json", "POST", true},
		{"POST 308 JSON", "POST", 308, func() aiohttp.RequestOption { return aiohttp.JSON(map[string]int{"a": 1}) }, `{"a":1}`, "application/json", "POST", true},
		{"PUT 307 bytes.Buffer", "PUT", 307, func() aiohttp.RequestOption { return aiohttp.Body(bytes.NewBufferString("buffer")) }, "buffer", "", "PUT", true},
		{"POST 307 strings.Reader", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(strings.NewReader("hello")) }, "hello", "", "POST", true},
		{"POST 308 strings.Reader", "POST", 308, func() aiohttp.RequestOption { return aiohttp.Body(strings.NewReader("hello")) }, "hello", "", "POST", true},
		{"PATCH 308 bytes.Reader", "PATCH", 308, func() aiohttp.RequestOption { return aiohttp.Body(bytes.NewReader([]byte("hello"))) }, "hello", "", "PATCH", true},
		{"POST 307 large strings.Reader", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(strings.NewReader(big)) }, big, "", "POST", true},
		{"POST 307 large bytes", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(bytes.NewBufferString(big)) }, big, "", "POST", true},
		{"POST 307 other ReadSeeker, advanced", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(advancedSeeker()) }, "hello", "", "POST", true},
		{"POST 307 os.File, advanced", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(file()) }, "hello", "", "POST", true},
		{"POST 307 strings.Reader, advanced", "POST", 307, func() aiohttp.RequestOption { return aiohttp.Body(advancedStrings()) }, "hello", "", "POST", true},
		{"POST 308 bytes.Reader, advanced", "POST", 308, func() aiohttp.RequestOption { return aiohttp.Body(advancedBytes()) }, "hello", "", "POST", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []aiohttp.RequestOption
			if o := tt.opt(); o != nil {
				opts = append(opts, o)
			}
			resp, err := s.Request(context.Background(), tt.method, rdTo("/dest", tt.code), opts...)
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, 200, resp.Status)
			require.Equal(t, tt.wantMethod, resp.Method)
			require.Len(t, resp.History(), 1)
			require.Equal(t, tt.method, resp.History()[0].Method)
			require.Equal(t, tt.code, resp.History()[0].Status)
			body, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, "/dest", body)

			hops := rec.take()
			require.Len(t, hops, 2)
			first, second := hops[0], hops[1]
			require.Equal(t, tt.method, first.Method)
			require.Equal(t, tt.body, first.Body, "first hop body")
			require.Equal(t, tt.ctype, first.Header.Get("Content-Type"))

			require.Equal(t, tt.wantMethod, second.Method)
			require.Equal(t, "/dest", second.URI)
			if tt.keepBody {
				require.Equal(t, tt.body, second.Body, "second hop body")
				require.Equal(t, tt.ctype, second.Header.Get("Content-Type"))
				require.Equal(t, first.CL, second.CL)
				require.Equal(t, first.TE, second.TE)
			} else {
				require.Empty(t, second.Body)
				require.Empty(t, second.Header.Get("Content-Type"), "Content-Type left on a GET without body")
				require.Empty(t, second.Header.Get("Content-Length"))
				require.Empty(t, second.TE)
				require.EqualValues(t, 0, second.CL)
			}
		})
	}
	rqNoneInUse(t, s)
}

func TestRedirectBodyNotReplayable(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, code := range []int{307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			body := io.MultiReader(strings.NewReader("once"), strings.NewReader(" only"))
			resp, err := s.Post(context.Background(), rdTo("/dest", code), aiohttp.Body(body))
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp)
			require.ErrorIs(t, err, aiohttp.ErrBodyNotReplayable)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var re *aiohttp.RequestError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "POST", re.Method)
			hops := rec.take()
			require.Len(t, hops, 1, "the body was sent once only")
			require.Equal(t, "once only", hops[0].Body)
		})
	}
	rqNoneInUse(t, s)
}

func TestRedirectLimits(t *testing.T) {
	srv := rqServer(t, rdMux())
	tests := []struct {
		name      string
		cfgMax    int
		opts      []aiohttp.RequestOption
		chain     int
		wantMax   int // of the TooManyRedirectsError; 0: no error
		wantHist  int
		wantFinal int
	}{
		{"default follows 10", 0, nil, 10, 0, 10, 200},
		{"default refuses 11", 0, nil, 11, 10, 11, 0},
		{"MaxRedirects(2) follows 2", 0, []aiohttp.RequestOption{aiohttp.MaxRedirects(2)}, 2, 0, 2, 200},
		{"MaxRedirects(2) refuses 3", 0, []aiohttp.RequestOption{aiohttp.MaxRedirects(2)}, 3, 2, 3, 0},
		{"MaxRedirects(20) follows 15", 0, []aiohttp.RequestOption{aiohttp.MaxRedirects(20)}, 15, 0, 15, 200},
		{"NoRedirects", 0, []aiohttp.RequestOption{aiohttp.NoRedirects}, 3, 0, 0, 302},
		{"MaxRedirects(0)", 0, []aiohttp.RequestOption{aiohttp.MaxRedirects(0)}, 3, 0, 0, 302},
		{"MaxRedirects(-1) is none", 0, []aiohttp.RequestOption{aiohttp.MaxRedirects(-1)}, 3, 0, 0, 302},
		{"Config.MaxRedirects 3 follows 3", 3, nil, 3, 0, 3, 200},
		{"Config.MaxRedirects 3 refuses 4", 3, nil, 4, 3, 4, 0},
		{"Config.MaxRedirects negative is none", -1, nil, 2, 0, 0, 302},
		{"request overrides Config", -1, []aiohttp.RequestOption{aiohttp.MaxRedirects(5)}, 2, 0, 2, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/", MaxRedirects: tt.cfgMax})
			resp, err := s.Get(context.Background(), "/r/302/"+strconv.Itoa(tt.chain), tt.opts...)
			if tt.wantMax > 0 {
				if resp != nil {
					resp.Close()
				}
				require.Nil(t, resp)
				require.ErrorIs(t, err, aiohttp.ErrClient)
				var tm *aiohttp.TooManyRedirectsError
				require.ErrorAs(t, err, &tm)
				require.Equal(t, tt.wantMax, tm.Max)
				require.Len(t, tm.History, tt.wantHist)
				for i, hr := range tm.History {
					require.Equal(t, 302, hr.Status)
					require.Equal(t, "/r/302/"+strconv.Itoa(tt.chain-i), hr.URL().Path)
				}
				rqNoneInUse(t, s)
				return
			}
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, tt.wantFinal, resp.Status)
			require.Len(t, resp.History(), tt.wantHist)
			if tt.wantFinal == 302 {
				require.Equal(t, "/r/302/"+strconv.Itoa(tt.chain), resp.URL().Path)
				require.NotEmpty(t, resp.Header().Get("Location"))
				body, err := resp.Text()
				require.NoError(t, err)
				require.Equal(t, "redirecting", body)
			} else {
				require.Equal(t, "/final", resp.URL().Path)
			}
		})
	}
}

func TestRedirectHead(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})

	resp, err := s.Head(context.Background(), "/r/302/2")
	require.NoError(t, err)
	require.Equal(t, 302, resp.Status)
	require.Equal(t, "/r/302/1", resp.Header().Get("Location"))
	require.Empty(t, resp.History())
	require.NoError(t, resp.Close())
	require.Len(t, rec.take(), 1)

	resp, err = s.Head(context.Background(), "/r/302/2", aiohttp.MaxRedirects(5))
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status)
	require.Equal(t, "/final", resp.URL().Path)
	require.Len(t, resp.History(), 2)
	require.NoError(t, resp.Close())
	hops := rec.take()
	require.Len(t, hops, 3)
	for _, h := range hops {
		require.Equal(t, "HEAD", h.Method)
	}

	// A 303 keeps HEAD.
	resp, err = s.Head(context.Background(), rdTo("/dest", 303), aiohttp.MaxRedirects(1))
	require.NoError(t, err)
	require.Equal(t, 200, resp.Status)
	require.NoError(t, resp.Close())
	hops = rec.take()
	require.Len(t, hops, 2)
	require.Equal(t, "HEAD", hops[1].Method)
	rqNoneInUse(t, s)
}

// TestRedirectCredentialsAcrossOrigins: a hop to another origin drops Authorization, Cookie and
// Proxy-Authorization, for good; a same-origin hop keeps them.
func TestRedirectCredentialsAcrossOrigins(t *testing.T) {
	rec := &rdRecorder{}
	a := rqServer(t, rec.wrap("A", rdMux()))
	b := rqServer(t, rec.wrap("B", rdMux()))
	aPort := a.URL[strings.LastIndex(a.URL, ":")+1:]
	aLocal := "http://localhost:" + aPort // same port, another host

	// chain builds the start URL of a redirect chain through the given bases, ending in /final.
	chain := func(code int, bases ...string) string {
		loc := bases[len(bases)-1] + "/final"
		for i := len(bases) - 2; i >= 0; i-- {
			loc = bases[i] + rdTo(loc, code)
		}
		return loc
	}

	type hopWant struct {
		server string
		creds  bool // Authorization, Cookie, Proxy-Authorization present
	}
	routes := []struct {
		name  string
		start string
		want  []hopWant
	}{
		{"same origin absolute", chain(302, a.URL, a.URL), []hopWant{{"A", true}, {"A", true}}},
		{"same origin relative", a.URL + rdTo("/final", 307), []hopWant{{"A", true}, {"A", true}}},
		{"other port", chain(302, a.URL, b.URL), []hopWant{{"A", true}, {"B", false}}},
		{"other port 307", chain(307, a.URL, b.URL), []hopWant{{"A", true}, {"B", false}}},
		{"other host", chain(302, a.URL, aLocal), []hopWant{{"A", true}, {"A", false}}},
		{"A to B to A", chain(302, a.URL, b.URL, a.URL), []hopWant{{"A", true}, {"B", false}, {"A", false}}},
		{"A to A to B to A", chain(301, a.URL, a.URL, b.URL, a.URL), []hopWant{{"A", true}, {"A", true}, {"B", false}, {"A", false}}},
	}
	const (
		authz  = "Basic dTpw" // u:p
		cookie = "c=1"
		proxy  = "Basic cHJveHk6cHc="
	)
	sources := []struct {
		name    string
		cfg     aiohttp.Config
		opts    []aiohttp.RequestOption
		userURL bool // put u:p in the start URL
	}{
		{name: "BasicAuth", opts: []aiohttp.RequestOption{aiohttp.BasicAuth("u", "p")}},
		{name: "Header option", opts: []aiohttp.RequestOption{aiohttp.Header{"Authorization": {authz}}}},
		{name: "lower-case Header option", opts: []aiohttp.RequestOption{aiohttp.Header{"authorization": {authz}}}},
		{name: "session default", cfg: aiohttp.Config{Header: http.Header{"Authorization": {authz}}}},
		{name: "URL credentials", userURL: true},
	}
	for _, src := range sources {
		for _, rt := range routes {
			t.Run(src.name+"/"+rt.name, func(t *testing.T) {
				s := rqSession(t, src.cfg)
				start := rt.start
				if src.userURL {
					start = "http://u:p@" + strings.TrimPrefix(start, "http://")
				}
				opts := append([]aiohttp.RequestOption{
					aiohttp.Header{"Cookie": {cookie}, "proxy-authorization": {proxy}, "X-Custom": {"kept"}},
				}, src.opts...)
				resp, err := s.Get(context.Background(), start, opts...)
				require.NoError(t, err)
				defer resp.Close()
				require.Equal(t, 200, resp.Status)
				require.Equal(t, "/final", resp.URL().Path)
				hops := rec.take()
				require.Len(t, hops, len(rt.want))
				for i, w := range rt.want {
					h := hops[i]
					require.Equal(t, w.server, h.Server, "hop %d", i)
					require.Equal(t, "kept", h.Header.Get("X-Custom"), "hop %d", i)
					if w.creds {
						require.Equal(t, authz, h.Header.Get("Authorization"), "hop %d", i)
						require.Equal(t, cookie, h.Header.Get("Cookie"), "hop %d", i)
						require.Equal(t, proxy, h.Header.Get("Proxy-Authorization"), "hop %d", i)
					} else {
						require.Empty(t, h.Header.Values("Authorization"), "hop %d to %s", i, h.Server)
						require.Empty(t, h.Header.Values("Cookie"), "hop %d to %s", i, h.Server)
						require.Empty(t, h.Header.Values("Proxy-Authorization"), "hop %d to %s", i, h.Server)
					}
				}
				// Dropping them changed no shared map: the next request still sends them.
				again := a.URL + "/again"
				if src.userURL {
					again = "http://u:p@" + strings.TrimPrefix(again, "http://")
				}
				resp2, err := s.Get(context.Background(), again, opts...)
				require.NoError(t, err)
				require.NoError(t, resp2.Close())
				hops = rec.take()
				require.Len(t, hops, 1)
				require.Equal(t, authz, hops[0].Header.Get("Authorization"))
				require.Equal(t, cookie, hops[0].Header.Get("Cookie"))
				require.Equal(t, proxy, hops[0].Header.Get("Proxy-Authorization"))
			})
		}
	}
}

func TestRedirectRefusedScheme(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, loc := range []string{"ftp://x/", "file:///etc/passwd", "javascript:alert(1)", "mailto:a@example.com", "ws://127.0.0.1/", "data:text/plain,hi", "http://[::1", "http://127.0.0.1:99999/", "http://"} {
		t.Run(loc, func(t *testing.T) {
			resp, err := s.Get(context.Background(), rdTo(loc, 302))
			if resp != nil {
				resp.Close()
			}
			require.Nil(t, resp)
			var ue *aiohttp.InvalidURLError
			require.ErrorAs(t, err, &ue)
			require.ErrorIs(t, err, aiohttp.ErrClient)
			require.Len(t, rec.take(), 1, "nothing was requested after the refused hop")
			rqNoneInUse(t, s)
		})
	}
}

func TestRedirectRelativeLocation(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	host := strings.TrimPrefix(srv.URL, "http://")
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	tests := []struct {
		loc, want string
	}{
		{"../x", "/a/x"},
		{"/y", "/y"},
		{"?z", "/a/b/c?z"},
		{"d", "/a/b/d"},
		{"./d?e=1", "/a/b/d?e=1"},
		{"../../../../up", "/up"},
		{"/y#frag", "/y"},
		{"//" + host + "/p", "/p"},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			resp, err := s.Get(context.Background(), "/a/b/c", aiohttp.Params{"go": {tt.loc}})
			require.NoError(t, err)
			defer resp.Close()
			require.Equal(t, 200, resp.Status)
			require.Equal(t, tt.want, resp.URL().RequestURI())
			require.Len(t, resp.History(), 1)
			require.Equal(t, "/a/b/c", resp.History()[0].URL().Path)
			hops := rec.take()
			require.Len(t, hops, 2)
			require.Equal(t, tt.want, hops[1].URI)
		})
	}
}

// TestRedirectLocationCredentialsIgnored: user:password in a Location is never sent.
func TestRedirectLocationCredentialsIgnored(t *testing.T) {
	rec := &rdRecorder{}
	srv := rqServer(t, rec.wrap("A", rdMux()))
	host := strings.TrimPrefix(srv.URL, "http://")
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	resp, err := s.Get(context.Background(), rdTo("http://evil:pw@"+host+"/final", 302))
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, 200, resp.Status)
	require.Nil(t, resp.URL().User)
	hops := rec.take()
	require.Len(t, hops, 2)
	require.Empty(t, hops[1].Header.Values("Authorization"))
}

func TestRedirectMissingLocation(t *testing.T) {
	srv := rqServer(t, rdMux())
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	resp, err := s.Get(context.Background(), "/noloc")
	require.NoError(t, err)
	defer resp.Close()
	require.Equal(t, 302, resp.Status)
	require.Empty(t, resp.History())
	require.Equal(t, "/noloc", resp.URL().Path)
	body, err := resp.Text()
	require.NoError(t, err)
	require.Equal(t, "no location here", body)
	require.False(t, errors.Is(resp.RaiseForStatus(), aiohttp.ErrClient))
}
