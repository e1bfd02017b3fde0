package aiohttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Error categories, for errors.Is. Every error a request or a body read returns matches
// ErrClient; the others group the concrete types below.
var (
	// ErrClient matches every error this package returns from a request or a body read.
	ErrClient = errors.New("aiohttp: client error")
	// ErrConnector matches failures to obtain a connection: DNS, dial, TLS, proxy.
	ErrConnector = errors.New("aiohttp: connector error")
	// ErrServerDisconnected matches a connection lost after it was established and before the
	// response head was complete.
	ErrServerDisconnected = errors.New("aiohttp: server disconnected")
	// ErrTimeout matches every *TimeoutError.
	ErrTimeout = errors.New("aiohttp: timeout")
	// ErrMalformedResponse matches a response head that breaks HTTP/1.1 or the configured limits.
	ErrMalformedResponse = errors.New("aiohttp: malformed response")
	// ErrPayload matches failures while reading a body: truncation, bad framing, decoding.
	ErrPayload = errors.New("aiohttp: payload error")
	// ErrSessionClosed is returned for requests made after Session.Close or Connector.Close.
	ErrSessionClosed = errors.New("aiohttp: session closed")
	// ErrBodyNotReplayable is returned when a redirect needs the request body again but it was
	// given as a reader that cannot be rewound.
	ErrBodyNotReplayable = errors.New("aiohttp: request body cannot be replayed")
)

// RequestError is the outer type of every error a request returns: the method, the URL with any
// password redacted, and the cause. Its message reads "GET https://host/path: cause".
type RequestError struct {
	Method string
	URL    string
	Err    error
}

func (e *RequestError) Error() string { return e.Method + " " + e.URL + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Is reports that every RequestError is an ErrClient.
func (e *RequestError) Is(target error) bool { return target == ErrClient }

// ConnectorError reports a failure to obtain a connection. Op is "dns", "dial" or "tls"; Addr is
// the host (for dns) or the address dialed.
type ConnectorError struct {
	Op   string
	Addr string
	Err  error
}

func (e *ConnectorError) Error() string {
	return "cannot connect to " + e.Addr + " (" + e.Op + "): " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ConnectorError) Unwrap() error { return e.Err }

// Is reports the ErrConnector category.
func (e *ConnectorError) Is(target error) bool { return target == ErrConnector }

// CertificateError reports a server certificate that failed verification.
type CertificateError struct {
	Addr string
	Err  error
}

func (e *CertificateError) Error() string {
	return "certificate of " + e.Addr + " not trusted: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *CertificateError) Unwrap() error { return e.Err }

// Is reports the ErrConnector category.
func (e *CertificateError) Is(target error) bool { return target == ErrConnector }

// SSLError reports a TLS handshake failure other than certificate verification.
type SSLError struct {
	Addr string
	Err  error
}

func (e *SSLError) Error() string {
	return "TLS handshake with " + e.Addr + " failed: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *SSLError) Unwrap() error { return e.Err }

// Is reports the ErrConnector category.
func (e *SSLError) Is(target error) bool { return target == ErrConnector }

// ServerDisconnectedError reports a connection that ended, or was reset, before the response head
// was complete. When the stale-connection retry was not attempted, Reason says why (for example
// a POST without Idempotency-Key).
type ServerDisconnectedError struct {
	Err    error
	Reason string
}

func (e *ServerDisconnectedError) Error() string {
	msg := "server disconnected before the response head was complete: " + e.Err.Error()
	if e.Reason != "" {
		msg += "; " + e.Reason
	}
	return msg
}

// Unwrap returns the cause.
func (e *ServerDisconnectedError) Unwrap() error { return e.Err }

// Is reports the ErrServerDisconnected category.
func (e *ServerDisconnectedError) Is(target error) bool { return target == ErrServerDisconnected }

// Timeout phases, the names of the [Timeout] fields that expired.
const (
	PhaseTotal       = "total"
	PhaseConnect     = "connect"
	PhaseSockConnect = "sock_connect"
	PhaseSockRead    = "sock_read"
)

// TimeoutError reports that one of the request's [Timeout] phases expired. It matches ErrTimeout
// and context.DeadlineExceeded, and is a net.Error whose Timeout method returns true.
type TimeoutError struct {
	Phase    string
	Duration time.Duration
}

func (e *TimeoutError) Error() string { return e.Phase + " timeout after " + e.Duration.String() }

// Is matches ErrTimeout and context.DeadlineExceeded.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Timeout reports true: this is a timeout (net.Error).
func (e *TimeoutError) Timeout() bool { return true }

// Temporary reports true (net.Error).
func (e *TimeoutError) Temporary() bool { return true }

// MalformedResponseError reports a response head that breaks HTTP/1.1 or the configured limits:
// status line, header syntax, conflicting framing headers, too many 1xx responses, sizes.
// Offset is the byte in the response where the problem was found.
type MalformedResponseError struct {
	Reason string
	Offset int64
}

func (e *MalformedResponseError) Error() string {
	return "malformed response: " + e.Reason + " (at byte " + strconv.FormatInt(e.Offset, 10) + ")"
}

// Is reports the ErrMalformedResponse category.
func (e *MalformedResponseError) Is(target error) bool { return target == ErrMalformedResponse }

// PayloadError reports a body that could not be read in full: truncation, bad chunked framing,
// a decoding failure. Received counts the body bytes delivered before it.
type PayloadError struct {
	Reason   string
	Received int64
	Err      error
}

func (e *PayloadError) Error() string {
	msg := "response payload is not complete: " + e.Reason + " after " + strconv.FormatInt(e.Received, 10) + " bytes"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *PayloadError) Unwrap() error { return e.Err }

// Is reports the ErrPayload category.
func (e *PayloadError) Is(target error) bool { return target == ErrPayload }

// BodySourceError reports that the request body could not be read from the caller's reader (or
// was shorter than the Content-Length the caller set). The request was abandoned.
type BodySourceError struct {
	Err error
}

func (e *BodySourceError) Error() string { return "reading the request body: " + e.Err.Error() }

// Unwrap returns the reader's error.
func (e *BodySourceError) Unwrap() error { return e.Err }

// ResponseError is returned for a 4xx or 5xx status when RaiseForStatus is on, and by
// [Response.RaiseForStatus]. The response's body was closed.
type ResponseError struct {
	Status  int
	Message string // the reason phrase
	Header  http.Header
	URL     *url.URL
	History []*Response
}

func (e *ResponseError) Error() string {
	return "status " + strconv.Itoa(e.Status) + " " + e.Message
}

// Is reports that a ResponseError is an ErrClient.
func (e *ResponseError) Is(target error) bool { return target == ErrClient }

// ContentTypeError is returned by [Response.JSON] when the response is not JSON.
type ContentTypeError struct {
	Status      int
	ContentType string
	URL         *url.URL
}

func (e *ContentTypeError) Error() string {
	return fmt.Sprintf("attempt to decode JSON with unexpected Content-Type %q (status %d)", e.ContentType, e.Status)
}

// Is reports that a ContentTypeError is an ErrClient.
func (e *ContentTypeError) Is(target error) bool { return target == ErrClient }

// TooManyRedirectsError is returned when a request is redirected more times than allowed. History
// holds the redirect responses, their bodies closed.
type TooManyRedirectsError struct {
	Max     int
	History []*Response
}

func (e *TooManyRedirectsError) Error() string {
	return "stopped after " + strconv.Itoa(e.Max) + " redirects"
}

// InvalidURLError reports a URL that cannot be requested: unparsable, relative without a base,
// a scheme other than http or https, control characters.
type InvalidURLError struct {
	URL    string
	Reason string
}

func (e *InvalidURLError) Error() string {
	return "invalid URL " + strconv.Quote(e.URL) + ": " + e.Reason
}

// InvalidHeaderError reports a request header, method or credential that cannot be sent safely
// (CR, LF, NUL or other forbidden characters), found before anything was sent.
type InvalidHeaderError struct {
	Name   string
	Reason string
}

func (e *InvalidHeaderError) Error() string {
	return "invalid request header " + strconv.Quote(e.Name) + ": " + e.Reason
}
