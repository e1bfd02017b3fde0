package http1

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Framing values for [AppendRequestHead]'s bodyLen besides a Content-Length.
const (
	LenNone    = -2 // no body, no framing header
	LenChunked = -1 // Transfer-Encoding: chunked
)

// AppendRequestHead appends an HTTP/1.1 request head to dst: the request line, Host, the header
// fields with their keys sorted (values in order, keys written as they are in the map), then the
// framing header for bodyLen ([LenNone], [LenChunked] or a Content-Length), then the blank line.
// Names and values must have been validated by the caller; a "Host" key in header (in any case)
// is skipped, so that the head never carries two Host fields.
func AppendRequestHead(dst []byte, method, target, host string, header http.Header, bodyLen int64) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	var stack [24]string
	keys := stack[:0]
	for k := range header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(k) == 4 && strings.EqualFold(k, "Host") {
			continue
		}
		for _, v := range header[k] {
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	switch {
	case bodyLen == LenChunked:
		dst = append(dst, "Transfer-Encoding: chunked\r\n"...)
	case bodyLen >= 0:
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, bodyLen, 10)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// ChunkedWriter writes the chunked transfer coding to W. Write sends one chunk per call (empty
// writes send nothing); Close writes the last chunk and no trailers. It does not close W.
type ChunkedWriter struct {
	W   io.Writer
	hdr [20]byte
}

// Write writes p as one chunk.
func (c *ChunkedWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	h := strconv.AppendInt(c.hdr[:0], int64(len(p)), 16)
	h = append(h, '\r', '\n')
	if _, err := c.W.Write(h); err != nil {
		return 0, err
	}
	n, err := c.W.Write(p)
	if err != nil {
		return n, err
	}
	if _, err := io.WriteString(c.W, "\r\n"); err != nil {
		return n, err
	}
	return n, nil
}

// Close writes the terminating zero-length chunk and the empty trailer.
func (c *ChunkedWriter) Close() error {
	_, err := io.WriteString(c.W, "0\r\n\r\n")
	return err
}
