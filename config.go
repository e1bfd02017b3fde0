package aiohttp

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// DefaultMaxRedirects is how many redirects a request follows unless told otherwise.
const DefaultMaxRedirects = 10

// DefaultUserAgent is sent when neither the session nor the request sets User-Agent.
const DefaultUserAgent = "aiohttp-go/0.1"

// Config configures a [Session]. The zero value is a good default; it is copied and resolved by
// [NewSession], so later edits change nothing.
type Config struct {
	// BaseURL, when set, is joined with every request URL per RFC 3986; an absolute request URL
	// wins. It must be absolute and end in "/" (as aiohttp requires).
	BaseURL string
	// Header holds default request header fields; a request's own field of the same name
	// (case-insensitively) replaces the default.
	Header http.Header
	// Timeout holds the session's timeouts; a request's Timeout option overrides them field by
	// field. Zero fields take the defaults listed on [Timeout].
	Timeout Timeout
	// Connector is shared with other sessions when set: closing the session leaves it open.
	// Nil means the session owns a connector built from ConnectorConfig.
	Connector *Connector
	// ConnectorConfig configures the session's own connector when Connector is nil.
	ConnectorConfig ConnectorConfig
	// RaiseForStatus turns 4xx and 5xx responses into *ResponseError for every request.
	RaiseForStatus bool
	// MaxRedirects is how many redirects a request follows. Zero means 10; negative means none.
	MaxRedirects int
	// NoDecompress turns off the default Accept-Encoding (gzip, deflate) and the transparent
	// decoding of gzip and deflate bodies.
	NoDecompress bool
	// MaxLineSize, MaxFieldSize and MaxHeaders bound a response head: the status line, one
	// header line, the number of fields. Zero means 8190, 8190 and 128 (aiohttp's defaults).
	MaxLineSize, MaxFieldSize, MaxHeaders int
}

// validateHeader refuses header names and values that could break the request framing.
func validateHeader(h http.Header) error {
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return &InvalidHeaderError{Name: k, Reason: "not a valid field name"}
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return &InvalidHeaderError{Name: k, Reason: "value contains CR, LF, NUL or another control character"}
			}
		}
	}
	return nil
}

// parseBaseURL checks Config.BaseURL.
func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, &InvalidURLError{URL: redactRaw(s), Reason: "BaseURL: " + urlErrReason(err)}
	}
	s = u.Redacted()
	if !u.IsAbs() || u.Host == "" {
		return nil, &InvalidURLError{URL: s, Reason: "BaseURL must be absolute"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &InvalidURLError{URL: s, Reason: "BaseURL scheme must be http or https"}
	}
	if !strings.HasSuffix(u.Path, "/") {
		return nil, &InvalidURLError{URL: s, Reason: `BaseURL must end in "/"`}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, &InvalidURLError{URL: s, Reason: "BaseURL must not have a query or fragment"}
	}
	return u, nil
}

func urlErrReason(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}
