package aiohttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/http1"
)

// writerGrace is how long an ended exchange waits for its body writer to return before leaving
// the connection's release to the writer.
const writerGrace = 50 * time.Millisecond

// inlineBodyMax is the largest in-memory body written together with the head by the caller's
// goroutine. Larger and streaming bodies are written by a goroutine while the head is read, so a
// server that answers early (413, 401) is heard.
const inlineBodyMax = 64 << 10

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
var bufWriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// headScratchPool holds the memory a head is assembled in before it becomes one string.
var headScratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

// send makes one hop: a connection from the pool, the request written, the head read. A request
// that failed on a reused connection before a status line arrived is sent once more on a new
// connection when it is replayable (the stale keep-alive rule).
func (s *Session) send(ctx context.Context, r *outRequest, dl *deadlines) (*Response, error) {
	for attempt := 0; ; attempt++ {
		dl.startHop() // each acquisition, the stale retry's too, gets its own Connect budget
		pc, reused, err := s.conn.acquire(ctx, r.key, acquireOpts{dl: dl, fresh: attempt > 0, peek: !r.replayable()})
		if err != nil {
			return nil, err
		}
		resp, stale, err := s.exchange(ctx, pc, r, dl)
		if err == nil {
			return resp, nil
		}
		if !stale || !reused || attempt > 0 {
			return nil, err
		}
		if !r.replayable() {
			var sd *ServerDisconnectedError
			if errors.As(err, &sd) {
				sd.Reason = "not retried (" + r.method + " without Idempotency-Key, or a body that cannot be rewound)"
			}
			return nil, err
		}
		if r.body.rewind() != nil {
			return nil, err
		}
	}
}

// exchange writes the request on pc and reads the response head. stale reports a failure before
// a status line arrived, one that a fresh connection might not have.
func (s *Session) exchange(ctx context.Context, pc *conn, r *outRequest, dl *deadlines) (resp *Response, stale bool, err error) {
	// Bind first, then register the interrupt: once registered, nothing clears its flag.
	pc.begin(ctx, dl)
	ex := &exchangeState{c: s.conn, pc: pc}
	if err := ctx.Err(); err != nil {
		ex.finish(true) // cancelled before a byte was sent: the connection is clean
		return nil, false, context.Cause(ctx)
	}
	if ctx.Done() != nil {
		ex.stop = context.AfterFunc(ctx, pc.interrupt)
		if err := ctx.Err(); err != nil {
			// Cancelled just now; the interrupt's goroutine may not have run yet. finish keeps
			// the connection only if stop() shows the interrupt never started.
			ex.finish(true)
			return nil, false, context.Cause(ctx)
		}
	}

	bodyLen := r.bodyLen()
	bp := writeBufPool.Get().(*[]byte)
	buf := http1.AppendRequestHead((*bp)[:0], r.method, r.target, r.host, r.header, bodyLen)
	b := r.body
	inline := b == nil || (b.data != nil && len(b.data) <= inlineBodyMax)
	if inline && b != nil {
		buf = append(buf, b.data...)
	}
	_, werr := pc.Write(buf)
	*bp = buf
	writeBufPool.Put(bp)
	if werr != nil {
		ex.werr = werr // the connection is not reused, whatever comes back
	} else if !inline {
		ex.startBodyWriter(b, bodyLen)
	}

	resp = &Response{Method: r.method, url: r.url, ex: ex}
	scratch := headScratchPool.Get().(*[]byte)
	n, err := http1.ReadResponseHead(pc.br, s.limits, &resp.head, scratch)
	if cap(*scratch) <= 64<<10 {
		headScratchPool.Put(scratch)
	}
	pc.headDone.Store(true)
	if err == nil && resp.head.Status == 101 {
		err = &http1.ParseError{Reason: "unexpected 101 Switching Protocols (no upgrade was asked for)"}
	}
	if err != nil {
		if werr != nil && n == 0 {
			err = werr // the write failed and nothing came back: report the write
		}
		cause := s.headError(pc, ex, err)
		ex.finish(false)
		if ctx.Err() == nil && !errors.As(cause, new(*BodySourceError)) {
			stale = (n == 0 && isDisconnect(err)) || isStatusLineError(err)
		}
		return nil, stale, cause
	}
	resp.setHead(r.decode)
	kind, length := resp.head.Body(r.method)
	resp.body.Reset(pc.br, kind, length, s.limits)
	if kind == http1.NoBody {
		ex.finish(!resp.head.Close)
		resp.ex = nil
	}
	return resp, false, nil
}

// headError classifies an error met while writing the request or reading the head: the caller's
// context first, then a failure of the caller's body reader, then the response itself.
func (s *Session) headError(pc *conn, ex *exchangeState, err error) error {
	var pe *http1.ParseError
	switch {
	case pc.ctx.Err() != nil:
		return context.Cause(pc.ctx)
	case ex.sourceErr() != nil:
		return ex.sourceErr()
	case errors.As(err, &pe):
		return &MalformedResponseError{Reason: pe.Reason, Offset: pe.Offset}
	case isDisconnect(err), err == http1.ErrHeadTruncated:
		return &ServerDisconnectedError{Err: err}
	}
	return pc.classify(err)
}

// isDisconnect reports an error that means the server closed or reset the connection.
func isDisconnect(err error) bool {
	return err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed) ||
		err == http1.ErrHeadTruncated
}

// isStatusLineError reports bytes that are not a status line where the first response should
// begin: left over from an earlier response on a reused connection.
func isStatusLineError(err error) bool {
	var pe *http1.ParseError
	return errors.As(err, &pe) && pe.StatusLine
}

// errBodyStopped ends a body writer whose exchange is over.
var errBodyStopped = errors.New("request body no longer wanted: the exchange ended")

// sourceReader tags errors of the caller's body reader, to tell them from socket errors, and
// stops reading from it once the exchange has ended.
type sourceReader struct {
	r       io.Reader
	stopped *atomic.Bool
}

func (s sourceReader) Read(p []byte) (int, error) {
	if s.stopped.Load() {
		return 0, errBodyStopped
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &BodySourceError{Err: err}
	}
	return n, err
}

// exchangeState is what a response holds of its connection until the body is done.
type exchangeState struct {
	c    *Connector
	pc   *conn
	stop func() bool

	body *body         // the body being written by the writer goroutine
	done chan struct{} // closed when the body writer returns
	werr error         // the write's result; the writer's is read after done

	// stopped is set when the exchange ends: the writer reads no more from the body.
	stopped atomic.Bool
	// mu hands the connection over to a body writer that outlives the exchange.
	mu         sync.Mutex
	writerDone bool
	orphaned   bool // finish returned first: the writer releases the connection
	freed      bool
}

// sourceErr returns the body writer's error if it came from the caller's reader.
func (ex *exchangeState) sourceErr() error {
	if ex.done == nil {
		return nil
	}
	select {
	case <-ex.done:
		var se *BodySourceError
		if errors.As(ex.werr, &se) {
			return se
		}
	default:
	}
	return nil
}

// startBodyWriter writes the body on its own goroutine. When the caller's reader fails before
// the response head arrived, the head read is aborted so the failure is reported at once.
func (ex *exchangeState) startBodyWriter(b *body, bodyLen int64) {
	ex.done = make(chan struct{})
	ex.body = b
	if b.data == nil {
		b.used = true
		b.writer = ex.done // rewind waits for this writer to let go of the reader
	}
	pc := ex.pc
	pc.writerActive = true
	pc.writing.Store(true)
	go func() {
		err := writeBody(pc, b, bodyLen, &ex.stopped)
		pc.writing.Store(false)
		if err == nil {
			pc.armAfterWrite()
		}
		ex.mu.Lock()
		ex.werr = err
		ex.writerDone = true
		orphaned := ex.orphaned
		ex.mu.Unlock()
		close(ex.done) // before abortRead: the woken head read finds werr
		switch {
		case orphaned:
			ex.c.release(pc, false)
		case errors.As(err, new(*BodySourceError)) && !pc.headDone.Load():
			pc.abortRead()
		}
	}()
}

func writeBody(pc *conn, b *body, bodyLen int64, stopped *atomic.Bool) error {
	if b.data != nil {
		_, err := pc.Write(b.data)
		return err
	}
	src := sourceReader{b.r, stopped}
	bw := bufWriterPool.Get().(*bufio.Writer)
	bw.Reset(pc)
	defer func() { bw.Reset(nil); bufWriterPool.Put(bw) }()
	var err error
	if bodyLen == http1.LenChunked {
		cw := &http1.ChunkedWriter{W: bw}
		if _, err = io.Copy(cw, src); err == nil {
			err = cw.Close()
		}
	} else {
		var n int64
		n, err = io.Copy(bw, io.LimitReader(src, bodyLen))
		if err == nil && n < bodyLen {
			err = &BodySourceError{Err: errors.New("body shorter than its Content-Length")}
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

// writing reports whether the body writer is still running.
func (ex *exchangeState) writing() bool {
	if ex.done == nil {
		return false
	}
	select {
	case <-ex.done:
		return false
	default:
		return true
	}
}

// finish ends the exchange once: stops the cancellation hook and gives the connection back,
// reused only when reusable and nothing went wrong on either side. A body writer still running
// is told to read no more and stopped by closing the socket (and the body, if it is an
// io.Closer); finish waits up to writerGrace for it. A writer blocked longer in the caller's
// reader releases the connection itself when it returns, its slot counted until then.
func (ex *exchangeState) finish(reusable bool) {
	if ex.freed {
		return
	}
	ex.freed = true
	pc := ex.pc
	if ex.stop != nil && !ex.stop() {
		reusable = false // the interrupt ran, or is running: the deadlines are poisoned
	}
	if ex.done == nil && ex.werr != nil {
		reusable = false
	}
	if ex.done != nil {
		ex.stopped.Store(true)
		if ex.writing() {
			// Closing the socket (and the body, if it is a Closer) makes a writer in Write or in
			// a well-behaved Read return at once; wait that long, not for a Read that blocks.
			pc.closeNow()
			if c, ok := ex.body.r.(io.Closer); ok {
				_ = c.Close()
			}
			t := time.NewTimer(writerGrace)
			select {
			case <-ex.done:
			case <-t.C:
			}
			t.Stop()
		}
		ex.mu.Lock()
		if !ex.writerDone {
			ex.orphaned = true
			ex.mu.Unlock()
			return
		}
		ex.mu.Unlock()
		pc.writerActive = false
		if ex.werr != nil {
			reusable = false
		}
	}
	ex.c.release(pc, reusable)
}
