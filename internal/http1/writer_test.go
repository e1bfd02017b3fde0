package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendRequestHead(t *testing.T) {
	tests := []struct {
		name, method, target, host string
		header                     http.Header
		bodyLen                    int64
		want                       string
	}{
		{
			name: "no fields, no body", method: "GET", target: "/", host: "example.com", bodyLen: LenNone,
			want: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		},
		{
			name: "keys sorted, values in order, keys as written", method: "GET", target: "/a?b=c", host: "h:8080",
			header: http.Header{
				"X-B":        {"2"},
				"Accept":     {"text/html", "*/*"},
				"user-agent": {"t"},
				"X-A":        {"1"},
			},
			bodyLen: LenNone,
			want: "GET /a?b=c HTTP/1.1\r\nHost: h:8080\r\n" +
				"Accept: text/html\r\nAccept: */*\r\nX-A: 1\r\nX-B: 2\r\nuser-agent: t\r\n\r\n",
		},
		{
			name: "Host keys skipped in any case", method: "GET", target: "/", host: "real",
			header:  http.Header{"Host": {"evil"}, "host": {"evil"}, "HOST": {"evil"}, "hOsT": {"evil"}, "Hosts": {"kept"}},
			bodyLen: LenNone,
			want:    "GET / HTTP/1.1\r\nHost: real\r\nHosts: kept\r\n\r\n",
		},
		{
			name: "empty value list writes nothing", method: "GET", target: "/", host: "h",
			header: http.Header{"A": {}, "B": {""}}, bodyLen: LenNone,
			want: "GET / HTTP/1.1\r\nHost: h\r\nB: \r\n\r\n",
		},
		{
			name: "chunked", method: "POST", target: "/up", host: "h",
			header: http.Header{"Content-Type": {"application/json"}}, bodyLen: LenChunked,
			want: "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
		},
		{
			name: "Content-Length zero", method: "POST", target: "/", host: "h", bodyLen: 0,
			want: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "Content-Length", method: "PUT", target: "*", host: "h", bodyLen: 1234567890123,
			want: "PUT * HTTP/1.1\r\nHost: h\r\nContent-Length: 1234567890123\r\n\r\n",
		},
		{
			name: "many keys", method: "GET", target: "/", host: "h", header: manyKeys(30), bodyLen: LenNone,
			want: "GET / HTTP/1.1\r\nHost: h\r\n" + manyKeysWire(30) + "\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendRequestHead(nil, tc.method, tc.target, tc.host, tc.header, tc.bodyLen)
			assert.Equal(t, tc.want, string(got))

			// Appends to dst.
			got = AppendRequestHead([]byte("prefix"), tc.method, tc.target, tc.host, tc.header, tc.bodyLen)
			assert.Equal(t, "prefix"+tc.want, string(got))

			// net/http reads it back as the same request.
			req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(tc.want)))
			require.NoError(t, err)
			assert.Equal(t, tc.method, req.Method)
			assert.Equal(t, tc.host, req.Host)
			switch {
			case tc.bodyLen == LenChunked:
				assert.Equal(t, []string{"chunked"}, req.TransferEncoding)
			case tc.bodyLen >= 0:
				assert.Equal(t, tc.bodyLen, req.ContentLength)
			}
		})
	}
}

func manyKeys(n int) http.Header {
	h := http.Header{}
	for i := range n {
		h["K"+string(rune('a'+i/26))+string(rune('a'+i%26))] = []string{"v"}
	}
	return h
}

func manyKeysWire(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("K" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ": v\r\n")
	}
	return b.String()
}

func TestChunkedWriter(t *testing.T) {
	var buf bytes.Buffer
	cw := &ChunkedWriter{W: &buf}
	for _, p := range []string{"hello", "", " ", strings.Repeat("x", 0x1234)} {
		n, err := cw.Write([]byte(p))
		require.NoError(t, err)
		assert.Equal(t, len(p), n)
	}
	require.NoError(t, cw.Close())
	want := "5\r\nhello\r\n1\r\n \r\n1234\r\n" + strings.Repeat("x", 0x1234) + "\r\n0\r\n\r\n"
	assert.Equal(t, want, buf.String(), "exact bytes")
}

// TestChunkedWriterRoundTrip writes bodies with ChunkedWriter and reads them back with Body and
// with net/http's chunked reader.
func TestChunkedWriterRoundTrip(t *testing.T) {
	bodies := [][]string{
		nil,
		{""},
		{"a"},
		{"hello", " ", "world"},
		{strings.Repeat("0123456789abcdef", 1000), "tail"},
	}
	for _, parts := range bodies {
		var buf bytes.Buffer
		cw := &ChunkedWriter{W: &buf}
		for _, p := range parts {
			_, err := io.WriteString(cw, p)
			require.NoError(t, err)
		}
		require.NoError(t, cw.Close())
		want := strings.Join(parts, "")
		wire := buf.String()

		forEachReader(t, func(t *testing.T, rk readerKind) {
			br := rk.new(wire + "NEXT")
			b := newBody(br, ChunkedBody, -1, Limits{})
			got, _, err := drain(t, b, 1000)
			assert.Equal(t, io.EOF, err)
			assert.Equal(t, want, got)
			assert.True(t, b.Done(), "Done")
			assert.Equal(t, "NEXT", string(mustReadAll(t, br)))
		})

		got, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(wire)))
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "net/http reads the same body")
	}
}

func TestChunkedWriterErrors(t *testing.T) {
	// Fail inside the size line, inside the data, in the CRLF after it, and in Close.
	for limit := range len("5\r\nhello\r\n") {
		w := &failWriter{limit: limit}
		cw := &ChunkedWriter{W: w}
		n, err := cw.Write([]byte("hello"))
		require.ErrorIs(t, err, errWrite, "limit %d", limit)
		assert.True(t, n <= 5, "n=%d", n)
		if limit < 3 {
			assert.Equal(t, 0, n, "nothing of p written when the size line fails")
		}
	}
	w := &failWriter{limit: 2}
	err := (&ChunkedWriter{W: w}).Close()
	require.ErrorIs(t, err, errWrite)
}

func BenchmarkAppendRequestHead(b *testing.B) {
	header := http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"User-Agent":      {"aiohttp-go/1.0"},
		"Authorization":   {"Bearer abcdefghijklmnopqrstuvwxyz"},
	}
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendRequestHead(dst[:0], "POST", "/v1/users/42?expand=true", "api.example.com", header, 512)
	}
	b.SetBytes(int64(len(dst)))
}
