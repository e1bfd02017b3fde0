//go:build !race

package http1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The allocation budget of the hot paths (the race detector adds allocations, hence the build tag).

func TestReadResponseHeadAllocs(t *testing.T) {
	rd := strings.NewReader(typicalHead)
	br := bufio.NewReader(rd)
	var h Head
	var scratch []byte
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(typicalHead)
		br.Reset(rd)
		if _, err := ReadResponseHead(br, Limits{}, &h, &scratch); err != nil {
			t.Fatal(err)
		}
		if h.Get("Content-Type") == "" {
			t.Fatal("no Content-Type")
		}
	})
	if allocs > 1 {
		t.Errorf("ReadResponseHead with reused scratch allocates %v times, want at most 1 (the Raw string)", allocs)
	}
}

func TestAppendRequestHeadAllocs(t *testing.T) {
	header := http.Header{"Accept": {"*/*"}, "User-Agent": {"x"}, "X-Trace": {"1", "2"}}
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		dst = AppendRequestHead(dst[:0], "GET", "/", "example.com", header, LenNone)
	})
	if allocs > 0 {
		t.Errorf("AppendRequestHead into a large enough dst allocates %v times, want 0", allocs)
	}
}

func TestBodyAllocs(t *testing.T) {
	const wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
	rd := strings.NewReader(wire)
	br := bufio.NewReader(rd)
	buf := make([]byte, 64)
	var body Body
	allocs := testing.AllocsPerRun(100, func() {
		rd.Reset(wire)
		br.Reset(rd)
		body.Reset(br, ChunkedBody, -1, Limits{})
		for {
			_, err := body.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 0 {
		t.Errorf("reading a chunked body allocates %v times, want 0", allocs)
	}
}
