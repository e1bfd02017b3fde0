package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type readResult struct {
	n   int
	err error
}

// drain reads b to its first error with reads of size bytes, and returns the data, every Read's
// result and the final error (io.EOF for a clean end).
func drain(t testing.TB, b *Body, size int) (string, []readResult, error) {
	t.Helper()
	buf := make([]byte, size)
	var out []byte
	var reads []readResult
	for range 1 << 22 {
		n, err := b.Read(buf)
		if n < 0 || n > size {
			t.Fatalf("Read returned n=%d for a %d-byte buffer", n, size)
		}
		out = append(out, buf[:n]...)
		reads = append(reads, readResult{n, err})
		if err != nil {
			if n2, err2 := b.Read(buf); n2 != 0 || err2 != err {
				t.Fatalf("error not sticky: after %v, Read returned %d, %v", err, n2, err2)
			}
			return string(out), reads, err
		}
	}
	t.Fatal("Read never returned an error")
	return "", nil, nil
}

func newBody(br *bufio.Reader, kind BodyKind, length int64, lim Limits) *Body {
	b := new(Body)
	b.Reset(br, kind, length, lim)
	return b
}

var readSizes = []int{1, 7, 4096}

func TestBodyLength(t *testing.T) {
	forEachReader(t, func(t *testing.T, rk readerKind) {
		for _, size := range readSizes {
			br := rk.new("hello world")
			b := newBody(br, LengthBody, 5, Limits{})
			assert.Equal(t, LengthBody, b.Kind())
			data, reads, err := drain(t, b, size)
			assert.Equal(t, io.EOF, err, "size %d", size)
			assert.Equal(t, "hello", data)
			assert.Equal(t, int64(5), b.N())
			assert.True(t, b.Done(), "Done")
			last := reads[len(reads)-1]
			assert.True(t, last.n > 0, "size %d: the Read returning the last byte returns io.EOF too: %v", size, reads)
			rest, _ := io.ReadAll(br)
			assert.Equal(t, " world", string(rest), "the body is consumed exactly")
		}
	})
}

func TestBodyLengthTruncated(t *testing.T) {
	const body = "0123456789"
	forEachReader(t, func(t *testing.T, rk readerKind) {
		for i := range len(body) {
			b := newBody(rk.new(body[:i]), LengthBody, int64(len(body)), Limits{})
			data, _, err := drain(t, b, 3)
			require.ErrorIs(t, err, ErrBodyTruncated, "prefix %d", i)
			assert.Equal(t, body[:i], data)
			assert.True(t, !b.Done(), "Done after truncation")
		}
	})
}

func TestBodyClose(t *testing.T) {
	forEachReader(t, func(t *testing.T, rk readerKind) {
		for _, in := range []string{"", "x", "all of it until the connection closes"} {
			b := newBody(rk.new(in), CloseBody, -1, Limits{})
			data, _, err := drain(t, b, 5)
			assert.Equal(t, io.EOF, err)
			assert.Equal(t, in, data)
			assert.True(t, b.Done(), "Done")
			assert.Equal(t, int64(len(in)), b.N())
		}
	})
}

func TestBodyNone(t *testing.T) {
	for _, tc := range []struct {
		kind   BodyKind
		length int64
	}{{NoBody, 0}, {LengthBody, 0}} {
		br := bufio.NewReader(strings.NewReader("NEXT"))
		b := newBody(br, tc.kind, tc.length, Limits{})
		n, err := b.Read(make([]byte, 8))
		assert.Equal(t, 0, n)
		assert.Equal(t, io.EOF, err)
		assert.True(t, b.Done(), "Done")
		assert.Equal(t, 4, br.Buffered()+len(mustReadAll(t, br)), "nothing consumed")
	}
}

func mustReadAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

func TestBodyEdgeCases(t *testing.T) {
	b := newBody(bufio.NewReader(strings.NewReader("abc")), LengthBody, 3, Limits{})
	n, err := b.Read(nil)
	assert.Equal(t, 0, n)
	assert.Equal(t, nil, err, "an empty Read")

	b = newBody(bufio.NewReader(strings.NewReader("abc")), LengthBody, -5, Limits{})
	_, err = b.Read(make([]byte, 4))
	parseErr(t, err, "negative body length")
}

func TestBodyReaderError(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		in     string
		kind   BodyKind
		length int64
	}{
		{"hel", LengthBody, 5},
		{"hel", CloseBody, -1},
		{"5\r\nhel", ChunkedBody, -1},
		{"5\r\nhello\r", ChunkedBody, -1},
		{"5\r\nhello\r\n0\r\nA: b", ChunkedBody, -1},
	} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(tc.in), errReader{errBoom}), 16)
		b := newBody(br, tc.kind, tc.length, Limits{})
		_, _, err := drain(t, b, 64)
		assert.True(t, err == errBoom, "%q: got %v, want the reader's error unchanged", tc.in, err)
		assert.True(t, !b.Done(), "Done")
	}
}

// validChunked are well-formed chunked bodies.
var validChunked = []struct {
	name, in, data, trailer string
}{
	{"empty", "0\r\n\r\n", "", ""},
	{"single chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", ""},
	{"many chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world", ""},
	{"hex digits", "a\r\n0123456789\r\nA\r\nabcdefghij\r\n1f\r\n" + strings.Repeat("x", 31) + "\r\n0\r\n\r\n", "0123456789abcdefghij" + strings.Repeat("x", 31), ""},
	{"15 hex digits", "000000000000005\r\nhello\r\n000000000000000\r\n\r\n", "hello", ""},
	{"chunk larger than buffers", "1000\r\n" + strings.Repeat("z", 4096) + "\r\n0\r\n\r\n", strings.Repeat("z", 4096), ""},
	{"extensions", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", ""},
	{"quoted extension", "5;a=\"b c\";d\r\nhello\r\n0\r\n\r\n", "hello", ""},
	{"BWS before extension", "5 ;a\r\nhello\r\n0\t;b\r\n\r\n", "hello", ""},
	{"whitespace after size", "5 \r\nhello\r\n0\r\n\r\n", "hello", ""},
	{"obs-text in extension", "5;a=\xff\r\nhello\r\n0\r\n\r\n", "hello", ""},
	{"data holding CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n", ""},
	{"trailers", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nx-other:  v \t\r\nEmpty:\r\n\r\n", "hello", "X-Checksum: abc\nx-other: v\nEmpty: \n"},
	{"DefaultMaxHeaders trailers", "0\r\n" + manyFields(DefaultMaxHeaders) + "\r\n", "", manyFieldsNormalized(DefaultMaxHeaders)},
}

func TestBodyChunkedValid(t *testing.T) {
	for _, tc := range validChunked {
		t.Run(tc.name, func(t *testing.T) {
			forEachReader(t, func(t *testing.T, rk readerKind) {
				for _, size := range readSizes {
					br := rk.new(tc.in + "NEXT")
					b := newBody(br, ChunkedBody, -1, Limits{})
					assert.Equal(t, ChunkedBody, b.Kind())
					data, _, err := drain(t, b, size)
					assert.Equal(t, io.EOF, err, "size %d", size)
					assert.Equal(t, tc.data, data)
					assert.Equal(t, tc.trailer, b.Trailer())
					assert.Equal(t, int64(len(tc.data)), b.N())
					assert.True(t, b.Done(), "Done")
					assert.Equal(t, "NEXT", string(mustReadAll(t, br)), "the body is consumed exactly")
				}
			})
		})
	}
}

// TestBodyChunkedEagerEOF checks that when the whole body is buffered, the Read that returns the
// last data byte also returns io.EOF, so the connection can be released without another call.
func TestBodyChunkedEagerEOF(t *testing.T) {
	for _, in := range []string{
		"5\r\nhello\r\n0\r\n\r\n",
		"5\r\nhello\r\n6\r\n world\r\n0;ext\r\n\r\n",
		"5\r\nhello\r\n0\r\nA: b\r\nC: d\r\n\r\n",
	} {
		for _, size := range readSizes {
			br := bufio.NewReader(strings.NewReader(in))
			b := newBody(br, ChunkedBody, -1, Limits{})
			_, reads, err := drain(t, b, size)
			assert.Equal(t, io.EOF, err)
			last := reads[len(reads)-1]
			assert.True(t, last.n > 0 && last.err == io.EOF, "%q size %d: reads %v", in, size, reads)
			assert.True(t, b.Done(), "Done")
		}
	}

	// When the terminator has not arrived yet, the last data comes with nil and the next Read
	// returns io.EOF.
	br := bufio.NewReader(io.MultiReader(strings.NewReader("5\r\nhello\r\n"), strings.NewReader("0\r\n\r\n")))
	b := newBody(br, ChunkedBody, -1, Limits{})
	_, reads, err := drain(t, b, 64)
	assert.Equal(t, io.EOF, err)
	assert.Equal(t, []readResult{{5, nil}, {0, io.EOF}}, reads)
	assert.True(t, b.Done(), "Done")
}

// TestBodyChunkedTruncated cuts a chunked body with extensions and trailers at every byte offset:
// each prefix must end in ErrBodyTruncated, never in a clean io.EOF.
func TestBodyChunkedTruncated(t *testing.T) {
	const body = "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n1\r\n!\r\n0\r\nX-T: y\r\nZ: 1\r\n\r\n"
	const data = "hello0123456789!"
	forEachReader(t, func(t *testing.T, rk readerKind) {
		for i := range len(body) {
			for _, size := range []int{1, 64} {
				b := newBody(rk.new(body[:i]), ChunkedBody, -1, Limits{})
				got, _, err := drain(t, b, size)
				require.ErrorIs(t, err, ErrBodyTruncated, "prefix %q", body[:i])
				assert.True(t, strings.HasPrefix(data, got), "prefix %q gave data %q", body[:i], got)
				assert.True(t, !b.Done(), "Done after truncation")
			}
		}
		b := newBody(rk.new(body), ChunkedBody, -1, Limits{})
		got, _, err := drain(t, b, 64)
		assert.Equal(t, io.EOF, err)
		assert.Equal(t, data, got)
		assert.Equal(t, "X-T: y\nZ: 1\n", b.Trailer())
	})
}

func floodChunks(count, extLen int) string {
	chunk := "1;" + strings.Repeat("e", extLen) + "\r\nx\r\n"
	return strings.Repeat(chunk, count) + "0\r\n\r\n"
}

// malformedChunked must each fail with a *ParseError about reason.
var malformedChunked = []struct {
	name, in, reason string
	lim              Limits
}{
	{name: "non-hex size", in: "x\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "empty size", in: "\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "16 hex digits", in: "1000000000000000\r\n", reason: "chunk size too large"},
	{name: "16 zero digits", in: "0000000000000000\r\n\r\n", reason: "chunk size too large"},
	{name: "uint64 overflow", in: "ffffffffffffffffff\r\n", reason: "chunk size too large"},
	{name: "negative size", in: "-5\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "signed size", in: "+5\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "0x prefix", in: "0x5\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "space inside size", in: "5 5\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "NUL after size", in: "5\x00\r\nhello\r\n0\r\n\r\n", reason: "invalid chunk size line"},
	{name: "NUL in extension", in: "5;a\x00\r\nhello\r\n0\r\n\r\n", reason: "invalid character in chunk extension"},
	{name: "CTL in extension", in: "5;a\x01b\r\nhello\r\n0\r\n\r\n", reason: "invalid character in chunk extension"},
	{name: "bare LF after size", in: "5\nhello\r\n0\r\n\r\n", reason: "bare LF in chunked framing"},
	{name: "bare LF after extension", in: "5;a=b\nhello\r\n0\r\n\r\n", reason: "bare LF in chunked framing"},
	{name: "bare LF after data", in: "5\r\nhello\n0\r\n\r\n", reason: "bare LF in chunked framing"},
	{name: "bare LF after last chunk", in: "5\r\nhello\r\n0\n\r\n", reason: "bare LF in chunked framing"},
	{name: "bare LF ends trailers", in: "0\r\n\n", reason: "bare LF in chunked framing"},
	{name: "bare LF after trailer", in: "0\r\nA: b\n\r\n", reason: "bare LF in chunked framing"},
	{name: "bare CR in size line", in: "5\rhello\r\n0\r\n\r\n", reason: "bare CR in chunked framing line"},
	{name: "bare CR in extension", in: "5;a\rb\r\nhello\r\n0\r\n\r\n", reason: "bare CR in chunked framing line"},
	{name: "CR CR LF after size", in: "5\r\r\nhello\r\n0\r\n\r\n", reason: "bare CR in chunked framing line"},
	{name: "CR CR LF after data", in: "5\r\nhello\r\r\n0\r\n\r\n", reason: "bare CR in chunked framing line"},
	{name: "bare CR in trailer", in: "0\r\nA: b\rc\r\n\r\n", reason: "bare CR in chunked framing line"},
	{name: "data longer than its size", in: "5\r\nhelloXX\r\n0\r\n\r\n", reason: "chunk data not followed by CRLF"},
	{name: "data shorter than its size", in: "5\r\nhell\r\n0\r\n\r\n", reason: "bare LF in chunked framing"},
	{name: "size line over the default limit", in: "5;" + strings.Repeat("a", DefaultMaxLineSize) + "\r\nhello\r\n0\r\n\r\n", reason: "chunked framing line over the size limit"},
	{name: "size line over a custom limit", in: "5;abcdefgh\r\nhello\r\n0\r\n\r\n", lim: Limits{MaxLineSize: 8}, reason: "chunked framing line over the size limit"},
	{name: "Content-Length trailer", in: "0\r\nContent-Length: 5\r\n\r\n", reason: "trailer: forbidden field"},
	{name: "Transfer-Encoding trailer", in: "0\r\ntransfer-encoding: chunked\r\n\r\n", reason: "trailer: forbidden field"},
	{name: "Trailer trailer", in: "0\r\nTrailer: x\r\n\r\n", reason: "trailer: forbidden field"},
	{name: "Host trailer", in: "0\r\nHOST: x\r\n\r\n", reason: "trailer: forbidden field"},
	{name: "NUL in trailer value", in: "0\r\nA: b\x00\r\n\r\n", reason: "trailer: NUL in header value"},
	{name: "NUL in trailer name", in: "0\r\nA\x00: b\r\n\r\n", reason: "trailer: NUL in header name"},
	{name: "trailer without colon", in: "0\r\nAb\r\n\r\n", reason: "trailer: header line without a colon"},
	{name: "trailer with empty name", in: "0\r\n: b\r\n\r\n", reason: "trailer: empty header name"},
	{name: "space before colon in trailer", in: "0\r\nA : b\r\n\r\n", reason: "trailer: whitespace between header name and colon"},
	{name: "folded trailer", in: "0\r\nA: b\r\n c\r\n\r\n", reason: "folded trailer line"},
	{name: "trailers over a custom count", in: "0\r\n" + manyFields(3) + "\r\n", lim: Limits{MaxHeaders: 2}, reason: "more trailer fields than the limit"},
	{name: "trailers over the default count", in: "0\r\n" + manyFields(DefaultMaxHeaders+1) + "\r\n", reason: "more trailer fields than the limit"},
	{name: "trailer over a custom size", in: "0\r\nA: 0123456789\r\n\r\n", lim: Limits{MaxFieldSize: 10}, reason: "chunked framing line over the size limit"},
	{name: "extension flooding", in: floodChunks(1000, 100), reason: "too much chunk-extension overhead"},
	{name: "huge extension on one chunk", in: "1;" + strings.Repeat("e", 8000) + "\r\nx\r\n" + floodChunks(10, 8000), reason: "too much chunk-extension overhead"},
}

func TestBodyChunkedMalformed(t *testing.T) {
	for _, tc := range malformedChunked {
		t.Run(tc.name, func(t *testing.T) {
			forEachReader(t, func(t *testing.T, rk readerKind) {
				b := newBody(rk.new(tc.in), ChunkedBody, -1, tc.lim)
				_, _, err := drain(t, b, 64)
				pe := parseErr(t, err, tc.reason)
				assert.True(t, pe.Offset >= 0 && pe.Offset <= int64(len(tc.in)), "offset %d", pe.Offset)
				assert.True(t, !b.Done(), "Done after a framing error")
			})
		})
	}
}

// TestBodyChunkOverhead checks the chunk-extension budget at its boundary, and that small chunks
// with short extensions never hit it.
func TestBodyChunkOverhead(t *testing.T) {
	// Each "1;" + 114 bytes + CRLF line costs 118 bytes, of which 16+2 are free: 100 of excess.
	const perChunk = 100
	fit := maxChunkOverhead / perChunk
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"budget reached", floodChunks(fit, 114), true},
		{"budget exceeded", floodChunks(fit+1, 114), false},
		{"many 1-byte chunks", strings.Repeat("1\r\nx\r\n", 50000) + "0\r\n\r\n", true},
		{"many 1-byte chunks with short extensions", floodChunks(50000, 10), true},
		{"large chunks carry long extensions", strings.Repeat("400;"+strings.Repeat("e", 1000)+"\r\n"+strings.Repeat("x", 1024)+"\r\n", 100) + "0\r\n\r\n", true},
	} {
		b := newBody(bufio.NewReader(strings.NewReader(tc.in)), ChunkedBody, -1, Limits{})
		_, _, err := drain(t, b, 4096)
		if tc.ok {
			assert.Equal(t, io.EOF, err, tc.name)
		} else {
			parseErr(t, err, "too much chunk-extension overhead", tc.name)
		}
	}
}

func TestBodyChunkedErrorAfterData(t *testing.T) {
	b := newBody(bufio.NewReader(strings.NewReader("5\r\nhelloXX\r\n0\r\n\r\n")), ChunkedBody, -1, Limits{})
	p := make([]byte, 64)
	n, err := b.Read(p)
	assert.Equal(t, 5, n)
	assert.Equal(t, nil, err, "the data comes first")
	assert.Equal(t, "hello", string(p[:n]))
	n, err = b.Read(p)
	assert.Equal(t, 0, n)
	pe := parseErr(t, err, "chunk data not followed by CRLF")
	assert.Equal(t, int64(8), pe.Offset, "offset of the framing error in the body")
}

func TestBodyChunkedErrorOffset(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int64
	}{
		{"5\r\nhello\r\nz\r\n", 10},
		{"5;a\rb\r\n", 3},
		{"5\nhello", 1},
		{"5\r\nhello\r\n0\r\nA: b\r\nB\x00: c\r\n\r\n", 20},
		{"5\r\nhello\r\n0\r\nA: b\r\nContent-Length: 1\r\n\r\n", 19},
	} {
		b := newBody(bufio.NewReader(strings.NewReader(tc.in)), ChunkedBody, -1, Limits{})
		_, _, err := drain(t, b, 64)
		pe := parseErr(t, err, "", "%q", tc.in)
		assert.Equal(t, tc.offset, pe.Offset, "%q: %v", tc.in, pe)
	}
}

func TestBodyReset(t *testing.T) {
	in := "5\r\nhello\r\n0\r\nA: b\r\n\r\n" + "abc" + "3\r\nxyz\r\n0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	var b Body
	for _, step := range []struct {
		kind          BodyKind
		length        int64
		data, trailer string
	}{
		{ChunkedBody, -1, "hello", "A: b\n"},
		{LengthBody, 3, "abc", ""},
		{ChunkedBody, -1, "xyz", ""},
	} {
		b.Reset(br, step.kind, step.length, Limits{})
		assert.Equal(t, int64(0), b.N())
		data, _, err := drain(t, &b, 64)
		assert.Equal(t, io.EOF, err)
		assert.Equal(t, step.data, data)
		assert.Equal(t, step.trailer, b.Trailer())
		assert.True(t, b.Done(), "Done")
	}
}

func BenchmarkChunkedBody(b *testing.B) {
	var w strings.Builder
	cw := &ChunkedWriter{W: &w}
	chunk := []byte(strings.Repeat("x", 1000))
	for range 64 {
		cw.Write(chunk)
	}
	cw.Close()
	wire := w.String()
	rd := strings.NewReader(wire)
	br := bufio.NewReader(rd)
	buf := make([]byte, 32<<10)
	var body Body
	b.SetBytes(64 * 1000)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(wire)
		br.Reset(rd)
		body.Reset(br, ChunkedBody, -1, Limits{})
		for {
			_, err := body.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestBodyErr(t *testing.T) {
	b := newBody(bufio.NewReader(strings.NewReader("5\r\nhelloXX")), ChunkedBody, -1, Limits{})
	assert.Equal(t, nil, b.Err(), "before reading")
	p := make([]byte, 3)
	n, err := b.Read(p)
	assert.Equal(t, 3, n)
	assert.Equal(t, nil, err)
	assert.Equal(t, nil, b.Err(), "while reading")
	_, _, err = drain(t, b, 64)
	assert.Equal(t, err, b.Err(), "after a framing error")

	b = newBody(bufio.NewReader(strings.NewReader("abc")), LengthBody, 3, Limits{})
	_, _, _ = drain(t, b, 64)
	assert.Equal(t, io.EOF, b.Err(), "after a clean end")
}
