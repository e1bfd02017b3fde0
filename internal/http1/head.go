package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Default limits, the same as aiohttp's (and llhttp's) defaults.
const (
	DefaultMaxLineSize  = 8190
	DefaultMaxFieldSize = 8190
	DefaultMaxHeaders   = 128
	// Max1xx bounds the informational (1xx) heads skipped before the final one.
	Max1xx = 16
)

// Limits bounds what one response head may hold. Zero fields take the defaults above.
type Limits struct {
	MaxLineSize  int // the status line and each chunk-size line, without the line ending
	MaxFieldSize int // one header line, folded continuations included
	MaxHeaders   int // header fields in a head, and trailer fields after a chunked body
}

func (l Limits) resolved() Limits {
	if l.MaxLineSize <= 0 {
		l.MaxLineSize = DefaultMaxLineSize
	}
	if l.MaxFieldSize <= 0 {
		l.MaxFieldSize = DefaultMaxFieldSize
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	return l
}

// Head is a parsed response head. Raw keeps the whole head in one string: the status line, then
// one normalized line per field, "Name: value\n", in wire order and case (obs-fold replaced by a
// space, surrounding whitespace trimmed). Reason and Fields are substrings of Raw.
type Head struct {
	Raw    string
	Minor  int // HTTP/1.Minor
	Status int
	Reason string
	Fields string

	// ContentLength is the declared body length, or -1 when there is none (or chunked wins).
	ContentLength int64
	// Chunked is set when Transfer-Encoding is exactly "chunked".
	Chunked bool
	// Close is set when the connection must not be reused after this response: Connection: close,
	// HTTP/1.0 without keep-alive, both Content-Length and Transfer-Encoding present, or
	// Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1).
	Close bool
}

// Proto returns "HTTP/1.1" or "HTTP/1.0".
func (h *Head) Proto() string {
	if h.Minor == 0 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// ReadResponseHead reads the next final response head from br, skipping at most [Max1xx]
// informational heads (a 101 is final and returned). scratch is reusable memory for the caller's
// next call, and may be nil. It returns the bytes consumed and:
//   - io.EOF when the connection closed before any byte arrived;
//   - [ErrHeadTruncated] when it closed inside a head;
//   - *[ParseError] for a malformed head or one over the limits, as soon as the first bytes
//     cannot begin "HTTP/1." (a truncated HTTP/0.9 body is malformed, not truncated);
//   - any other error from br unchanged.
//
// It allocates the head string and nothing else when scratch has room.
func ReadResponseHead(br *bufio.Reader, lim Limits, h *Head, scratch *[]byte) (int64, error) {
	lim = lim.resolved()
	var total int64
	for i := 0; ; i++ {
		n, err := readOneHead(br, lim, h, scratch, total)
		total += n
		if err != nil {
			if err == io.EOF && total > 0 {
				err = ErrHeadTruncated
			}
			return total, err
		}
		if h.Status >= 200 || h.Status == 101 {
			return total, nil
		}
		if i+1 > Max1xx {
			return total, &ParseError{Reason: "too many informational (1xx) responses", Offset: total}
		}
	}
}

func readOneHead(br *bufio.Reader, lim Limits, h *Head, scratch *[]byte, base int64) (int64, error) {
	var local, long []byte
	if scratch == nil {
		scratch = &local
	}
	head := (*scratch)[:0]
	defer func() { *scratch = head[:0] }()
	var off int64
	if n, err := checkVersionPrefix(br); err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.Offset, pe.StatusLine = base, base == 0
		}
		return int64(n), err
	}
	line, n, err := readLine(br, lim.MaxLineSize, &long, "status line")
	off += int64(n)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.StatusLine = base == 0
		}
		return off, offsetErr(err, base)
	}
	if err := parseStatusLine(line, h); err != nil {
		return off, &ParseError{Reason: err.Error(), Offset: base, StatusLine: base == 0}
	}
	head = append(head, line...)
	head = append(head, '\n')
	statusLen := len(head)
	// fieldSize counts the wire bytes of the current field, folds included, so that continuation
	// lines adding nothing (whitespace only) still use up the field's budget.
	fields, fieldSize, valueStart := 0, 0, 0
	for {
		lineOff := base + off
		line, n, err := readLine(br, lim.MaxFieldSize, &long, "header line")
		off += int64(n)
		if err != nil {
			if err == io.EOF {
				err = ErrHeadTruncated
			}
			return off, offsetErr(err, lineOff)
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if fields == 0 {
				return off, &ParseError{Reason: "whitespace before the first header field", Offset: lineOff}
			}
			// obs-fold: RFC 9112 §5.2 asks a user agent to replace it with a space.
			if bad := badValueByte(line); bad >= 0 {
				return off, &ParseError{Reason: ctlReason(line[bad], "header value"), Offset: lineOff + int64(bad)}
			}
			v := trimOWS(line)
			if fieldSize += len(line); fieldSize > lim.MaxFieldSize {
				return off, &ParseError{Reason: "header field over the size limit", Offset: lineOff}
			}
			if len(v) == 0 {
				continue
			}
			head = head[:len(head)-1]
			if len(head) > valueStart {
				head = append(head, ' ')
			}
			head = append(head, v...)
			head = append(head, '\n')
			continue
		}
		fields++
		if fields > lim.MaxHeaders {
			return off, &ParseError{Reason: "more header fields than the limit", Offset: lineOff}
		}
		name, value, perr := splitField(line)
		if perr != nil {
			perr.Offset += lineOff
			return off, perr
		}
		fieldSize = len(line)
		head = append(head, name...)
		head = append(head, ':', ' ')
		valueStart = len(head)
		head = append(head, value...)
		head = append(head, '\n')
	}
	raw := string(head)
	h.Raw = raw
	h.Fields = raw[statusLen:]
	h.Reason = raw[reasonStart(raw[:statusLen-1]) : statusLen-1]
	if err := h.parseFraming(); err != nil {
		err.Offset = base
		return off, err
	}
	return off, nil
}

func offsetErr(err error, at int64) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Offset += at
	}
	return err
}

// readLine returns one line without its ending: CRLF or a bare LF (the policy: bare LF is accepted
// as net/http and most clients do; a CR anywhere else is refused). The line may alias br's buffer
// or *long (used for lines longer than br's buffer), valid until the next read. n counts the bytes
// consumed, line ending included.
//
// A line is over the limit as soon as more than max+1 bytes (max, then a CR) arrived without a LF,
// whatever the buffering and whether or not the connection closes next.
func readLine(br *bufio.Reader, max int, long *[]byte, what string) (line []byte, n int, err error) {
	frag, err := br.ReadSlice('\n')
	n = len(frag)
	if err == bufio.ErrBufferFull {
		*long = append((*long)[:0], frag...)
		for err == bufio.ErrBufferFull {
			if len(*long) > max+1 {
				return nil, n, &ParseError{Reason: what + " over the size limit", Offset: int64(max)}
			}
			frag, err = br.ReadSlice('\n')
			n += len(frag)
			*long = append(*long, frag...)
		}
		frag = *long
	}
	if err != nil && len(frag) > max+1 {
		return nil, n, &ParseError{Reason: what + " over the size limit", Offset: int64(max)}
	}
	if err != nil {
		if err == io.EOF && n > 0 {
			return nil, n, ErrHeadTruncated
		}
		return nil, n, err
	}
	line = frag[:len(frag)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > max {
		return nil, n, &ParseError{Reason: what + " over the size limit", Offset: int64(max)}
	}
	if i := bytes.IndexByte(line, '\r'); i >= 0 {
		return nil, n, &ParseError{Reason: "bare CR in " + what, Offset: int64(i)}
	}
	return line, n, nil
}

// checkVersionPrefix refuses a response that cannot start with "HTTP/1." as soon as its first
// bytes arrived, so that a peer speaking something else (an HTTP/0.9 body, TLS, a banner) gets a
// *ParseError rather than [ErrHeadTruncated] when it closes before sending a whole line. It then
// consumes the bytes it looked at (n of them): the connection is unusable anyway, and n > 0 tells
// the caller that bytes did arrive.
// A read error other than EOF (a deadline, a reset) is returned as it is, with n the bytes that
// did arrive: Peek reports it once, and reading on would wait again.
func checkVersionPrefix(br *bufio.Reader) (n int, err error) {
	const prefix = "HTTP/1."
	buf, perr := br.Peek(len(prefix))
	if string(buf) == prefix[:len(buf)] {
		if perr != nil && perr != io.EOF {
			return len(buf), perr
		}
		return 0, nil
	}
	pe := &ParseError{Reason: "malformed status line (expected HTTP/1.x)"}
	if len(buf) >= 5 && string(buf[:5]) == "HTTP/" {
		pe.Reason = "unsupported HTTP version in status line"
	}
	n, _ = br.Discard(len(buf))
	return n, pe
}

// parseStatusLine accepts "HTTP/1.d SP 3DIGIT [SP reason]".
func parseStatusLine(line []byte, h *Head) error {
	switch {
	case len(line) < 5 || string(line[:5]) != "HTTP/":
		return errors.New("malformed status line (expected HTTP/1.x)")
	case len(line) < 8 || string(line[:7]) != "HTTP/1." || !isDigit(line[7]) || (len(line) > 8 && line[8] != ' '):
		return errors.New("unsupported HTTP version in status line")
	case len(line) < 12:
		return errors.New("malformed status code in status line")
	}
	c := line[9:12]
	if !isDigit(c[0]) || !isDigit(c[1]) || !isDigit(c[2]) || c[0] == '0' {
		return errors.New("malformed status code in status line")
	}
	if len(line) > 12 && line[12] != ' ' {
		return errors.New("malformed status code in status line")
	}
	if len(line) > 13 {
		if bad := badValueByte(line[13:]); bad >= 0 {
			return errors.New(ctlReason(line[13+bad], "reason phrase"))
		}
	}
	h.Minor = int(line[7] - '0')
	h.Status = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
	return nil
}

func reasonStart(status string) int {
	if len(status) > 13 {
		return 13
	}
	return len(status)
}

// splitField validates "name: value" and returns the name and the trimmed value.
func splitField(line []byte) (name, value []byte, err *ParseError) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, nil, &ParseError{Reason: "header line without a colon"}
	}
	if colon == 0 {
		return nil, nil, &ParseError{Reason: "empty header name"}
	}
	name = line[:colon]
	for i, c := range name {
		if !isTokenByte(c) {
			if (c == ' ' || c == '\t') && i == len(name)-1 {
				return nil, nil, &ParseError{Reason: "whitespace between header name and colon", Offset: int64(i)}
			}
			return nil, nil, &ParseError{Reason: ctlReason(c, "header name"), Offset: int64(i)}
		}
	}
	value = line[colon+1:]
	if bad := badValueByte(value); bad >= 0 {
		return nil, nil, &ParseError{Reason: ctlReason(value[bad], "header value"), Offset: int64(colon + 1 + bad)}
	}
	return name, trimOWS(value), nil
}

func ctlReason(c byte, where string) string {
	switch c {
	case 0:
		return "NUL in " + where
	case '\r':
		return "bare CR in " + where
	case '\n':
		return "bare LF in " + where
	}
	return "invalid character in " + where
}

// badValueByte returns the index of the first byte not allowed in a field value (CTLs but HTAB),
// or -1.
func badValueByte(v []byte) int {
	for i, c := range v {
		if badValueTable[c] {
			return i
		}
	}
	return -1
}

var badValueTable = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = c != '\t'
	}
	t[0x7f] = true
	return t
}()

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isTokenByte reports whether c is a tchar of RFC 9110 §5.6.2.
func isTokenByte(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
