// Package http1 is the HTTP/1.1 wire codec of the client: it writes request heads and chunked
// bodies, parses response heads under size limits, and frames response bodies (Content-Length,
// chunked with trailers, close-delimited). It sees only [bufio.Reader] and [io.Writer]: sockets,
// deadlines, pooling and error wrapping belong to the caller.
package http1

import (
	"errors"
	"strconv"
)

// ParseError reports a response head or body framing that breaks the HTTP/1.1 grammar or one of
// the configured limits. Offset counts bytes from the start of the head (or of the body for
// framing errors) to where the problem was found.
type ParseError struct {
	Reason string
	Offset int64
	// StatusLine is set when the first status line of a response is what is broken: no valid
	// status line arrived (a client may then treat the bytes as left over on a stale connection).
	StatusLine bool
}

func (e *ParseError) Error() string {
	return e.Reason + " (at byte " + strconv.FormatInt(e.Offset, 10) + ")"
}

// ErrHeadTruncated is returned when the connection ends inside a response head, after at least
// one byte of it arrived.
var ErrHeadTruncated = errors.New("connection closed inside the response head")

// ErrBodyTruncated is returned by [Body.Read] when the connection ends before the body's framing
// says it is complete.
var ErrBodyTruncated = errors.New("connection closed before the end of the body")
