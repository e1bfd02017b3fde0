package http1

import (
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
func (h *Head) parseFraming() *ParseError {
	h.ContentLength, h.Chunked = -1, false
	h.Close = h.Minor == 0
	var err *ParseError
	teCount := 0
	Fields(h.Fields, func(name, value string) bool {
		switch {
		case strings.EqualFold(name, "Content-Length"):
			err = h.addContentLength(value)
		case strings.EqualFold(name, "Transfer-Encoding"):
			if value == "" {
				err = &ParseError{Reason: "empty Transfer-Encoding"}
			}
			forEachToken(value, func(tok string) {
				teCount++
				if !strings.EqualFold(tok, "chunked") {
					err = &ParseError{Reason: "unsupported Transfer-Encoding " + quote(tok)}
				}
			})
		case strings.EqualFold(name, "Connection"):
			forEachToken(value, func(tok string) {
				if strings.EqualFold(tok, "close") {
					h.Close = true
				} else if strings.EqualFold(tok, "keep-alive") && h.Minor == 0 {
					h.Close = false
				}
			})
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	switch {
	case teCount > 1:
		return &ParseError{Reason: "Transfer-Encoding lists chunked more than once"}
	case teCount == 1:
		h.Chunked = true
		if h.ContentLength >= 0 {
			// RFC 9112 §6.3: chunked wins, and the connection must not be reused.
			h.ContentLength = -1
			h.Close = true
		}
	}
	return nil
}

// addContentLength parses one Content-Length field value, which may be a list of equal values.
func (h *Head) addContentLength(value string) *ParseError {
	if value == "" {
		return &ParseError{Reason: "empty Content-Length"}
	}
	var err *ParseError
	for len(value) > 0 && err == nil {
		item, rest, _ := strings.Cut(value, ",")
		value = rest
		item = strings.Trim(item, " \t")
		n, ok := parseDecimal(item)
		switch {
		case !ok:
			err = &ParseError{Reason: "invalid Content-Length " + quote(item)}
		case h.ContentLength >= 0 && h.ContentLength != n:
			err = &ParseError{Reason: "conflicting Content-Length values"}
		default:
			h.ContentLength = n
		}
	}
	return err
}

// parseDecimal parses 1*DIGIT into a non-negative int64, refusing signs, spaces and overflow.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
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
