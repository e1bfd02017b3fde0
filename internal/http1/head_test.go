package http1

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("X-" + strconv.Itoa(i) + ": v\r\n")
	}
	return b.String()
}

func manyFieldsNormalized(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("X-" + strconv.Itoa(i) + ": v\n")
	}
	return b.String()
}

// validHeads are well-formed response heads (possibly preceded by 1xx heads): in is the wire text,
// the other fields what ReadResponseHead must report for the final head.
var validHeads = []struct {
	name, in      string
	status, minor int
	reason        string
	fields        string
}{
	{"minimal", "HTTP/1.1 200 OK\r\n\r\n", 200, 1, "OK", ""},
	{
		"fields in wire order and case",
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nx-lower: V\r\nX-UPPER: v\r\nContent-Length: 0\r\n\r\n",
		200, 1, "OK", "Content-Type: text/plain\nx-lower: V\nX-UPPER: v\nContent-Length: 0\n",
	},
	{"OWS trimmed", "HTTP/1.1 200 OK\r\nA:   b  \t\r\nB:c\r\n\r\n", 200, 1, "OK", "A: b\nB: c\n"},
	{"empty values", "HTTP/1.1 200 OK\r\nA:\r\nB: \t \r\n\r\n", 200, 1, "OK", "A: \nB: \n"},
	{"tab, colon and obs-text in value", "HTTP/1.1 200 OK\r\nA: b\tc: \xff\xfe\r\n\r\n", 200, 1, "OK", "A: b\tc: \xff\xfe\n"},
	{"duplicate fields kept", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n", 200, 1, "OK", "Set-Cookie: a=1\nSet-Cookie: b=2\n"},
	{"all token characters in name", "HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n", 200, 1, "OK", "!#$%&'*+-.^_`|~09azAZ: x\n"},
	{"bare LF line endings", "HTTP/1.1 200 OK\nA: b\n\n", 200, 1, "OK", "A: b\n"},
	{"mixed line endings", "HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\n", 200, 1, "OK", "A: b\nC: d\n"},
	{"obs-fold replaced by a space", "HTTP/1.1 200 OK\r\nA: b\r\n  c\r\n\td \r\nE: f\r\n\r\n", 200, 1, "OK", "A: b c d\nE: f\n"},
	{"obs-fold after an empty value", "HTTP/1.1 200 OK\r\nA:\r\n  c\r\n\r\n", 200, 1, "OK", "A: c\n"},
	{"whitespace-only fold line", "HTTP/1.1 200 OK\r\nA: b\r\n \t \r\n c\r\n\r\n", 200, 1, "OK", "A: b c\n"},
	{"obs-fold with bare LF", "HTTP/1.1 200 OK\nA: b\n c\n\n", 200, 1, "OK", "A: b c\n"},
	{"no reason", "HTTP/1.1 204\r\n\r\n", 204, 1, "", ""},
	{"empty reason", "HTTP/1.1 200 \r\n\r\n", 200, 1, "", ""},
	{"reason kept verbatim", "HTTP/1.1 404 Not  Found \t\r\n\r\n", 404, 1, "Not  Found \t", ""},
	{"reason with obs-text", "HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\n\r\n", 200, 1, "\xc3\xa9t\xc3\xa9", ""},
	{"HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\n", 200, 0, "OK", ""},
	{"HTTP/1.9", "HTTP/1.9 200 OK\r\n\r\n", 200, 9, "OK", ""},
	{"status 999", "HTTP/1.1 999 Odd\r\n\r\n", 999, 1, "Odd", ""},
	{"100 skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n", 200, 1, "OK", "A: b\n"},
	{
		"103 with fields and 100 skipped",
		"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\nA: b\r\n\r\n",
		201, 0, "Created", "A: b\n",
	},
	{"Max1xx informational heads skipped", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", Max1xx) + "HTTP/1.1 200 OK\r\n\r\n", 200, 1, "OK", ""},
	{
		"101 is final",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		101, 1, "Switching Protocols", "Upgrade: websocket\nConnection: Upgrade\n",
	},
	{"DefaultMaxHeaders fields", "HTTP/1.1 200 OK\r\n" + manyFields(DefaultMaxHeaders) + "\r\n", 200, 1, "OK", manyFieldsNormalized(DefaultMaxHeaders)},
	{
		"field at the default size limit",
		"HTTP/1.1 200 OK\r\nA: " + strings.Repeat("a", DefaultMaxFieldSize-3) + "\r\n\r\n",
		200, 1, "OK", "A: " + strings.Repeat("a", DefaultMaxFieldSize-3) + "\n",
	},
	{
		"status line at the default size limit",
		"HTTP/1.1 200 " + strings.Repeat("a", DefaultMaxLineSize-13) + "\r\n\r\n",
		200, 1, strings.Repeat("a", DefaultMaxLineSize-13), "",
	},
}

func TestReadResponseHeadValid(t *testing.T) {
	for _, tc := range validHeads {
		t.Run(tc.name, func(t *testing.T) {
			forEachReader(t, func(t *testing.T, rk readerKind) {
				const next = "NEXT"
				br := rk.new(tc.in + next)
				h, n, err := parseHead(br, Limits{})
				require.NoError(t, err)
				assert.Equal(t, int64(len(tc.in)), n, "bytes consumed")
				assert.Equal(t, tc.status, h.Status)
				assert.Equal(t, tc.minor, h.Minor)
				assert.Equal(t, tc.reason, h.Reason)
				assert.Equal(t, tc.fields, h.Fields)
				assert.True(t, strings.HasSuffix(h.Raw, "\n"+tc.fields), "Raw %q ends with the fields", h.Raw)
				assert.True(t, strings.HasPrefix(h.Raw, "HTTP/1."), "Raw %q starts with the status line", h.Raw)
				rest, _ := io.ReadAll(br)
				assert.Equal(t, next, string(rest), "the head is consumed exactly")
			})
		})
	}
}

// malformedHeads must each fail with a *ParseError whose reason contains reason.
var malformedHeads = []struct {
	name, in, reason string
	lim              Limits
}{
	{name: "bare CR in value", in: "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", reason: "bare CR in header line"},
	{name: "bare CR as line ending", in: "HTTP/1.1 200 OK\r\nA: b\rB: c\r\n\r\n", reason: "bare CR"},
	{name: "CR CR LF", in: "HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", reason: "bare CR"},
	{name: "bare CR in status line", in: "HTTP/1.1 200 O\rK\r\n\r\n", reason: "bare CR in status line"},
	{name: "bare CR before the blank line", in: "HTTP/1.1 200 OK\r\nA: b\r\n\r\r\n", reason: "bare CR"},
	{name: "bare CR in a fold", in: "HTTP/1.1 200 OK\r\nA: b\r\n c\rd\r\n\r\n", reason: "bare CR"},
	{name: "space before the first header", in: "HTTP/1.1 200 OK\r\n A: b\r\n\r\n", reason: "whitespace before the first header"},
	{name: "tab before the first header", in: "HTTP/1.1 200 OK\r\n\tA: b\r\n\r\n", reason: "whitespace before the first header"},
	{name: "space before colon", in: "HTTP/1.1 200 OK\r\nA : b\r\n\r\n", reason: "whitespace between header name and colon"},
	{name: "tab before colon", in: "HTTP/1.1 200 OK\r\nA\t: b\r\n\r\n", reason: "whitespace between header name and colon"},
	{name: "space inside name", in: "HTTP/1.1 200 OK\r\nA B: c\r\n\r\n", reason: "invalid character in header name"},
	{name: "NUL in name", in: "HTTP/1.1 200 OK\r\nA\x00B: c\r\n\r\n", reason: "NUL in header name"},
	{name: "CTL in name", in: "HTTP/1.1 200 OK\r\nA\x01: c\r\n\r\n", reason: "invalid character in header name"},
	{name: "DEL in name", in: "HTTP/1.1 200 OK\r\nA\x7f: c\r\n\r\n", reason: "invalid character in header name"},
	{name: "non-ASCII name", in: "HTTP/1.1 200 OK\r\n\xc3\x84: c\r\n\r\n", reason: "invalid character in header name"},
	{name: "separator in name", in: "HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n", reason: "invalid character in header name"},
	{name: "NUL in value", in: "HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n", reason: "NUL in header value"},
	{name: "CTL in value", in: "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", reason: "invalid character in header value"},
	{name: "DEL in value", in: "HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", reason: "invalid character in header value"},
	{name: "VT before chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: \vchunked\r\n\r\n", reason: "invalid character in header value"},
	{name: "NUL in fold", in: "HTTP/1.1 200 OK\r\nA: b\r\n c\x00\r\n\r\n", reason: "NUL in header value"},
	{name: "empty name", in: "HTTP/1.1 200 OK\r\n: b\r\n\r\n", reason: "empty header name"},
	{name: "line without colon", in: "HTTP/1.1 200 OK\r\nAb\r\n\r\n", reason: "header line without a colon"},

	{name: "two-digit status", in: "HTTP/1.1 10 OK\r\n\r\n", reason: "malformed status code"},
	{name: "four-digit status", in: "HTTP/1.1 1000 OK\r\n\r\n", reason: "malformed status code"},
	{name: "negative status", in: "HTTP/1.1 -1 OK\r\n\r\n", reason: "malformed status code"},
	{name: "signed status", in: "HTTP/1.1 +12 OK\r\n\r\n", reason: "malformed status code"},
	{name: "leading-zero status", in: "HTTP/1.1 099 OK\r\n\r\n", reason: "malformed status code"},
	{name: "zero status", in: "HTTP/1.1 000 OK\r\n\r\n", reason: "malformed status code"},
	{name: "hundred-digit status", in: "HTTP/1.1 " + strings.Repeat("1", 100) + " OK\r\n\r\n", reason: "malformed status code"},
	{name: "status glued to reason", in: "HTTP/1.1 200OK\r\n\r\n", reason: "malformed status code"},
	{name: "tab after status", in: "HTTP/1.1 200\tOK\r\n\r\n", reason: "malformed status code"},
	{name: "two spaces before status", in: "HTTP/1.1  200 OK\r\n\r\n", reason: "malformed status code"},
	{name: "no status", in: "HTTP/1.1\r\n\r\n", reason: "malformed status code"},
	{name: "no status after space", in: "HTTP/1.1 \r\n\r\n", reason: "malformed status code"},
	{name: "lower-case protocol", in: "http/1.1 200 OK\r\n\r\n", reason: "expected HTTP/1.x"},
	{name: "long minor version", in: "HTTP/1.100000000002 200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "HTTP/2.0", in: "HTTP/2.0 200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "HTTP/0.9 version", in: "HTTP/0.9 200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "HTTP/1.x", in: "HTTP/1.x 200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "HTTP/11", in: "HTTP/11 200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "HTTP/1", in: "HTTP/1\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "tab after version", in: "HTTP/1.1\t200 OK\r\n\r\n", reason: "unsupported HTTP version"},
	{name: "no version", in: "200 OK\r\n\r\n", reason: "expected HTTP/1.x"},
	{name: "ICY", in: "ICY 200 OK\r\n\r\n", reason: "expected HTTP/1.x"},
	{name: "leading blank line", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", reason: "expected HTTP/1.x"},
	{name: "leading space", in: " HTTP/1.1 200 OK\r\n\r\n", reason: "expected HTTP/1.x"},
	{name: "HTTP/0.9 body", in: "<html><body>hello</body></html>\n", reason: "expected HTTP/1.x"},
	{name: "HTTP/0.9 body without newline", in: "<html>hello</html>", reason: "expected HTTP/1.x"},
	{name: "short garbage then EOF", in: "HTX", reason: "expected HTTP/1.x"},
	{name: "NUL in reason", in: "HTTP/1.1 200 O\x00K\r\n\r\n", reason: "NUL in reason phrase"},
	{name: "CTL in reason", in: "HTTP/1.1 200 O\x1bK\r\n\r\n", reason: "invalid character in reason phrase"},

	{name: "status line over the default limit", in: "HTTP/1.1 200 " + strings.Repeat("a", DefaultMaxLineSize-12) + "\r\n\r\n", reason: "status line over the size limit"},
	{name: "status line over a custom limit", in: "HTTP/1.1 200 0123456789\r\n\r\n", lim: Limits{MaxLineSize: 20}, reason: "status line over the size limit"},
	{name: "field over the default limit", in: "HTTP/1.1 200 OK\r\nA: " + strings.Repeat("a", DefaultMaxFieldSize-2) + "\r\n\r\n", reason: "header line over the size limit"},
	{name: "field over a custom limit", in: "HTTP/1.1 200 OK\r\nA: 012345678\r\n\r\n", lim: Limits{MaxFieldSize: 10}, reason: "header line over the size limit"},
	{name: "folded field over a custom limit", in: "HTTP/1.1 200 OK\r\nA: 0123\r\n 5678\r\n\r\n", lim: Limits{MaxFieldSize: 10}, reason: "header field over the size limit"},
	{name: "header count over the default limit", in: "HTTP/1.1 200 OK\r\n" + manyFields(DefaultMaxHeaders+1) + "\r\n", reason: "more header fields than the limit"},
	{name: "header count over a custom limit", in: "HTTP/1.1 200 OK\r\n" + manyFields(4) + "\r\n", lim: Limits{MaxHeaders: 3}, reason: "more header fields than the limit"},
	{
		name:   "too many informational heads",
		in:     strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", Max1xx+1) + "HTTP/1.1 200 OK\r\n\r\n",
		reason: "too many informational (1xx) responses",
	},
	{name: "malformed final head after 100", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20 OK\r\n\r\n", reason: "malformed status code"},
	{name: "malformed 103", in: "HTTP/1.1 103 Early Hints\r\nLink : x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", reason: "whitespace between header name and colon"},

	{name: "conflicting Content-Length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", reason: "conflicting Content-Length"},
	{name: "unsupported Transfer-Encoding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", reason: "unsupported Transfer-Encoding"},
}

func TestReadResponseHeadMalformed(t *testing.T) {
	for _, tc := range malformedHeads {
		t.Run(tc.name, func(t *testing.T) {
			forEachReader(t, func(t *testing.T, rk readerKind) {
				_, n, err := parseHead(rk.new(tc.in), tc.lim)
				pe := parseErr(t, err, tc.reason)
				assert.True(t, pe.Offset >= 0 && pe.Offset <= int64(len(tc.in)), "offset %d", pe.Offset)
				assert.True(t, n <= int64(len(tc.in)), "consumed %d", n)
			})
		})
	}
}

func TestParseErrorOffset(t *testing.T) {
	tests := []struct {
		in     string
		offset int64
	}{
		{"HTTP/1.1 200 OK\r\nA: b\r\nB\x00: c\r\n\r\n", 17 + 6 + 1},
		{"HTTP/1.1 200 OK\r\nA: b\r\nB: c\x00\r\n\r\n", 17 + 6 + 4},
		{"HTTP/1.1 200 OK\r\nA: b\r\n c\x00\r\n\r\n", 17 + 6 + 2},
		{"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", 17 + 4},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20 OK\r\n\r\n", 25},
		{"HTTP/1.1 100 Continue\r\n\r\nXTTP/1.1 200 OK\r\n\r\n", 25},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0},
	}
	for _, tc := range tests {
		_, _, err := parseHead(bufio.NewReader(strings.NewReader(tc.in)), Limits{})
		pe := parseErr(t, err, "", "%q", tc.in)
		assert.Equal(t, tc.offset, pe.Offset, "%q: %v", tc.in, pe)
	}
	err := &ParseError{Reason: "bad", Offset: 42}
	assert.Equal(t, "bad (at byte 42)", err.Error())
}

// TestReadResponseHeadLimitBoundary checks each limit at its value and one past it, with lines
// longer than the read buffer.
func TestReadResponseHeadLimitBoundary(t *testing.T) {
	lim := Limits{MaxLineSize: 40, MaxFieldSize: 30, MaxHeaders: 2}
	status := "HTTP/1.1 200 " + strings.Repeat("r", 40-13)
	field := "A: " + strings.Repeat("v", 30-3)
	forEachReader(t, func(t *testing.T, rk readerKind) {
		ok := status + "\r\n" + field + "\r\n" + field + "\r\n\r\n"
		_, _, err := parseHead(rk.new(ok), lim)
		require.NoError(t, err)

		for _, bad := range []string{
			status + "r\r\n\r\n",
			status + "\r\n" + field + "v\r\n\r\n",
			status + "\r\n" + field + "\r\n" + field + "\r\n" + field + "\r\n\r\n",
		} {
			_, _, err := parseHead(rk.new(bad), lim)
			parseErr(t, err, "", "%q", bad)
		}
	})
}

// TestReadResponseHeadEndless feeds endless status lines, fields and heads: each must stop at its
// limit instead of buffering without bound.
func TestReadResponseHeadEndless(t *testing.T) {
	tests := []struct {
		name, prefix, repeat, reason string
	}{
		{"status line", "HTTP/1.1 200 ", "a", "status line over the size limit"},
		{"field line", "HTTP/1.1 200 OK\r\nA: ", "a", "header line over the size limit"},
		{"folded field", "HTTP/1.1 200 OK\r\nA: b\r\n", " continued\r\n", "header field over the size limit"},
		{"whitespace-only folds", "HTTP/1.1 200 OK\r\nA: b\r\n", " \t \r\n", "header field over the size limit"},
		{"empty folds", "HTTP/1.1 200 OK\r\nA:\r\n", " \r\n", "header field over the size limit"},
		{"fields", "HTTP/1.1 200 OK\r\n", "A: b\r\n", "more header fields than the limit"},
		{"informational heads", "", "HTTP/1.1 100 Continue\r\n\r\n", "too many informational"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(io.MultiReader(strings.NewReader(tc.prefix), &repeatReader{s: tc.repeat}))
			_, n, err := parseHead(br, Limits{})
			parseErr(t, err, tc.reason)
			assert.True(t, n < 2<<20, "consumed %d", n)
		})
	}
}

func TestReadResponseHeadEOF(t *testing.T) {
	forEachReader(t, func(t *testing.T, rk readerKind) {
		_, n, err := parseHead(rk.new(""), Limits{})
		assert.Equal(t, io.EOF, err)
		assert.Equal(t, int64(0), n)
	})
}

// TestReadResponseHeadTruncated cuts valid heads at every byte offset: each prefix must give
// ErrHeadTruncated, never a head and never a bare io.EOF.
func TestReadResponseHeadTruncated(t *testing.T) {
	heads := []string{
		"HTTP/1.1 100 Continue\r\n\r\n" +
			"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nA: b\r\n  folded\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.0 404 Not Found\nA: b\n\n",
	}
	for _, head := range heads {
		forEachReader(t, func(t *testing.T, rk readerKind) {
			for i := 1; i < len(head); i++ {
				_, n, err := parseHead(rk.new(head[:i]), Limits{})
				require.ErrorIs(t, err, ErrHeadTruncated, "prefix %q", head[:i])
				assert.Equal(t, int64(i), n, "prefix %q", head[:i])
			}
			_, _, err := parseHead(rk.new(head), Limits{})
			require.NoError(t, err)
		})
	}
}

func TestReadResponseHeadReaderError(t *testing.T) {
	errBoom := errors.New("boom")
	for _, prefix := range []string{"", "HTT", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nA: b"} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(prefix), errReader{errBoom}), 16)
		_, _, err := parseHead(br, Limits{})
		assert.True(t, err == errBoom, "prefix %q: got %v", prefix, err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadResponseHeadScratch(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nA: b\r\n\r\nHTTP/1.1 404 Nope\r\nC: d\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(in))
	var scratch []byte
	var h1, h2 Head
	_, err := ReadResponseHead(br, Limits{}, &h1, &scratch)
	require.NoError(t, err)
	assert.True(t, cap(scratch) > 0, "scratch keeps its memory for the next call")
	_, err = ReadResponseHead(br, Limits{}, &h2, &scratch)
	require.NoError(t, err)
	// Reusing scratch must not change the strings of an earlier head.
	assert.Equal(t, "HTTP/1.1 200 OK\nA: b\n", h1.Raw)
	assert.Equal(t, "HTTP/1.1 404 Nope\nC: d\n", h2.Raw)
	assert.Equal(t, "A: b\n", h1.Fields)
	assert.Equal(t, "Nope", h2.Reason)
}

func TestHeadProtoGetFields(t *testing.T) {
	in := "HTTP/1.0 200 OK\r\ncontent-type: a\r\nX-Dup: 1\r\nX-Dup: 2\r\nEmpty:\r\n\r\n"
	h, _, err := parseHead(bufio.NewReader(strings.NewReader(in)), Limits{})
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.0", h.Proto())
	assert.Equal(t, "a", h.Get("Content-Type"))
	assert.Equal(t, "1", h.Get("x-dup"))
	assert.Equal(t, "", h.Get("Empty"))
	assert.Equal(t, "", h.Get("Missing"))

	var names, values []string
	Fields(h.Fields, func(n, v string) bool {
		names, values = append(names, n), append(values, v)
		return true
	})
	assert.Equal(t, []string{"content-type", "X-Dup", "X-Dup", "Empty"}, names)
	assert.Equal(t, []string{"a", "1", "2", ""}, values)

	count := 0
	Fields(h.Fields, func(string, string) bool { count++; return false })
	assert.Equal(t, 1, count, "Fields stops when yield returns false")

	h.Minor = 1
	assert.Equal(t, "HTTP/1.1", h.Proto())
}

// TestFraming covers Content-Length, Transfer-Encoding and Connection handling.
func TestFraming(t *testing.T) {
	tests := []struct {
		name, in string // in: the fields of an HTTP/1.1 200 response, or a whole head
		cl       int64
		chunked  bool
		close    bool
		reason   string // a *ParseError containing reason is wanted when set
	}{
		{name: "no framing", in: "", cl: -1},
		{name: "Content-Length", in: "Content-Length: 5\r\n", cl: 5},
		{name: "Content-Length zero", in: "Content-Length: 0\r\n", cl: 0},
		{name: "Content-Length lower case", in: "content-length: 7\r\n", cl: 7},
		{name: "Content-Length leading zeros", in: "Content-Length: 000000000000000000000005\r\n", cl: 5},
		{name: "Content-Length max int64", in: "Content-Length: 9223372036854775807\r\n", cl: 9223372036854775807},
		{name: "equal duplicates merged", in: "Content-Length: 5\r\nContent-Length: 5\r\n", cl: 5},
		{name: "equal list merged", in: "Content-Length: 5, 5\r\n", cl: 5},
		{name: "equal list with OWS", in: "Content-Length: 5 ,\t5 , 5\r\n", cl: 5},
		{name: "numerically equal duplicates", in: "Content-Length: 5\r\nContent-Length: 05\r\n", cl: 5},
		{name: "differing duplicates", in: "Content-Length: 5\r\nContent-Length: 6\r\n", reason: "conflicting Content-Length"},
		{name: "differing list", in: "Content-Length: 5, 6\r\n", reason: "conflicting Content-Length"},
		{name: "differing duplicates on 204", in: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", reason: "conflicting Content-Length"},
		{name: "differing duplicates on 304", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\nContent-Length: 6\r\n\r\n", reason: "conflicting Content-Length"},
		{name: "negative", in: "Content-Length: -1\r\n", reason: "invalid Content-Length"},
		{name: "plus sign", in: "Content-Length: +5\r\n", reason: "invalid Content-Length"},
		{name: "trailing junk", in: "Content-Length: 6abc\r\n", reason: "invalid Content-Length"},
		{name: "hex", in: "Content-Length: 0x5\r\n", reason: "invalid Content-Length"},
		{name: "exponent", in: "Content-Length: 1e3\r\n", reason: "invalid Content-Length"},
		{name: "inner space", in: "Content-Length: 5 5\r\n", reason: "invalid Content-Length"},
		{name: "empty", in: "Content-Length:\r\n", reason: "invalid Content-Length"},
		{name: "empty after valid", in: "Content-Length: 5\r\nContent-Length: \r\n", reason: "invalid Content-Length"},
		{name: "trailing comma", in: "Content-Length: 5,\r\n", reason: "invalid Content-Length"},
		{name: "leading comma", in: "Content-Length: ,5\r\n", reason: "invalid Content-Length"},
		{name: "empty list element", in: "Content-Length: 5,,5\r\n", reason: "invalid Content-Length"},
		{name: "overflow", in: "Content-Length: 99999999999999999999\r\n", reason: "invalid Content-Length"},
		{name: "max int64 plus one", in: "Content-Length: 9223372036854775808\r\n", reason: "invalid Content-Length"},
		{name: "Arabic-Indic digit", in: "Content-Length: \u0663\r\n", reason: "invalid Content-Length"},
		{name: "fullwidth digit", in: "Content-Length: \uff15\r\n", reason: "invalid Content-Length"},

		{name: "chunked", in: "Transfer-Encoding: chunked\r\n", cl: -1, chunked: true},
		{name: "chunked any case", in: "transfer-encoding: ChUnKeD\r\n", cl: -1, chunked: true},
		{name: "chunked with OWS", in: "Transfer-Encoding:  chunked \r\n", cl: -1, chunked: true},
		{name: "chunked, identity", in: "Transfer-Encoding: chunked, identity\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "identity, chunked", in: "Transfer-Encoding: identity, chunked\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "identity", in: "Transfer-Encoding: identity\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "gzip, chunked", in: "Transfer-Encoding: gzip, chunked\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "chunked, chunked", in: "Transfer-Encoding: chunked, chunked\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "chunked twice", in: "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", reason: "more than one Transfer-Encoding"},
		{name: "chunkedchunked", in: "Transfer-Encoding: chunkedchunked\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "empty", in: "Transfer-Encoding:\r\n", reason: "empty Transfer-Encoding"},
		{name: "empty list", in: "Transfer-Encoding: ,\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "trailing comma", in: "Transfer-Encoding: chunked,\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "leading comma", in: "Transfer-Encoding: , chunked\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "parameter", in: "Transfer-Encoding: chunked;q=1\r\n", reason: "unsupported Transfer-Encoding"},
		{name: "long value quoted short", in: "Transfer-Encoding: " + strings.Repeat("x", 100) + "\r\n", reason: `unsupported Transfer-Encoding "` + strings.Repeat("x", 32) + `..."`},
		{name: "chunked then empty", in: "Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", reason: "more than one Transfer-Encoding"},
		{name: "TE on 204 checked too", in: "HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n", reason: "unsupported Transfer-Encoding"},

		{name: "CL then TE", in: "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", cl: -1, chunked: true, close: true},
		{name: "TE then CL", in: "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", cl: -1, chunked: true, close: true},
		{name: "TE and bad CL", in: "Transfer-Encoding: chunked\r\nContent-Length: x\r\n", reason: "invalid Content-Length"},

		{name: "Connection close", in: "Connection: close\r\n", cl: -1, close: true},
		{name: "Connection close any case", in: "connection: CLOSE\r\n", cl: -1, close: true},
		{name: "Connection list", in: "Connection: Upgrade, close\r\n", cl: -1, close: true},
		{name: "Connection keep-alive, close", in: "Connection: keep-alive, close\r\n", cl: -1, close: true},
		{name: "Connection closed is not close", in: "Connection: closed\r\n", cl: -1},
		{name: "Connection keep-alive", in: "Connection: keep-alive\r\n", cl: -1},
		{name: "HTTP/1.0 default close", in: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", cl: 1, close: true},
		{name: "HTTP/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n", cl: 1},
		{name: "HTTP/1.0 close, keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\n\r\n", cl: -1, close: true},
		{name: "HTTP/1.0 keep-alive then close", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", cl: -1, close: true},
		{name: "HTTP/1.0 keep-alive and TE", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n", cl: -1, chunked: true, close: true},
		{name: "HTTP/1.0 bad TE", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", reason: "unsupported Transfer-Encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if !strings.HasPrefix(in, "HTTP/") {
				in = "HTTP/1.1 200 OK\r\n" + in + "\r\n"
			}
			h, _, err := parseHead(bufio.NewReader(strings.NewReader(in)), Limits{})
			if tc.reason != "" {
				parseErr(t, err, tc.reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.cl, h.ContentLength, "ContentLength")
			assert.Equal(t, tc.chunked, h.Chunked, "Chunked")
			assert.Equal(t, tc.close, h.Close, "Close")
		})
	}
}

func TestHeadBody(t *testing.T) {
	tests := []struct {
		name, in, method string
		kind             BodyKind
		length           int64
		close            bool
	}{
		{"HEAD with Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD", NoBody, 0, false},
		{"HEAD with chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD", NoBody, 0, false},
		{"HEAD without framing", "HTTP/1.1 200 OK\r\n\r\n", "HEAD", NoBody, 0, false},
		{"204 with Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "GET", NoBody, 0, false},
		{"204 with chunked", "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", NoBody, 0, false},
		{"304 with Content-Length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET", NoBody, 0, false},
		{"304 without framing", "HTTP/1.1 304 Not Modified\r\n\r\n", "GET", NoBody, 0, false},
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n", "GET", NoBody, 0, false},
		{"Content-Length 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", NoBody, 0, false},
		{"Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "POST", LengthBody, 10, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", ChunkedBody, -1, false},
		{"CL and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", ChunkedBody, -1, true},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\n", "GET", CloseBody, -1, true},
		{"close-delimited HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", "GET", CloseBody, -1, true},
		{"HTTP/1.0 with length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n", "GET", LengthBody, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _, err := parseHead(bufio.NewReader(strings.NewReader(tc.in)), Limits{})
			require.NoError(t, err)
			kind, length := h.Body(tc.method)
			assert.Equal(t, tc.kind, kind)
			assert.Equal(t, tc.length, length)
			assert.Equal(t, tc.close, h.Close)
		})
	}
	// 1xx heads are never returned by ReadResponseHead, but Body still knows them.
	h := Head{Status: 103, ContentLength: -1}
	kind, _ := h.Body("GET")
	assert.Equal(t, NoBody, kind)
}

// typicalHead is a response head with six fields, as a JSON API sends it.
const typicalHead = "HTTP/1.1 200 OK\r\n" +
	"Date: Mon, 23 Nov 2026 16:00:00 GMT\r\n" +
	"Server: nginx/1.25.3\r\n" +
	"Content-Type: application/json; charset=utf-8\r\n" +
	"Content-Length: 1234\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: no-cache, no-store\r\n" +
	"\r\n"

func BenchmarkReadResponseHead(b *testing.B) {
	rd := strings.NewReader(typicalHead)
	br := bufio.NewReader(rd)
	var h Head
	var scratch []byte
	b.SetBytes(int64(len(typicalHead)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(typicalHead)
		br.Reset(rd)
		if _, err := ReadResponseHead(br, Limits{}, &h, &scratch); err != nil {
			b.Fatal(err)
		}
	}
}
