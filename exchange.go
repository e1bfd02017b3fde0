package aiohttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/aiohttp-go/aiohttp/internal/http1"
)

// inlineBodyMax is the largest in-memory body written together with the head by the caller's
// goroutine. Larger and streaming bodies are written by a goroutine while the head is read, so a
// server that answers early (413, 401) is heard.
const inlineBodyMax = 64 << 10

var writeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}
var bufWriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

// headScratchPool holds the memory a head is assembled in before it becomes one string.
var headScratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}

// send makes one hop: a connection from the pool, the request written, the head read. A request
// that failed on a reused connection before any response byte arrived is sent once more on a new
// connection when it is replayable (the stale keep-alive rule).
func (s *Session) send(ctx context.Context, r *outRequest, dl *deadlines) (*Response, error) {
	for attempt := 0; ; attempt++ {
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
// any response byte, one that a fresh connection might not have.
func (s *Session) exchange(ctx context.Context, pc *conn, r *outRequest, dl *deadlines) (resp *Response, stale bool, err error) {
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, pc.interrupt)
	}
	pc.begin(ctx, dl)
	ex := &exchangeState{c: s.conn, pc: pc, stop: stop}

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
	if werr == nil && !inline {
		ex.startBodyWriter(b, bodyLen)
	}

	resp = &Response{Method: r.method, url: r.url, ex: ex}
	scratch := headScratchPool.Get().(*[]byte)
	n, err := http1.ReadResponseHead(pc.br, s.limits, &resp.head, scratch)
	if cap(*scratch) <= 64<<10 {
		headScratchPool.Put(scratch)
	}
	if err == nil && resp.head.Status == 101 {
		err = &http1.ParseError{Reason: "unexpected 101 Switching Protocols (no upgrade was asked for)", Offset: 0}
	}
	if err != nil {
		if werr != nil && n == 0 {
			err = werr // the write failed and nothing came back: report the write
		}
		cause := s.headError(pc, err)
		ex.finish(false)
		stale = n == 0 && ctx.Err() == nil && isDisconnect(err)
		if !stale && ctx.Err() == nil && n > 0 && isStatusLineError(err, n) {
			stale = true // bytes that are not a status line: left over from an earlier response
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

// headError classifies an error met while writing the request or reading the head.
func (s *Session) headError(pc *conn, err error) error {
	var pe *http1.ParseError
	switch {
	case errors.As(err, &pe):
		return &MalformedResponseError{Reason: pe.Reason, Offset: pe.Offset}
	case pc.ctx.Err() != nil:
		return context.Cause(pc.ctx)
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

// isStatusLineError reports a malformed status line read as the first line of a response.
func isStatusLineError(err error, n int64) bool {
	var pe *http1.ParseError
	return errors.As(err, &pe) && pe.Offset == 0
}

// exchangeState is what a response holds of its connection until the body is done.
type exchangeState struct {
	c    *Connector
	pc   *conn
	stop func() bool

	body  *body         // the body being written
	done  chan struct{} // closed when the body writer returns
	werr  error         // the body writer's result, read after done
	freed bool
}

// startBodyWriter writes the body on its own goroutine, joined by finish.
func (ex *exchangeState) startBodyWriter(b *body, bodyLen int64) {
	ex.done = make(chan struct{})
	ex.body = b
	pc := ex.pc
	pc.writerActive = true
	pc.writing.Store(true)
	go func() {
		err := writeBody(pc, b, bodyLen)
		pc.writing.Store(false)
		if err == nil {
			pc.armAfterWrite()
		}
		ex.werr = err
		close(ex.done)
	}()
}

func writeBody(pc *conn, b *body, bodyLen int64) error {
	if b.data != nil {
		_, err := pc.Write(b.data)
		return err
	}
	b.used = true
	bw := bufWriterPool.Get().(*bufio.Writer)
	bw.Reset(pc)
	defer func() { bw.Reset(nil); bufWriterPool.Put(bw) }()
	var err error
	if bodyLen == http1.LenChunked {
		cw := &http1.ChunkedWriter{W: bw}
		if _, err = io.Copy(cw, b.r); err == nil {
			err = cw.Close()
		}
	} else {
		var n int64
		n, err = io.Copy(bw, io.LimitReader(b.r, bodyLen))
		if err == nil && n < bodyLen {
			err = errors.New("request body shorter than its Content-Length")
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

// finish ends the exchange once: joins the body writer (closing the connection first if it is
// still writing), stops the cancellation hook and gives the connection back, reused only when
// reusable and nothing went wrong on either side.
func (ex *exchangeState) finish(reusable bool) {
	if ex.freed {
		return
	}
	ex.freed = true
	pc := ex.pc
	if ex.done != nil {
		select {
		case <-ex.done:
		default:
			// The exchange ended before the body was sent (an early response, an error): close
			// the socket to unblock a write, and the body, if it is a Closer, to unblock a read.
			reusable = false
			_ = pc.raw.Close()
			if c, ok := ex.body.r.(io.Closer); ok {
				_ = c.Close()
			}
			<-ex.done
		}
		pc.writerActive = false
		if ex.werr != nil {
			reusable = false
		}
	}
	if ex.stop != nil && !ex.stop() {
		reusable = false // the interrupt ran, or is running: the deadlines are poisoned
	}
	ex.c.release(pc, reusable)
}
