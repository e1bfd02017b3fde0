package aiohttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"mime"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/aiohttp-go/aiohttp/internal/http1"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"golang.org/x/net/html/charset"
)

// errReadClosed is returned by Read after Close.
var errReadClosed = errors.New("read on a closed response")

// initialPresize caps the buffer Bytes allocates up front from Content-Length, which may lie.
const initialPresize = 64 << 10

// maxLine bounds one line yielded by Lines.
const maxLine = 1 << 20

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Read reads body bytes. It returns io.EOF at the end of the body, having released the
// connection to the pool. Errors are *RequestError wrapping *PayloadError (truncation, bad
// framing or encoding), *TimeoutError (Total or SockRead), or the context's error.
func (r *Response) Read(p []byte) (int, error) {
	if r.read {
		if r.off >= len(r.content) {
			return 0, io.EOF
		}
		n := copy(p, r.content[r.off:])
		r.off += n
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	if r.closed {
		return 0, &RequestError{Method: r.Method, URL: r.url.Redacted(), Err: errReadClosed}
	}
	if r.ex == nil {
		return 0, io.EOF
	}
	if r.rd == &r.body && r.decoded != "" {
		if err := r.startDecoder(); err != nil {
			return 0, r.fail(err)
		}
	}
	n, err := r.rd.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		r.endOfBody()
		return n, io.EOF
	}
	return n, r.fail(err)
}

// endOfBody releases the connection once the (decoded) body reached EOF.
func (r *Response) endOfBody() {
	ex := r.ex
	r.ex = nil
	if !r.body.Done() {
		// A decoder stopped before the raw body's end: what follows must be nothing.
		var one [1]byte
		if n, err := r.body.Read(one[:]); n != 0 || err != io.EOF {
			ex.finish(false)
			return
		}
	}
	ex.finish(!r.head.Close)
}

// fail records a body error, wrapped once, and closes the connection.
func (r *Response) fail(err error) error {
	ex := r.ex
	r.ex = nil
	r.err = &RequestError{Method: r.Method, URL: r.url.Redacted(), Err: r.bodyCause(ex, err)}
	ex.finish(false)
	return r.err
}

// bodyCause classifies a body read error: the context first, then our deadlines, then framing,
// truncation and decoding.
func (r *Response) bodyCause(ex *exchangeState, err error) error {
	pc := ex.pc
	if errors.Is(err, errReadAborted) {
		if se := ex.sourceErr(); se != nil {
			return se // the request body failed; the response read was cut short for it
		}
	}
	if raw := r.body.Err(); raw != nil && raw != io.EOF {
		err = raw // the decoder saw the raw body's failure; report that
	}
	received := r.body.N()
	var pe *http1.ParseError
	switch {
	case pc.ctx != nil && pc.ctx.Err() != nil:
		return context.Cause(pc.ctx)
	case errors.As(err, &pe):
		return &PayloadError{Reason: pe.Error(), Received: received}
	case err == http1.ErrBodyTruncated:
		return &PayloadError{Reason: "connection closed before the end of the body", Received: received}
	case errors.Is(err, syscall.ECONNRESET):
		return &PayloadError{Reason: "connection reset", Received: received, Err: err}
	}
	if c := pc.classify(err); c != err {
		return c
	}
	if r.decoded != "" {
		return &PayloadError{Reason: "cannot decode " + r.decoded + " body", Received: received, Err: err}
	}
	return &PayloadError{Reason: "read failed", Received: received, Err: err}
}

// startDecoder puts a gzip or deflate decoder over the raw body.
func (r *Response) startDecoder() error {
	if r.decoded == "deflate" {
		// "deflate" is zlib-wrapped by the RFC, raw in some servers: look at the first two bytes.
		var hdr [2]byte
		n, err := io.ReadFull(&r.body, hdr[:])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return err
		}
		src := io.MultiReader(bytes.NewReader(hdr[:n]), &r.body)
		if n == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(src)
			if err != nil {
				return err
			}
			r.rd = zr
		} else {
			r.rd = flate.NewReader(src)
		}
		return nil
	}
	zr, err := gzip.NewReader(&r.body)
	if err != nil {
		return err
	}
	r.rd = zr
	return nil
}

// WriteTo writes the rest of the body to w, for io.Copy, with a pooled 32 KiB buffer.
func (r *Response) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Bytes reads the whole body and returns it; later calls return the same slice. The buffer is
// sized from Content-Length, trusted as the bytes arrive: it starts at up to 64 KiB and grows
// fourfold towards the declared length, so a lying header costs at most four times what was
// actually received.
func (r *Response) Bytes() ([]byte, error) {
	if r.read {
		return r.content, nil
	}
	declared := r.ContentLength
	size := int64(512)
	if declared >= 0 {
		size = min(declared, initialPresize) + 1 // +1: EOF is seen without a grow
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			next := int64(cap(buf)) * 2
			if declared >= int64(len(buf)) {
				next = min(declared+1, int64(cap(buf))*4)
			}
			buf = slices.Grow(buf, int(next)-len(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	r.content, r.read, r.off = buf, true, len(buf)
	return buf, nil
}

// Text reads the whole body and decodes it to a string by the charset of Content-Type (any
// WHATWG encoding label), else for text/html by a <meta> charset in the first 1024 bytes, else
// as UTF-8. Bytes that do not decode are kept as they are.
func (r *Response) Text() (string, error) {
	b, err := r.Bytes()
	if err != nil {
		return "", err
	}
	mt, params, _ := mime.ParseMediaType(r.head.Get("Content-Type"))
	label := strings.ToLower(strings.TrimSpace(params["charset"]))
	if label == "" && mt == "text/html" {
		label = metaCharset(b)
	}
	if label == "" || label == "utf-8" || label == "utf8" {
		return string(b), nil
	}
	enc, _ := charset.Lookup(label)
	if enc == nil {
		return string(b), nil
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return string(b), nil
	}
	return string(out), nil
}

// metaCharset finds a charset declared by a <meta> tag in the first 1024 bytes of an HTML
// document: <meta charset="x"> or <meta http-equiv="Content-Type" content="...; charset=x">.
func metaCharset(b []byte) string {
	b = b[:min(len(b), 1024)]
	for {
		i := bytes.Index(bytes.ToLower(b), []byte("<meta"))
		if i < 0 {
			return ""
		}
		tag := b[i:]
		if end := bytes.IndexByte(tag, '>'); end >= 0 {
			tag = tag[:end]
		}
		b = b[i+len(tag):]
		lower := bytes.ToLower(tag)
		j := bytes.Index(lower, []byte("charset="))
		if j < 0 {
			continue
		}
		v := bytes.TrimLeft(lower[j+len("charset="):], "\"' ")
		if k := bytes.IndexAny(v, "\"' ;/"); k >= 0 {
			v = v[:k]
		}
		if len(v) > 0 {
			return string(v)
		}
	}
}

// JSON reads the whole body and decodes it into v with encoding/json. The Content-Type must be
// application/json or a +json type, else a *ContentTypeError is returned and the body is left
// unread. An empty body leaves v unchanged and returns nil (aiohttp returns None).
func (r *Response) JSON(v any) error {
	ct := r.ContentType()
	if ct != "application/json" && !strings.HasSuffix(ct, "+json") {
		return &RequestError{Method: r.Method, URL: r.url.Redacted(),
			Err: &ContentTypeError{Status: r.Status, ContentType: r.head.Get("Content-Type"), URL: r.url}}
	}
	b, err := r.Bytes()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &RequestError{Method: r.Method, URL: r.url.Redacted(), Err: err}
	}
	return nil
}

// Lines iterates over the body line by line, each without its "\n" or "\r\n". The slice is valid
// until the next step. A line longer than 1 MiB ends the iteration with a *PayloadError.
func (r *Response) Lines() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		br := bufio.NewReaderSize(r, 4<<10)
		var long []byte
		for {
			line, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				long = append(long[:0], line...)
				for err == bufio.ErrBufferFull && len(long) <= maxLine {
					line, err = br.ReadSlice('\n')
					long = append(long, line...)
				}
				if len(long) > maxLine {
					yield(nil, &RequestError{Method: r.Method, URL: r.url.Redacted(),
						Err: &PayloadError{Reason: "line longer than 1 MiB", Received: r.body.N()}})
					return
				}
				line = long
			}
			if len(line) > 0 {
				line = bytes.TrimSuffix(line, []byte{'\n'})
				line = bytes.TrimSuffix(line, []byte{'\r'})
				if !yield(line, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// Chunks iterates over the body in slices of n bytes (the last may be shorter). The slice is
// valid until the next step.
func (r *Response) Chunks(n int) iter.Seq2[[]byte, error] {
	if n <= 0 {
		n = 64 << 10
	}
	return func(yield func([]byte, error) bool) {
		buf := make([]byte, n)
		for {
			m, err := io.ReadFull(r, buf)
			if m > 0 && !yield(buf[:m], nil) {
				return
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
		}
	}
}
