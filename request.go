package aiohttp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// RequestOption changes one request: its query, headers, body, timeouts or redirect policy.
// Options are immutable values, safe to build once and share between goroutines. The set is
// closed: only this package implements it.
type RequestOption interface {
	apply(*requestBuilder)
}

// requestBuilder collects what the options of one request say.
type requestBuilder struct {
	params       url.Values
	header       http.Header
	body         *body
	err          error
	user, pass   string
	auth         bool
	timeout      Timeout
	maxRedirects int // -1 unset
	raise        int // -1 unset, 0 false, 1 true
}

// Params are query parameters appended after the URL's own query, in key order.
type Params url.Values

func (p Params) apply(b *requestBuilder) {
	if b.params == nil {
		b.params = url.Values{}
	}
	for k, vs := range p {
		b.params[k] = append(b.params[k], vs...)
	}
}

// Header sets request header fields, replacing the session's default of the same name (compared
// case-insensitively). Keys are sent as written, so exact case is possible.
type Header http.Header

func (h Header) apply(b *requestBuilder) {
	if b.header == nil {
		b.header = http.Header{}
	}
	for k, vs := range h {
		deleteFold(b.header, k)
		b.header[k] = append([]string(nil), vs...)
	}
}

// deleteFold removes every key of h equal to name ignoring case.
func deleteFold(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// getFold returns the first value of name in h ignoring case, and whether it is present.
func getFold(h http.Header, name string) (string, bool) {
	if vs, ok := h[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0], true
		}
	}
	return "", false
}

type jsonOption struct{ v any }

// JSON sends v encoded with encoding/json as the body, with Content-Type application/json.
// v is encoded when the request is made.
func JSON(v any) RequestOption { return jsonOption{v} }

func (o jsonOption) apply(b *requestBuilder) {
	data, err := json.Marshal(o.v)
	if err != nil {
		b.err = err
		return
	}
	b.body = &body{data: data, size: int64(len(data)), contentType: "application/json"}
}

type formOption struct{ v url.Values }

// Form sends v URL-encoded as the body, with Content-Type application/x-www-form-urlencoded.
func Form(v url.Values) RequestOption { return formOption{v} }

func (o formOption) apply(b *requestBuilder) {
	data := []byte(o.v.Encode())
	b.body = &body{data: data, size: int64(len(data)), contentType: "application/x-www-form-urlencoded"}
}

type bodyOption struct{ r io.Reader }

// Body sends what r yields as the request body. Its length is sent as Content-Length when known
// (*bytes.Buffer, *bytes.Reader, *strings.Reader, a regular *os.File), else the body is chunked.
// A body that is an io.Seeker, or bytes, can be sent again for a 307/308 redirect or a retry;
// any other reader cannot, and such a request is never sent twice. A streaming body is read on
// a goroutine of its own while the response head is awaited; if the exchange ends before the
// body is sent (an early response, an error, a timeout), r is closed when it is an io.Closer, so
// that a blocked read returns, and the request waits for that goroutine before it returns.
func Body(r io.Reader) RequestOption { return bodyOption{r} }

func (o bodyOption) apply(b *requestBuilder) {
	b.body = newBody(o.r)
}

type basicAuth struct{ user, pass string }

// BasicAuth sends the credentials with HTTP Basic authentication. They are dropped on a
// redirect to another origin.
func BasicAuth(user, password string) RequestOption { return basicAuth{user, password} }

func (a basicAuth) apply(b *requestBuilder) {
	b.user, b.pass, b.auth = a.user, a.pass, true
}

func basicAuthValue(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type maxRedirects int

func (n maxRedirects) apply(b *requestBuilder) { b.maxRedirects = int(n) }

// MaxRedirects follows at most n redirects (0: none); more give a *TooManyRedirectsError.
// It also makes Head follow redirects, which it does not by default.
func MaxRedirects(n int) RequestOption {
	if n < 0 {
		n = 0
	}
	return maxRedirects(n)
}

// NoRedirects returns redirect responses to the caller instead of following them.
const NoRedirects = maxRedirects(0)

type raiseForStatus bool

func (r raiseForStatus) apply(b *requestBuilder) {
	b.raise = 0
	if r {
		b.raise = 1
	}
}

// RaiseForStatus overrides the session's RaiseForStatus for one request: when on, a 4xx or 5xx
// response is closed and returned as a *ResponseError.
func RaiseForStatus(on bool) RequestOption { return raiseForStatus(on) }

type options []RequestOption

func (o options) apply(b *requestBuilder) {
	for _, opt := range o {
		if opt != nil {
			opt.apply(b)
		}
	}
}

// Options bundles several options into one, for example the headers and auth of one API.
func Options(opts ...RequestOption) RequestOption {
	return options(append([]RequestOption(nil), opts...))
}

// body is a request body: bytes, or a reader, with its length when known.
type body struct {
	data        []byte    // the whole body, when in memory
	r           io.Reader // else the source
	seeker      io.Seeker // set when r can be rewound
	start       int64     // r's offset when first used
	size        int64     // -1: unknown, sent chunked
	contentType string
	used        bool          // r has been read from
	writer      chan struct{} // closed when the goroutine writing r returns
}

func newBody(r io.Reader) *body {
	switch v := r.(type) {
	case nil:
		return &body{data: []byte{}, size: 0}
	case *bytes.Buffer:
		data := v.Bytes()
		return &body{data: data, size: int64(len(data))}
	case *bytes.Reader:
		return &body{r: v, seeker: v, start: v.Size() - int64(v.Len()), size: int64(v.Len())}
	case *strings.Reader:
		return &body{r: v, seeker: v, start: v.Size() - int64(v.Len()), size: int64(v.Len())}
	case *os.File:
		b := &body{r: v, size: -1}
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			if pos, err := v.Seek(0, io.SeekCurrent); err == nil {
				b.seeker, b.start, b.size = v, pos, fi.Size()-pos
			}
		}
		return b
	}
	b := &body{r: r, size: -1}
	if s, ok := r.(io.Seeker); ok {
		if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
			b.seeker, b.start = s, pos
		}
	}
	return b
}

// rewindable reports whether the body can be sent again.
func (b *body) rewindable() bool {
	return b == nil || b.data != nil || b.seeker != nil || !b.used
}

// rewind prepares the body to be sent again.
func (b *body) rewind() error {
	if b == nil || b.data != nil || !b.used {
		return nil
	}
	if b.writer != nil {
		// A writer of an ended exchange reads no more, but may be inside one Read: wait for it,
		// or two writers would share the reader.
		<-b.writer
		b.writer = nil
	}
	if b.seeker == nil {
		return ErrBodyNotReplayable
	}
	if _, err := b.seeker.Seek(b.start, io.SeekStart); err != nil {
		return err
	}
	b.used = false
	return nil
}

// idempotent reports whether a request with this method may be sent twice (RFC 9110 §9.2.2).
func idempotent(method string, h http.Header) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	_, ok := getFold(h, "Idempotency-Key")
	return ok
}
