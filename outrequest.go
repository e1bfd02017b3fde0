package aiohttp

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aiohttp-go/aiohttp/internal/http1"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/idna"
)

// outRequest is one hop of a request as it goes on the wire.
type outRequest struct {
	method string
	url    *url.URL
	key    poolKey
	target string      // request-target: escaped path and query
	host   string      // Host header
	header http.Header // may be shared with the session: copy before changing
	shared bool        // header is the session's map
	body   *body
	// hostOverride is a Host header the caller set, kept on same-origin hops only.
	hostOverride string
	// decode: the Accept-Encoding is ours, so gzip and deflate bodies are decoded.
	decode bool
}

// wrap turns a cause into the public error of this request.
func (r *outRequest) wrap(err error) error {
	if err == nil {
		return nil
	}
	if re, ok := err.(*RequestError); ok {
		return re
	}
	return &RequestError{Method: r.method, URL: r.url.Redacted(), Err: err}
}

// bodyLen is the framing of the body for the request head.
func (r *outRequest) bodyLen() int64 {
	switch {
	case r.body == nil:
		if r.method == "POST" || r.method == "PUT" || r.method == "PATCH" {
			return 0 // RFC 9110 §8.6: a request with content semantics states its length
		}
		return http1.LenNone
	case r.body.size < 0:
		return http1.LenChunked
	}
	return r.body.size
}

// replayable reports whether this request may be sent again on another connection.
func (r *outRequest) replayable() bool {
	return idempotent(r.method, r.header) && r.body.rewindable()
}

// setURL validates u and derives the pool key, request-target and Host.
func (r *outRequest) setURL(u *url.URL) error {
	raw := u.Redacted()
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			return &InvalidURLError{URL: raw, Reason: "not absolute (and the session has no BaseURL)"}
		}
		return &InvalidURLError{URL: raw, Reason: "scheme " + strconv.Quote(u.Scheme) + " is not http or https"}
	case u.Host == "":
		return &InvalidURLError{URL: raw, Reason: "no host"}
	}
	host := u.Hostname()
	port := u.Port()
	if !isASCII(host) {
		a, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return &InvalidURLError{URL: raw, Reason: "host: " + err.Error()}
		}
		host = a
	}
	host = strings.ToLower(host)
	if strings.ContainsAny(host, " %") && !strings.HasPrefix(u.Host, "[") {
		return &InvalidURLError{URL: raw, Reason: "invalid host"}
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return &InvalidURLError{URL: raw, Reason: "invalid port " + strconv.Quote(port)}
		}
	}
	hostHeader := host
	if strings.Contains(host, ":") {
		hostHeader = "[" + host + "]"
	}
	if port != "" && !(u.Scheme == "http" && port == "80") && !(u.Scheme == "https" && port == "443") {
		hostHeader += ":" + port
	}
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if !httpguts.ValidHostHeader(hostHeader) {
		return &InvalidURLError{URL: raw, Reason: "invalid host"}
	}
	if strings.Contains(u.RawQuery, " ") {
		// A space is percent-encoded, as url.URL does in the path (and yarl in aiohttp).
		u.RawQuery = strings.ReplaceAll(u.RawQuery, " ", "%20")
	}
	target := u.RequestURI()
	if u.Opaque != "" || !strings.HasPrefix(target, "/") {
		return &InvalidURLError{URL: raw, Reason: "invalid path"}
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= ' ' || c == 0x7f {
			return &InvalidURLError{URL: raw, Reason: "control character or space in path or query"}
		}
	}
	u.Fragment, u.RawFragment = "", ""
	r.url = u
	r.key = poolKey{scheme: u.Scheme, addr: net.JoinHostPort(host, port)}
	r.target = target
	r.host = hostHeader
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// setHeader merges the session's defaults with the request's fields, credentials and body type,
// and validates the result. With nothing to add, the session's map is shared.
func (r *outRequest) setHeader(s *Session, b *requestBuilder) error {
	base := s.headerAE
	if r.method == "HEAD" {
		base = s.header
	}
	if _, ok := getFold(b.header, "Range"); ok {
		base = s.header
	}
	_, userAE := getFold(b.header, "Accept-Encoding")
	r.decode = s.addedAE && !userAE && base["Accept-Encoding"] != nil
	userinfo := r.url.User
	if b.header == nil && !b.auth && userinfo == nil && (r.body == nil || r.body.contentType == "") {
		r.header, r.shared = base, true
		return nil
	}
	if err := validateHeader(b.header); err != nil {
		return err
	}
	h := base.Clone()
	for k, vs := range b.header {
		deleteFold(h, k)
		h[k] = vs
	}
	if v, ok := getFold(h, "Host"); ok {
		deleteFold(h, "Host")
		if !httpguts.ValidHostHeader(v) {
			return &InvalidHeaderError{Name: "Host", Reason: "not a valid host"}
		}
		r.host, r.hostOverride = v, v
	}
	if _, ok := getFold(h, "Transfer-Encoding"); ok {
		return &InvalidHeaderError{Name: "Transfer-Encoding", Reason: "set by the library from the body; pass a Body whose length is unknown to send chunked"}
	}
	if v, ok := getFold(h, "Content-Length"); ok {
		deleteFold(h, "Content-Length")
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n < 0:
			return &InvalidHeaderError{Name: "Content-Length", Reason: "not a non-negative integer"}
		case r.body == nil && n != 0:
			return &InvalidHeaderError{Name: "Content-Length", Reason: "set to " + v + " but the request has no body"}
		case r.body != nil && r.body.size >= 0 && r.body.size != n:
			return &InvalidHeaderError{Name: "Content-Length", Reason: "set to " + v + " but the body has " + strconv.FormatInt(r.body.size, 10) + " bytes"}
		case r.body != nil && r.body.size < 0:
			r.body.size = n // the caller vouches for the length; a short body fails the request
		}
	}
	switch {
	case b.auth:
		h["Authorization"] = []string{basicAuthValue(b.user, b.pass)}
	case userinfo != nil:
		if _, ok := getFold(h, "Authorization"); !ok {
			p, _ := userinfo.Password()
			h["Authorization"] = []string{basicAuthValue(userinfo.Username(), p)}
		}
	}
	if b.auth || userinfo != nil {
		u := *r.url
		u.User = nil
		r.url = &u
	}
	if r.body != nil && r.body.contentType != "" {
		if _, ok := getFold(h, "Content-Type"); !ok {
			h["Content-Type"] = []string{r.body.contentType}
		}
	}
	r.header = h
	return nil
}

// ownHeader makes r.header a private copy before a change.
func (r *outRequest) ownHeader() {
	if r.shared {
		r.header = r.header.Clone()
		r.shared = false
	}
}
