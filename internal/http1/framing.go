package http1

import (
	"math"
	"strings"
)

// BodyKind says how a response body is delimited.
type BodyKind uint8

const (
	NoBody      BodyKind = iota // no body: HEAD, 1xx, 204, 304
	LengthBody                  // Content-Length bytes
	ChunkedBody                 // chunked transfer coding, then trailers
	CloseBody                   // everything until the server closes the connection
)

// Body returns how the body of this response to a request with the given method is delimited,
// and its length for [LengthBody]. A close-delimited body sets h.Close.
func (h *Head) Body(method string) (BodyKind, int64) {
	switch {
	case method == "HEAD", h.Status < 200, h.Status == 204, h.Status == 304:
		return NoBody, 0
	case h.Chunked:
		return ChunkedBody, -1
	case h.ContentLength >= 0:
		if h.ContentLength == 0 {
			return NoBody, 0
		}
		return LengthBody, h.ContentLength
	}
	h.Close = true
	return CloseBody, -1
}

// Fields iterates over the normalized fields of a head (or trailer) string.
func Fields(fields string, yield func(name, value string) bool) {
	for len(fields) > 0 {
		nl := strings.IndexByte(fields, '\n')
		line := fields[:nl]
		fields = fields[nl+1:]
		colon := strings.IndexByte(line, ':')
		if !yield(line[:colon], line[colon+2:]) {
			return
		}
	}
}

// Get returns the first value of the named field (ASCII case-insensitive), or "".
// It allocates nothing.
func (h *Head) Get(name string) string {
	v := ""
	Fields(h.Fields, func(n, val string) bool {
		if strings.EqualFold(n, name) {
			v = val
			return false
		}
		return true
	})
	return v
}

// parseFraming sets ContentLength, Chunked and Close from the fields.
//
// Transfer-Encoding must be a single field whose value is exactly "chunked" (ASCII
// case-insensitive): a list ("gzip, chunked", "chunked, chunked"), empty list elements and repeated
// fields are refused, like net/http and nginx do, because every lenient reading of this field has
// been a request-smuggling vector. "Connection: close" wins over "keep-alive" in any order.
func (h *Head) parseFraming() *ParseError {
	h.ContentLength, h.Chunked = -1, false
	var err *ParseError
	teFields := 0
	hasClose, hasKeepAlive := false, false
	Fields(h.Fields, func(name, value string) bool {
		// The length test first: most fields are none of these, and EqualFold costs more.
		switch {
		case len(name) == len("Content-Length") && strings.EqualFold(name, "Content-Length"):
			err = h.addContentLength(value)
		case len(name) == len("Transfer-Encoding") && strings.EqualFold(name, "Transfer-Encoding"):
			teFields++
			switch {
			case teFields > 1:
				err = &ParseError{Reason: "more than one Transfer-Encoding field"}
			case value == "":
				err = &ParseError{Reason: "empty Transfer-Encoding"}
			case !strings.EqualFold(value, "chunked"):
				err = &ParseError{Reason: "unsupported Transfer-Encoding " + quote(value)}
			}
		case len(name) == len("Connection") && strings.EqualFold(name, "Connection"):
			forEachToken(value, func(tok string) {
				if strings.EqualFold(tok, "close") {
					hasClose = true
				} else if strings.EqualFold(tok, "keep-alive") {
					hasKeepAlive = true
				}
			})
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	h.Close = hasClose || (h.Minor == 0 && !hasKeepAlive)
	if teFields == 1 {
		h.Chunked = true
		// RFC 9112 §6.3: chunked wins over Content-Length, and the connection must not be reused.
		// §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing: close after it.
		if h.ContentLength >= 0 || h.Minor == 0 {
			h.Close = true
		}
		h.ContentLength = -1
	}
	return nil
}

// addContentLength parses one Content-Length field value, which may be a list of equal values
// (RFC 9110 §8.6); an empty list element is refused.
func (h *Head) addContentLength(value string) *ParseError {
	for {
		item, rest, more := strings.Cut(value, ",")
		item = strings.Trim(item, " \t")
		n, ok := parseDecimal(item)
		switch {
		case !ok:
			return &ParseError{Reason: "invalid Content-Length " + quote(item)}
		case h.ContentLength >= 0 && h.ContentLength != n:
			return &ParseError{Reason: "conflicting Content-Length values"}
		}
		h.ContentLength = n
		if !more {
			return nil
		}
		value = rest
	}
}

// parseDecimal parses 1*DIGIT into a non-negative int64, refusing signs, spaces and overflow.
// Leading zeros are allowed.
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func forEachToken(v string, f func(string)) {
	for len(v) > 0 {
		item, rest, _ := strings.Cut(v, ",")
		v = rest
		if item = strings.Trim(item, " \t"); item != "" {
			f(item)
		}
	}
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return "\"" + s + "\""
}
