package http1

import (
	"bufio"
	"bytes"
	"io"
)

// Chunk-extension budget, after Go's fix for CVE-2023-39326: every chunk may carry 16 bytes of
// size line plus twice its data in overhead; beyond that, at most 16 KiB in total.
const (
	chunkOverheadFree = 16
	maxChunkOverhead  = 16 << 10
)

// Body reads one response body from a [bufio.Reader] according to its framing. It returns io.EOF
// exactly at the end of the body, [ErrBodyTruncated] when the connection ends early and
// *[ParseError] for broken chunked framing; any error is sticky. The zero value is unusable: call
// [Body.Reset].
type Body struct {
	br      *bufio.Reader
	lim     Limits
	kind    BodyKind
	remain  int64 // LengthBody: bytes left; ChunkedBody: bytes left in the current chunk
	state   chunkState
	excess  int64 // chunked overhead beyond the free allowance
	n       int64 // bytes delivered
	off     int64 // bytes consumed from br, framing included: the Offset of a *ParseError
	err     error
	trailer []byte
	long    []byte
}

type chunkState uint8

const (
	wantSize chunkState = iota
	inData
	wantDataCRLF
	inTrailer
	bodyDone
)

// Reset prepares b to read a body of the given kind (and length, for [LengthBody]) from br.
func (b *Body) Reset(br *bufio.Reader, kind BodyKind, length int64, lim Limits) {
	*b = Body{br: br, lim: lim.resolved(), kind: kind, remain: length, trailer: b.trailer[:0], long: b.long[:0]}
	switch {
	case kind == NoBody || (kind == LengthBody && length == 0):
		b.state, b.err = bodyDone, io.EOF
	case kind == LengthBody && length < 0:
		b.err = &ParseError{Reason: "negative body length"}
	}
}

// Done reports whether the body was read to its end and the framing was intact, so that the
// connection is positioned at the next response.
func (b *Body) Done() bool { return b.state == bodyDone && b.err == io.EOF }

// N returns the number of body bytes delivered so far.
func (b *Body) N() int64 { return b.n }

// Kind returns the body's framing.
func (b *Body) Kind() BodyKind { return b.kind }

// Trailer returns the trailer fields after a chunked body, normalized like [Head.Fields].
func (b *Body) Trailer() string { return string(b.trailer) }

// Read implements io.Reader. At the last byte of a body it returns io.EOF with the data when the
// framing's end is already buffered, so the connection can be released without another call.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	switch b.kind {
	case LengthBody:
		if int64(len(p)) > b.remain {
			p = p[:b.remain]
		}
		n, b.err = b.br.Read(p)
		b.remain -= int64(n)
		if b.remain == 0 {
			b.state, b.err = bodyDone, io.EOF
		} else if b.err == io.EOF {
			b.err = ErrBodyTruncated
		}
	case CloseBody:
		n, b.err = b.br.Read(p)
		if b.err == io.EOF {
			b.state = bodyDone
		}
	case ChunkedBody:
		n, b.err = b.readChunked(p)
	}
	b.n += int64(n)
	if b.kind != ChunkedBody {
		b.off += int64(n)
	}
	if n > 0 && b.err != nil && b.err != io.EOF {
		// Deliver the bytes now; the sticky error comes with the next call.
		return n, nil
	}
	return n, b.err
}

func (b *Body) readChunked(p []byte) (int, error) {
	for b.state != inData {
		if b.state == bodyDone {
			return 0, io.EOF
		}
		if err := b.step(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.br.Read(p)
	b.remain -= int64(n)
	b.off += int64(n)
	if err == io.EOF {
		return n, ErrBodyTruncated
	}
	if err != nil {
		return n, err
	}
	if b.remain == 0 {
		b.state = wantDataCRLF
		// Walk the framing that is already buffered, so the end of the body is seen eagerly.
		for b.state != inData && b.state != bodyDone && b.lineBuffered() {
			if err := b.step(); err != nil {
				return n, err
			}
		}
		if b.state == bodyDone {
			return n, io.EOF
		}
	}
	return n, nil
}

// lineBuffered reports whether a whole line is already in the read buffer.
func (b *Body) lineBuffered() bool {
	buf, _ := b.br.Peek(b.br.Buffered())
	return bytes.IndexByte(buf, '\n') >= 0
}

// step consumes one framing line: a chunk's trailing CRLF, a size line or a trailer line.
func (b *Body) step() error {
	max := b.lim.MaxLineSize
	if b.state == inTrailer {
		max = b.lim.MaxFieldSize
	}
	at := b.off
	line, n, err := readLine(b.br, max, &b.long, "chunked framing line")
	b.off += int64(n)
	if err != nil {
		if err == io.EOF || err == ErrHeadTruncated {
			err = ErrBodyTruncated
		}
		return b.fail(offsetErr(err, at))
	}
	// Chunked framing requires CRLF: a bare LF is refused (Go's CVE-2025-22871 fix).
	if n == len(line)+1 {
		return b.fail(&ParseError{Reason: "bare LF in chunked framing", Offset: at + int64(len(line))})
	}
	switch b.state {
	case wantDataCRLF:
		if len(line) != 0 {
			return b.fail(&ParseError{Reason: "chunk data not followed by CRLF", Offset: at})
		}
		b.state = wantSize
	case wantSize:
		size, err := parseChunkSize(line)
		if err != nil {
			return b.fail(&ParseError{Reason: err.Error(), Offset: at})
		}
		b.excess += int64(n) - chunkOverheadFree - 2*size
		if b.excess < 0 {
			b.excess = 0
		}
		if b.excess > maxChunkOverhead {
			return b.fail(&ParseError{Reason: "too much chunk-extension overhead", Offset: at})
		}
		if size == 0 {
			b.state = inTrailer
		} else {
			b.state, b.remain = inData, size
		}
	case inTrailer:
		if len(line) == 0 {
			b.state = bodyDone
			b.err = io.EOF
			return io.EOF
		}
		return b.addTrailer(line, at)
	}
	return nil
}

func (b *Body) addTrailer(line []byte, at int64) error {
	if bytes.Count(b.trailer, []byte{'\n'}) >= b.lim.MaxHeaders {
		return b.fail(&ParseError{Reason: "more trailer fields than the limit", Offset: at})
	}
	if line[0] == ' ' || line[0] == '\t' {
		return b.fail(&ParseError{Reason: "folded trailer line", Offset: at})
	}
	name, value, perr := splitField(line)
	if perr != nil {
		perr.Offset += at
		perr.Reason = "trailer: " + perr.Reason
		return b.fail(perr)
	}
	if forbiddenTrailer(name) {
		return b.fail(&ParseError{Reason: "trailer: forbidden field " + quote(string(name)), Offset: at})
	}
	b.trailer = append(b.trailer, name...)
	b.trailer = append(b.trailer, ':', ' ')
	b.trailer = append(b.trailer, value...)
	b.trailer = append(b.trailer, '\n')
	return nil
}

func forbiddenTrailer(name []byte) bool {
	for _, f := range [...]string{"Content-Length", "Transfer-Encoding", "Trailer", "Host", "Content-Encoding", "Content-Type"} {
		if len(name) == len(f) && bytes.EqualFold(name, []byte(f)) {
			return true
		}
	}
	return false
}

func (b *Body) fail(err error) error {
	b.err = err
	return err
}

type chunkErr string

func (e chunkErr) Error() string { return string(e) }

// parseChunkSize parses "1*HEXDIG [BWS ; ext]" of at most 15 hex digits, so that the size always
// fits an int64 (2^60-1 bytes is more than any real body).
func parseChunkSize(line []byte) (int64, error) {
	i := 0
	var n uint64
	for ; i < len(line); i++ {
		c := line[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			goto end
		}
		if i >= 15 {
			return 0, chunkErr("chunk size too large")
		}
		n = n<<4 | uint64(d)
	}
end:
	if i == 0 {
		return 0, chunkErr("invalid chunk size line")
	}
	rest := line[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if rest[0] != ';' {
			return 0, chunkErr("invalid chunk size line")
		}
		if badValueByte(rest) >= 0 {
			return 0, chunkErr("invalid character in chunk extension")
		}
	}
	return int64(n), nil
}
