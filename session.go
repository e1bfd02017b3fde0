package aiohttp

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/http1"
	"golang.org/x/net/http/httpguts"
)

// Session makes HTTP requests through a pooled [Connector], applying its defaults: base URL,
// header fields, timeouts, redirect policy. It is safe for concurrent use by any number of
// goroutines; make one and share it (a session per request wastes connections). Close it when
// done.
type Session struct {
	base         *url.URL
	header       http.Header // defaults, with User-Agent and Accept
	headerAE     http.Header // header plus Accept-Encoding; shared read-only
	timeout      Timeout
	conn         *Connector
	ownsConn     bool
	raise        bool
	maxRedirects int
	decompress   bool
	addedAE      bool // headerAE has our Accept-Encoding
	limits       http1.Limits
	closed       atomic.Bool
}

// NewSession validates cfg and returns a session. It starts no goroutine.
// Errors: *InvalidURLError for a bad BaseURL, *InvalidHeaderError for a bad default header
// (including Content-Length, Transfer-Encoding and Host, which only a request may set).
func NewSession(cfg Config) (*Session, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if err := validateHeader(cfg.Header); err != nil {
		return nil, err
	}
	for _, k := range [...]string{"Content-Length", "Transfer-Encoding", "Host"} {
		if _, ok := getFold(cfg.Header, k); ok {
			return nil, &InvalidHeaderError{Name: k, Reason: "not allowed as a session default: it belongs to one request"}
		}
	}
	s := &Session{
		base:         base,
		timeout:      cfg.Timeout,
		conn:         cfg.Connector,
		raise:        cfg.RaiseForStatus,
		maxRedirects: cfg.MaxRedirects,
		decompress:   !cfg.NoDecompress,
		limits:       http1.Limits{MaxLineSize: cfg.MaxLineSize, MaxFieldSize: cfg.MaxFieldSize, MaxHeaders: cfg.MaxHeaders},
	}
	switch {
	case s.maxRedirects == 0:
		s.maxRedirects = DefaultMaxRedirects
	case s.maxRedirects < 0:
		s.maxRedirects = 0
	}
	s.header = http.Header{}
	for k, vs := range cfg.Header {
		deleteFold(s.header, k)
		s.header[k] = append([]string(nil), vs...)
	}
	if _, ok := getFold(s.header, "User-Agent"); !ok {
		s.header["User-Agent"] = []string{DefaultUserAgent}
	}
	if _, ok := getFold(s.header, "Accept"); !ok {
		s.header["Accept"] = []string{"*/*"}
	}
	s.headerAE = s.header
	if _, ok := getFold(s.header, "Accept-Encoding"); !ok && s.decompress {
		s.headerAE = s.header.Clone()
		s.headerAE["Accept-Encoding"] = []string{"gzip, deflate"}
		s.addedAE = true
	}
	if s.conn == nil {
		c, err := NewConnector(cfg.ConnectorConfig)
		if err != nil {
			return nil, err
		}
		s.conn, s.ownsConn = c, true
	}
	return s, nil
}

// Connector returns the session's connector, for its Stats.
func (s *Session) Connector() *Connector { return s.conn }

// Close makes later requests fail with ErrSessionClosed and, when the session owns its
// connector, closes it: idle connections at once, others when their responses are closed.
// It is safe to call more than once.
func (s *Session) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	if s.ownsConn {
		return s.conn.Close()
	}
	return nil
}

// Get makes a GET request. See [Session.Request].
func (s *Session) Get(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "GET", url, opts...)
}

// Post makes a POST request. See [Session.Request].
func (s *Session) Post(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "POST", url, opts...)
}

// Put makes a PUT request. See [Session.Request].
func (s *Session) Put(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "PUT", url, opts...)
}

// Patch makes a PATCH request. See [Session.Request].
func (s *Session) Patch(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "PATCH", url, opts...)
}

// Delete makes a DELETE request. See [Session.Request].
func (s *Session) Delete(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "DELETE", url, opts...)
}

// Head makes a HEAD request. Unlike the other methods it does not follow redirects unless a
// [MaxRedirects] option asks it to (as aiohttp). See [Session.Request].
func (s *Session) Head(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "HEAD", url, opts...)
}

// Options makes an OPTIONS request. See [Session.Request].
func (s *Session) Options(ctx context.Context, url string, opts ...RequestOption) (*Response, error) {
	return s.Request(ctx, "OPTIONS", url, opts...)
}

// Request sends a request with the given method (upper-cased) and returns the response as soon as
// its head is read; the body is read
// from the [Response] afterwards, and the caller must Close it (reading to EOF also releases the
// connection). url is joined with the session's BaseURL. ctx bounds the whole exchange, body
// included: cancelling it fails a pending read with context.Canceled.
//
// Redirects are followed (up to 10 by default). On error the response is nil, its connection
// already released, and the error is a *RequestError wrapping one of the types in errors.go.
func (s *Session) Request(ctx context.Context, method, rawURL string, opts ...RequestOption) (*Response, error) {
	start := time.Now()
	b := requestBuilder{maxRedirects: -1, raise: -1}
	for _, o := range opts {
		if o != nil {
			o.apply(&b)
		}
	}
	method = strings.ToUpper(method)
	out, err := s.prepare(method, rawURL, &b)
	if err != nil {
		return nil, &RequestError{Method: method, URL: redactRaw(rawURL), Err: err}
	}
	if s.closed.Load() {
		return nil, out.wrap(ErrSessionClosed)
	}
	dl := newDeadlines(s.timeout.override(b.timeout).resolved(), start)
	max := s.maxRedirects
	if method == "HEAD" {
		max = 0
	}
	if b.maxRedirects >= 0 {
		max = b.maxRedirects
	}
	resp, err := s.follow(ctx, out, &dl, max)
	if err != nil {
		return nil, err
	}
	raise := s.raise
	if b.raise >= 0 {
		raise = b.raise == 1
	}
	if raise && resp.Status >= 400 {
		resp.Close()
		return nil, out.wrap(resp.responseError())
	}
	return resp, nil
}

// prepare validates the request and builds what goes on the wire.
func (s *Session) prepare(method, rawURL string, b *requestBuilder) (*outRequest, error) {
	if b.err != nil {
		return nil, b.err
	}
	if !httpguts.ValidHeaderFieldName(method) {
		return nil, &InvalidHeaderError{Name: "method", Reason: "not a valid method token"}
	}
	u, err := s.resolveURL(rawURL, b.params)
	if err != nil {
		return nil, err
	}
	out := &outRequest{method: method, body: b.body}
	if err := out.setURL(u); err != nil {
		return nil, err
	}
	if err := out.setHeader(s, b); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveURL parses rawURL, joins it with the base URL and appends params.
func (s *Session) resolveURL(rawURL string, params url.Values) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &InvalidURLError{URL: redactRaw(rawURL), Reason: urlErrReason(err)}
	}
	if s.base != nil && !u.IsAbs() {
		u = s.base.ResolveReference(u)
	}
	if len(params) > 0 {
		q := params.Encode()
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	return u, nil
}

// redactRaw redacts the password of a URL that may not parse.
func redactRaw(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "xxxxx" + raw[i:]
		}
	}
	return raw
}
