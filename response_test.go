package aiohttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aiohttp-go/aiohttp"
	"github.com/aiohttp-go/aiohttp/internal/rawserver"
	"github.com/stretchr/testify/require"
)

// rsRoute is the exact response a scripted server sends for one path.
type rsRoute struct {
	raw   string
	close bool // close the connection after sending (close-delimited bodies, HTTP/1.0)
}

// rsServer starts a raw server answering each request by its path with the scripted bytes; a
// HEAD request gets the head only. Unknown paths get a 404.
func rsServer(t *testing.T, routes map[string]rsRoute) *rawserver.Server {
	t.Helper()
	return rawserver.Start(t, func(c *rawserver.Conn) {
		for {
			req, err := c.ReadRequest()
			if err != nil {
				return
			}
			rt, ok := routes[req.URL.Path]
			if !ok {
				rt = rsRoute{raw: rawserver.Response(404, "no route")}
			}
			out := rt.raw
			if req.Method == "HEAD" {
				if i := strings.Index(out, "\r\n\r\n"); i >= 0 {
					out = out[:i+4]
				}
			}
			if c.Send(out) != nil || rt.close {
				return
			}
		}
	})
}

// rsResp builds a response with Content-Length, and Content-Type when ctype is not empty.
func rsResp(status int, ctype, body string) rsRoute {
	h := "HTTP/1.1 " + strconv.Itoa(status) + " Status\r\n"
	if ctype != "" {
		h += "Content-Type: " + ctype + "\r\n"
	}
	return rsRoute{raw: h + "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body}
}

// rsChunked builds a 200 response with the body in the given chunks.
func rsChunked(ctype string, chunks ...string) rsRoute {
	h := "HTTP/1.1 200 OK\r\n"
	if ctype != "" {
		h += "Content-Type: " + ctype + "\r\n"
	}
	h += "Transfer-Encoding: chunked\r\n\r\n"
	for _, c := range chunks {
		h += strconv.FormatInt(int64(len(c)), 16) + "\r\n" + c + "\r\n"
	}
	return rsRoute{raw: h + "0\r\n\r\n"}
}

// rsClosing builds a 200 response whose body ends when the server closes the connection.
func rsClosing(ctype, body string) rsRoute {
	h := "HTTP/1.1 200 OK\r\n"
	if ctype != "" {
		h += "Content-Type: " + ctype + "\r\n"
	}
	return rsRoute{raw: h + "\r\n" + body, close: true}
}

func rsGet(t *testing.T, s *aiohttp.Session, method, u string) *aiohttp.Response {
	t.Helper()
	resp, err := s.Request(context.Background(), method, u)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Close() })
	return resp
}

func TestResponseStatusLine(t *testing.T) {
	srv := rsServer(t, map[string]rsRoute{
		"/ok":           {raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"},
		"/created":      {raw: "HTTP/1.1 201 Created Just Now\r\nContent-Length: 0\r\n\r\n"},
		"/http10":       {raw: "HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\nnope", close: true},
		"/nocontent":    {raw: "HTTP/1.1 204 No Content\r\n\r\n"},
		"/empty-reason": {raw: "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n"},
		"/chunked":      {raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"},
		"/teapot":       {raw: "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 5\r\n\r\nshort"},
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/", MaxRedirects: -1})
	tests := []struct {
		method, path string
		status       int
		reason       string
		proto        string
		length       int64
		body         string
	}{
		{"GET", "/ok", 200, "OK", "HTTP/1.1", 2, "hi"},
		{"POST", "/ok", 200, "OK", "HTTP/1.1", 2, "hi"},
		{"HEAD", "/ok", 200, "OK", "HTTP/1.1", 2, ""},
		{"GET", "/created", 201, "Created Just Now", "HTTP/1.1", 0, ""},
		{"GET", "/http10", 404, "Not Found", "HTTP/1.0", 4, "nope"},
		{"GET", "/nocontent", 204, "No Content", "HTTP/1.1", -1, ""},
		{"DELETE", "/empty-reason", 299, "", "HTTP/1.1", 0, ""},
		{"GET", "/chunked", 200, "OK", "HTTP/1.1", -1, "hi"},
		{"PUT", "/teapot", 418, "I'm a teapot", "HTTP/1.1", 5, "short"},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			resp := rsGet(t, s, tt.method, tt.path)
			require.Equal(t, tt.status, resp.Status)
			require.Equal(t, tt.reason, resp.Reason)
			require.Equal(t, tt.proto, resp.Proto)
			require.Equal(t, tt.length, resp.ContentLength)
			require.Equal(t, tt.method, resp.Method)
			require.Equal(t, srv.URL+tt.path, resp.URL().String())
			require.Empty(t, resp.History())
			b, err := resp.Bytes()
			require.NoError(t, err)
			require.Equal(t, tt.body, string(b))
		})
	}
	rqNoneInUse(t, s)
}

func TestResponseHeaders(t *testing.T) {
	srv := rsServer(t, map[string]rsRoute{
		"/h": {raw: "HTTP/1.1 200 OK\r\nx-lower: a\r\nX-Upper: b\r\nx-lower: c\r\nCONTENT-type: text/plain\r\nContent-Length: 0\r\n\r\n"},
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	resp := rsGet(t, s, "GET", "h")
	require.Equal(t, [][2]string{
		{"x-lower", "a"},
		{"X-Upper", "b"},
		{"x-lower", "c"},
		{"CONTENT-type", "text/plain"},
		{"Content-Length", "0"},
	}, resp.RawHeaders())
	h := resp.Header()
	require.Equal(t, []string{"a", "c"}, h["X-Lower"])
	require.Equal(t, []string{"b"}, h["X-Upper"])
	require.Equal(t, []string{"text/plain"}, h["Content-Type"])
	require.Equal(t, []string{"0"}, h["Content-Length"])
	require.Len(t, h, 4)
	require.Equal(t, "a", h.Get("x-lower"))
	require.Equal(t, "text/plain", resp.ContentType())
}

func TestResponseBytes(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 8<<10) // 128 KiB
	srv := rsServer(t, map[string]rsRoute{
		"/length":  rsResp(200, "text/plain", "length body"),
		"/chunked": rsChunked("text/plain", "chun", "ked ", "body"),
		"/close":   rsClosing("text/plain", "close body"),
		"/big":     rsResp(200, "", big),
		"/empty":   rsResp(200, "", ""),
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, tt := range []struct{ path, want string }{
		{"length", "length body"}, {"chunked", "chunked body"}, {"close", "close body"}, {"big", big}, {"empty", ""},
	} {
		t.Run(tt.path, func(t *testing.T) {
			resp := rsGet(t, s, "GET", tt.path)
			b1, err := resp.Bytes()
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b1))
			b2, err := resp.Bytes()
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b2))
			if len(b1) > 0 {
				require.True(t, &b1[0] == &b2[0], "the second Bytes call returned another slice")
			}
			txt, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, tt.want, txt)
			require.NoError(t, resp.Close())
			b3, err := resp.Bytes()
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b3), "Bytes after Close")
		})
	}
	rqNoneInUse(t, s)
}

func TestResponseText(t *testing.T) {
	tests := []struct {
		name, ctype, body, want string
	}{
		{"latin1", "text/plain; charset=iso-8859-1", "caf\xe9 \xbd", "café ½"},
		{"latin1 quoted upper", `text/plain; charset="ISO-8859-1"`, "caf\xe9", "café"},
		{"utf-8", "text/plain; charset=utf-8", "café ½ 日本", "café ½ 日本"},
		{"UTF-8 upper", "text/html; charset=UTF-8", "café", "café"},
		{"no charset", "text/plain", "café", "café"},
		{"no Content-Type", "", "café", "café"},
		{"json is utf-8", "application/json", `"café"`, `"café"`},
		{"windows-1251", "text/plain; charset=windows-1251", "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет"},
		{"shift_jis", "text/plain; charset=shift_jis", "\x93\xfa\x96\x7b", "日本"},
		{"empty", "text/plain; charset=iso-8859-1", "", ""},
		// DESIGN.md: "the <meta> prescan for text/html only".
		{"html meta charset", "text/html", "<html><head><meta charset=\"iso-8859-1\"></head>caf\xe9", "<html><head><meta charset=\"iso-8859-1\"></head>café"},
		{"html meta http-equiv", "text/html", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">\xcf\xf0\xe8", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">При"},
		{"header charset beats meta", "text/html; charset=utf-8", "<meta charset=\"iso-8859-1\">café", "<meta charset=\"iso-8859-1\">café"},
		{"no meta prescan outside html", "text/plain", "<meta charset=\"iso-8859-1\">café", "<meta charset=\"iso-8859-1\">café"},
	}
	routes := map[string]rsRoute{}
	for i, tt := range tests {
		routes["/"+strconv.Itoa(i)] = rsResp(200, tt.ctype, tt.body)
	}
	srv := rsServer(t, routes)
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rsGet(t, s, "GET", strconv.Itoa(i))
			txt, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, tt.want, txt)
		})
	}
}

func TestResponseJSON(t *testing.T) {
	type obj struct {
		A int `json:"a"`
	}
	tests := []struct {
		name, ctype, body string
		want              obj  // after decoding into obj{A: -1}
		ctErr             bool // *ContentTypeError
		syntaxErr         bool // a decoding error
	}{
		{"application/json", "application/json", `{"a":1}`, obj{1}, false, false},
		{"with charset", "application/json; charset=utf-8", `{"a":2}`, obj{2}, false, false},
		{"upper case", "Application/JSON", `{"a":3}`, obj{3}, false, false},
		{"problem+json", "application/problem+json", `{"a":4}`, obj{4}, false, false},
		{"vnd+json", "application/vnd.api+json", `{"a":5}`, obj{5}, false, false},
		{"text/html", "text/html", `{"a":6}`, obj{-1}, true, false},
		{"text/plain", "text/plain", `{"a":7}`, obj{-1}, true, false},
		{"no Content-Type", "", `{"a":8}`, obj{-1}, true, false},
		{"empty body", "application/json", ``, obj{-1}, false, false},
		{"whitespace body", "application/json", " \r\n\t", obj{-1}, false, false},
		{"invalid JSON", "application/json", `{"a":`, obj{-1}, false, true},
	}
	routes := map[string]rsRoute{}
	for i, tt := range tests {
		routes["/"+strconv.Itoa(i)] = rsResp(200, tt.ctype, tt.body)
	}
	srv := rsServer(t, routes)
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rsGet(t, s, "GET", strconv.Itoa(i))
			v := obj{A: -1}
			err := resp.JSON(&v)
			switch {
			case tt.ctErr:
				var ce *aiohttp.ContentTypeError
				require.ErrorAs(t, err, &ce)
				require.ErrorIs(t, err, aiohttp.ErrClient)
				require.Equal(t, 200, ce.Status)
				require.Equal(t, tt.ctype, ce.ContentType)
				// The body was left unread.
				txt, err := resp.Text()
				require.NoError(t, err)
				require.Equal(t, tt.body, txt)
			case tt.syntaxErr:
				require.ErrorIs(t, err, aiohttp.ErrClient)
				var se *json.SyntaxError
				require.True(t, errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF), "decoder error not wrapped: %T %v", err, err)
			default:
				require.NoError(t, err)
			}
			require.Equal(t, tt.want, v)
		})
	}
	t.Run("empty body into any stays nil", func(t *testing.T) {
		idx := -1
		for i, tt := range tests {
			if tt.name == "empty body" {
				idx = i
			}
		}
		resp := rsGet(t, s, "GET", strconv.Itoa(idx))
		var v any
		require.NoError(t, resp.JSON(&v))
		require.Nil(t, v)
	})
}

// rsCollect gathers the steps of a Lines or Chunks iteration, copied.
func rsCollect(t *testing.T, seq func(func([]byte, error) bool)) []string {
	t.Helper()
	out := []string{}
	for b, err := range seq {
		require.NoError(t, err)
		out = append(out, string(b))
	}
	return out
}

func TestResponseLines(t *testing.T) {
	long := strings.Repeat("x", 10_000) // longer than the line reader's buffer
	tests := []struct {
		name  string
		route rsRoute
		want  []string
	}{
		{"mixed endings", rsResp(200, "", "a\nb\r\nc"), []string{"a", "b", "c"}},
		{"trailing newline", rsResp(200, "", "a\nb\n"), []string{"a", "b"}},
		{"empty lines", rsResp(200, "", "\n\r\nx\n"), []string{"", "", "x"}},
		{"empty body", rsResp(200, "", ""), []string{}},
		{"chunks split lines", rsChunked("", "a", "b\r", "\nc\nd", "\r\n"), []string{"ab", "c", "d"}},
		{"close-delimited", rsClosing("", "one\ntwo"), []string{"one", "two"}},
		{"long line", rsResp(200, "", long+"\nend"), []string{long, "end"}},
	}
	routes := map[string]rsRoute{
		"/many": rsResp(200, "", strings.Repeat("line\n", 1000)),
		"/huge": rsResp(200, "", "first\n"+strings.Repeat("y", 1<<20+10)+"\nlast\n"),
	}
	for i, tt := range tests {
		routes["/"+strconv.Itoa(i)] = tt.route
	}
	srv := rsServer(t, routes)
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := rsGet(t, s, "GET", strconv.Itoa(i))
			require.Equal(t, tt.want, rsCollect(t, resp.Lines()))
		})
	}
	t.Run("line over 1 MiB", func(t *testing.T) {
		resp := rsGet(t, s, "GET", "huge")
		var lines int
		var lineErr error
		for line, err := range resp.Lines() {
			if err != nil {
				lineErr = err
				break
			}
			require.Equal(t, "first", string(line))
			lines++
		}
		require.Equal(t, 1, lines)
		require.ErrorIs(t, lineErr, aiohttp.ErrPayload)
		require.ErrorIs(t, lineErr, aiohttp.ErrClient)
		require.NoError(t, resp.Close())
		rqNoneInUse(t, s)
	})
	t.Run("break early", func(t *testing.T) {
		for range 3 { // the session stays usable after each early stop
			resp := rsGet(t, s, "GET", "many")
			n := 0
			for line, err := range resp.Lines() {
				require.NoError(t, err)
				require.Equal(t, "line", string(line))
				n++
				if n == 2 {
					break
				}
			}
			require.Equal(t, 2, n)
			require.NoError(t, resp.Close())
		}
		rqNoneInUse(t, s)
	})
}

func TestResponseChunks(t *testing.T) {
	srv := rsServer(t, map[string]rsRoute{
		"/8":       rsResp(200, "", "abcdefgh"),
		"/9":       rsResp(200, "", "abcdefghi"),
		"/empty":   rsResp(200, "", ""),
		"/chunked": rsChunked("", "a", "bcde", "f", "gh"),
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	tests := []struct {
		path string
		n    int
		want []string
	}{
		{"8", 3, []string{"abc", "def", "gh"}},
		{"9", 3, []string{"abc", "def", "ghi"}},
		{"8", 4, []string{"abcd", "efgh"}},
		{"8", 100, []string{"abcdefgh"}},
		{"8", 0, []string{"abcdefgh"}}, // 0: the default size
		{"8", 1, []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{"empty", 3, []string{}},
		{"chunked", 3, []string{"abc", "def", "gh"}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+strconv.Itoa(tt.n), func(t *testing.T) {
			resp := rsGet(t, s, "GET", tt.path)
			require.Equal(t, tt.want, rsCollect(t, resp.Chunks(tt.n)))
		})
	}
	t.Run("break early", func(t *testing.T) {
		resp := rsGet(t, s, "GET", "8")
		var got []string
		for b, err := range resp.Chunks(3) {
			require.NoError(t, err)
			got = append(got, string(b))
			break
		}
		require.Equal(t, []string{"abc"}, got)
		require.NoError(t, resp.Close())
		rqNoneInUse(t, s)
	})
}

// rsStackWriter records whether its Write was called from Response.WriteTo. It has no ReadFrom.
type rsStackWriter struct {
	buf        strings.Builder
	writes     int
	viaWriteTo bool
}

func (w *rsStackWriter) Write(p []byte) (int, error) {
	w.writes++
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, ".(*Response).WriteTo") {
			w.viaWriteTo = true
		}
		if !more {
			break
		}
	}
	return w.buf.Write(p)
}

func TestResponseWriteTo(t *testing.T) {
	big := strings.Repeat("0123456789", 20_000) // 200 KB
	srv := rsServer(t, map[string]rsRoute{
		"/big":     rsResp(200, "", big),
		"/chunked": rsChunked("", "hello ", "world"),
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for _, tt := range []struct{ path, want string }{{"big", big}, {"chunked", "hello world"}} {
		t.Run(tt.path, func(t *testing.T) {
			resp := rsGet(t, s, "GET", tt.path)
			var _ io.WriterTo = resp
			w := &rsStackWriter{}
			n, err := io.Copy(w, resp)
			require.NoError(t, err)
			require.Equal(t, int64(len(tt.want)), n)
			require.Equal(t, tt.want, w.buf.String())
			require.True(t, w.viaWriteTo, "io.Copy did not go through Response.WriteTo")
			// At EOF the connection is back in the pool before Close.
			rqNoneInUse(t, s)
		})
	}
}

func TestResponseReadAfterClose(t *testing.T) {
	srv := rsServer(t, map[string]rsRoute{
		"/body":  rsResp(200, "", strings.Repeat("z", 1000)),
		"/empty": rsResp(200, "", ""),
	})
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	t.Run("unread body", func(t *testing.T) {
		resp := rsGet(t, s, "GET", "body")
		require.NoError(t, resp.Close())
		require.NoError(t, resp.Close()) // idempotent
		var p [16]byte
		n, err := resp.Read(p[:])
		require.Equal(t, 0, n)
		require.Error(t, err)
		require.True(t, err != io.EOF, "Read after Close returned io.EOF")
		require.ErrorIs(t, err, aiohttp.ErrClient)
		_, err = resp.Bytes()
		require.ErrorIs(t, err, aiohttp.ErrClient)
	})
	t.Run("partly read body", func(t *testing.T) {
		resp := rsGet(t, s, "GET", "body")
		var p [16]byte
		_, err := io.ReadFull(resp, p[:])
		require.NoError(t, err)
		require.NoError(t, resp.Close())
		n, err := resp.Read(p[:])
		require.Equal(t, 0, n)
		require.ErrorIs(t, err, aiohttp.ErrClient)
	})
	rqNoneInUse(t, s)
}

func TestResponseOKAndRaiseForStatus(t *testing.T) {
	statuses := []int{200, 201, 204, 302, 399, 400, 401, 404, 418, 499, 500, 503, 599}
	routes := map[string]rsRoute{}
	for _, st := range statuses {
		if st == 204 {
			routes["/204"] = rsRoute{raw: "HTTP/1.1 204 No Content\r\n\r\n"}
			continue
		}
		routes["/"+strconv.Itoa(st)] = rsRoute{raw: "HTTP/1.1 " + strconv.Itoa(st) + " Reason " + strconv.Itoa(st) +
			"\r\nX-St: " + strconv.Itoa(st) + "\r\nContent-Length: 4\r\n\r\nbody"}
	}
	srv := rsServer(t, routes)
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/", MaxRedirects: -1})
	for _, st := range statuses {
		t.Run(strconv.Itoa(st), func(t *testing.T) {
			resp := rsGet(t, s, "GET", strconv.Itoa(st))
			require.Equal(t, st, resp.Status)
			require.Equal(t, st < 400, resp.OK())
			err := resp.RaiseForStatus()
			if st < 400 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, aiohttp.ErrClient)
			var re *aiohttp.ResponseError
			require.ErrorAs(t, err, &re)
			require.Equal(t, st, re.Status)
			require.Equal(t, "Reason "+strconv.Itoa(st), re.Message)
			require.Equal(t, strconv.Itoa(st), re.Header.Get("X-St"))
			require.Equal(t, "/"+strconv.Itoa(st), re.URL.Path)
			require.Contains(t, err.Error(), strconv.Itoa(st))
			// RaiseForStatus does not close the response.
			body, err := resp.Text()
			require.NoError(t, err)
			require.Equal(t, "body", body)
		})
	}
}

func TestResponseContentType(t *testing.T) {
	tests := []struct{ header, want string }{
		{"application/json", "application/json"},
		{"text/HTML; charset=UTF-8", "text/html"},
		{"Application/Problem+JSON ; charset=utf-8", "application/problem+json"},
		{"multipart/form-data; boundary=xyz", "multipart/form-data"},
		{"", ""},
	}
	routes := map[string]rsRoute{}
	for i, tt := range tests {
		routes["/"+strconv.Itoa(i)] = rsResp(200, tt.header, "")
	}
	srv := rsServer(t, routes)
	s := rqSession(t, aiohttp.Config{BaseURL: srv.URL + "/"})
	for i, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			resp := rsGet(t, s, "GET", strconv.Itoa(i))
			require.Equal(t, tt.want, resp.ContentType())
		})
	}
}
