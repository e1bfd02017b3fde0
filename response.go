package aiohttp

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/http1"
)

// Response is an HTTP response whose head has been read; the body is read from it on demand. It
// is an io.Reader and an io.WriterTo. Reading to EOF returns the connection to the pool; Close
// releases it early (draining a small remainder, else closing the socket). The caller owns a
// Response and must Close it; it is not safe for concurrent use.
type Response struct {
	Status        int    // status code, e.g. 200
	Reason        string // reason phrase, e.g. "OK"
	Proto         string // "HTTP/1.1" or "HTTP/1.0"
	ContentLength int64  // declared body length; -1 when unknown or when the body is decoded
	Method        string // the method of the request that got this response

	head    http1.Head
	header  http.Header // built on first use
	url     *url.URL
	history []*Response
	decoded string // the Content-Encoding being decoded, "" when none

	ex      *exchangeState // nil once the connection is released
	body    http1.Body
	rd      io.Reader // &body, or a decoder over it
	content []byte    // the whole body, once read by Bytes
	read    bool      // content holds the body
	off     int       // how much of content Read has returned
	err     error     // sticky body error, already wrapped
	closed  bool
}

// setHead fills the public fields from the parsed head.
func (r *Response) setHead(decode bool) {
	r.Status, r.Reason, r.Proto = r.head.Status, r.head.Reason, r.head.Proto()
	r.ContentLength = r.head.ContentLength
	r.rd = &r.body
	if decode && r.Method != "HEAD" {
		if enc := strings.ToLower(r.head.Get("Content-Encoding")); enc == "gzip" || enc == "x-gzip" || enc == "deflate" {
			r.decoded = enc
			r.ContentLength = -1
		}
	}
}

// Header returns the response header fields. The map is built on the first call from the head,
// which is kept as one string; when the body is decoded, Content-Encoding and Content-Length are
// left out. Changing the map changes what later calls return.
func (r *Response) Header() http.Header {
	if r.header == nil {
		h := make(http.Header, 8)
		http1.Fields(r.head.Fields, func(name, value string) bool {
			k := http.CanonicalHeaderKey(name)
			if r.decoded != "" && (k == "Content-Encoding" || k == "Content-Length") {
				return true
			}
			h[k] = append(h[k], value)
			return true
		})
		r.header = h
	}
	return r.header
}

// RawHeaders returns the header fields in wire order and case, as name and value pairs
// (aiohttp's raw_headers). It allocates the slice.
func (r *Response) RawHeaders() [][2]string {
	var out [][2]string
	http1.Fields(r.head.Fields, func(name, value string) bool {
		out = append(out, [2]string{name, value})
		return true
	})
	return out
}

// URL returns the URL of the final request, after redirects. The caller must not change it.
func (r *Response) URL() *url.URL { return r.url }

// History returns the redirect responses that led to this one, oldest first; their bodies are
// closed.
func (r *Response) History() []*Response { return r.history }

// OK reports whether the status is below 400 (aiohttp's ok).
func (r *Response) OK() bool { return r.Status < 400 }

// ContentType returns the media type of the Content-Type field, lower-case, without parameters.
func (r *Response) ContentType() string {
	mt, _, _ := mime.ParseMediaType(r.head.Get("Content-Type"))
	return mt
}

// RaiseForStatus returns a *ResponseError when the status is 4xx or 5xx, and nil otherwise. It
// does not close the response.
func (r *Response) RaiseForStatus() error {
	if r.Status < 400 {
		return nil
	}
	return &RequestError{Method: r.Method, URL: r.url.Redacted(), Err: r.responseError()}
}

func (r *Response) responseError() *ResponseError {
	return &ResponseError{Status: r.Status, Message: r.Reason, Header: r.Header(), URL: r.url, History: r.history}
}

// Close releases the response's connection. A body read to its end, or a small remainder that
// arrives within 50 ms (at most 64 KiB), lets the connection be reused; otherwise the socket is
// closed. Close is idempotent and returns nil.
func (r *Response) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	ex := r.ex
	if ex == nil {
		return nil
	}
	r.ex = nil
	if r.body.Done() {
		ex.finish(!r.head.Close)
		return nil
	}
	if r.err != nil || r.body.Kind() == http1.CloseBody || ex.writing() {
		ex.finish(false)
		return nil
	}
	ex.finish(r.drain(ex.pc) && !r.head.Close)
	return nil
}

// Close's drain budget.
const (
	drainMax  = 64 << 10
	drainWait = 50 * time.Millisecond
)

// drain reads and discards the rest of the raw body within the drain budget, and reports whether
// it reached the end.
func (r *Response) drain(pc *conn) bool {
	if r.body.Kind() == http1.LengthBody && r.body.N()+int64(drainMax) < r.head.ContentLength {
		return false // more remains than we would ever drain
	}
	// Shorten Total to the drain window; the rest of the exchange state is unused from here.
	if until := time.Now().Add(drainWait); pc.dl.total.IsZero() || until.Before(pc.dl.total) {
		dl := *pc.dl
		dl.total = until
		dl.t.Total, dl.t.SockRead = drainWait, 0
		pc.dl = &dl
	}
	var buf [4 << 10]byte
	var n int64
	for n <= drainMax {
		m, err := r.body.Read(buf[:])
		n += int64(m)
		if err != nil {
			return err == io.EOF && r.body.Done()
		}
	}
	return false
}
