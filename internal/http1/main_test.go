package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A readerKind builds the bufio.Reader a test reads from. The variants exercise line reassembly:
// one byte per underlying Read, and a 16-byte buffer so that any line longer than 16 bytes takes
// the bufio.ErrBufferFull path.
type readerKind struct {
	name string
	new  func(s string) *bufio.Reader
}

var readerKinds = []readerKind{
	{"bufio", func(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }},
	{"onebyte", func(s string) *bufio.Reader { return bufio.NewReader(iotest.OneByteReader(strings.NewReader(s))) }},
	{"buf16", func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) }},
	{"onebyte-buf16", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(s)), 16)
	}},
}

// forEachReader runs f once per reader kind, as subtests.
func forEachReader(t *testing.T, f func(t *testing.T, rk readerKind)) {
	t.Helper()
	for _, rk := range readerKinds {
		t.Run(rk.name, func(t *testing.T) { f(t, rk) })
	}
}

// parseHead reads one response head from br.
func parseHead(br *bufio.Reader, lim Limits) (Head, int64, error) {
	var h Head
	n, err := ReadResponseHead(br, lim, &h, nil)
	return h, n, err
}

// repeatReader returns s forever.
type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.s[r.off:])
		n += c
		r.off = (r.off + c) % len(r.s)
	}
	return n, nil
}

// failWriter fails every write once it has accepted limit bytes.
type failWriter struct {
	limit int
	buf   []byte
}

var errWrite = errors.New("write failed")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > w.limit {
		n := w.limit - len(w.buf)
		w.buf = append(w.buf, p[:n]...)
		return n, errWrite
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

var _ io.Writer = (*failWriter)(nil)

// parseErr stops the test unless err is a *ParseError, and reports a failure, without stopping
// the test, unless its reason contains reason.
func parseErr(t testing.TB, err error, reason string, ctx ...any) *ParseError {
	t.Helper()
	var pe *ParseError
	require.ErrorAs(t, err, &pe, ctx...)
	assert.Contains(t, pe.Reason, reason, ctx...)
	return pe
}
