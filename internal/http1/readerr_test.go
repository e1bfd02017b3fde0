package http1

import (
	"bufio"
	"errors"
	"io"
	"os"
	"testing"
)

// errOnce returns its error on the first read only, as a socket read deadline does: reading
// again would block anew. The parser must hand that first error back, not read on.
type errOnce struct {
	data string
	err  error
	done bool
}

func (r *errOnce) Read(p []byte) (int, error) {
	if r.data != "" {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	if !r.done {
		r.done = true
		return 0, r.err
	}
	return 0, errors.New("read again after the error: the parser waited twice")
}

func TestReadResponseHeadReturnsFirstReadError(t *testing.T) {
	for _, data := range []string{"", "HTT", "HTTP/1.1 200 OK\r\n"} {
		br := bufio.NewReader(&errOnce{data: data, err: os.ErrDeadlineExceeded})
		var h Head
		_, err := ReadResponseHead(br, Limits{}, &h, nil)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("after %q: got %v, want the deadline error", data, err)
		}
	}
	br := bufio.NewReader(&errOnce{data: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", err: os.ErrDeadlineExceeded})
	var h Head
	if _, err := ReadResponseHead(br, Limits{}, &h, nil); err != nil {
		t.Fatal(err)
	}
	var b Body
	b.Reset(br, LengthBody, 5, Limits{})
	if _, err := io.ReadAll(&b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("body: got %v, want the deadline error", err)
	}
}
