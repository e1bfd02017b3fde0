package aiohttp

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// aLongTimeAgo is a deadline in the past, used to interrupt blocked I/O.
var aLongTimeAgo = time.Unix(1, 0)

// bufioPool holds read buffers while connections are idle: an idle connection holds none.
var bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// conn is one pooled HTTP/1.1 connection. While in use it belongs to one request, whose goroutine
// does all the reads (and the writes, unless a body writer goroutine is running); the pool fields
// are guarded by the connector's mutex.
type conn struct {
	raw  net.Conn
	peek net.Conn // the TCP connection under TLS, for the reuse check
	hp   *hostPool
	br   *bufio.Reader // nil while idle

	// Guarded by the connector's mutex.
	lastUsed time.Time
	uses     int // completed exchanges

	// Per exchange, set by begin.
	dl         *deadlines
	readArmed  time.Time
	readPhase  string
	writeArmed time.Time
	writing    atomic.Bool // a body writer goroutine owns the write side
	// writerActive is set by the request's goroutine while a body writer exists; then dlMu
	// guards readArmed and readPhase, which the writer re-arms when it is done.
	writerActive bool
	dlMu         sync.Mutex
	interrupted  atomic.Bool
	aborted      atomic.Bool // the body writer failed before the head arrived
	headDone     atomic.Bool // the head read has returned
	ctx          context.Context
}

// errReadAborted ends a head read when the request body could not be sent; the exchange reports
// the body's error instead.
var errReadAborted = errors.New("head read aborted: the request body failed")

// begin binds the connection to one exchange.
func (pc *conn) begin(ctx context.Context, dl *deadlines) {
	pc.ctx, pc.dl = ctx, dl
	pc.interrupted.Store(false)
	pc.aborted.Store(false)
	pc.headDone.Store(false)
	if pc.br == nil {
		pc.br = bufioPool.Get().(*bufio.Reader)
		pc.br.Reset(pc)
	}
}

// interrupt makes blocked and future I/O fail at once. It runs from context.AfterFunc.
func (pc *conn) interrupt() {
	pc.interrupted.Store(true)
	_ = pc.raw.SetDeadline(aLongTimeAgo)
}

// Read reads from the socket under the exchange's read deadline: the earliest of Total and, once
// the request body is written, now+SockRead. It is the reader under pc.br.
func (pc *conn) Read(p []byte) (int, error) {
	if pc.writerActive {
		pc.dlMu.Lock()
		err := pc.armRead()
		pc.dlMu.Unlock()
		if err != nil {
			return 0, err
		}
	} else if err := pc.armRead(); err != nil {
		return 0, err
	}
	if pc.interrupted.Load() {
		return 0, pc.ctxErr()
	}
	if pc.aborted.Load() {
		return 0, errReadAborted
	}
	return pc.raw.Read(p)
}

// abortRead wakes a head read blocked while the body writer failed; see errReadAborted.
func (pc *conn) abortRead() {
	pc.aborted.Store(true)
	pc.dlMu.Lock()
	_ = pc.raw.SetReadDeadline(aLongTimeAgo)
	pc.readArmed = aLongTimeAgo
	pc.dlMu.Unlock()
}

// armRead sets the read deadline for the next read: Total, or now+SockRead when earlier.
//
// Moving a socket deadline costs a runtime timer update, and often a wake-up of the network
// poller; doing it for every read and every request costs more than the rest of a small GET. So
// a deadline is armed up to min(1s, its duration/16) late and left alone while it still lies in
// that window: it fires never early, and at most that late. On a busy connection the deadline
// then moves about once a second.
func (pc *conn) armRead() error {
	want, phase := pc.dl.total, PhaseTotal
	latest := later(want, pc.dl.t.Total)
	if sr := pc.dl.t.SockRead; sr > 0 && !pc.writing.Load() {
		if d, won := earliest(want, time.Now().Add(sr)); won {
			want, phase = d, PhaseSockRead
			if l := later(d, sr); latest.IsZero() || l.Before(latest) {
				latest = l
			}
		}
	}
	if !inWindow(pc.readArmed, want, latest) {
		if err := pc.raw.SetReadDeadline(latest); err != nil {
			return err
		}
		pc.readArmed = latest
	}
	pc.readPhase = phase
	return nil
}

// later returns the latest acceptable moment for a deadline due at d for a phase of length dur.
func later(d time.Time, dur time.Duration) time.Time {
	if d.IsZero() {
		return d
	}
	return d.Add(min(time.Second, dur/16))
}

// inWindow reports whether an armed deadline fires neither before want nor after latest (zero
// meaning no deadline).
func inWindow(armed, want, latest time.Time) bool {
	if want.IsZero() {
		return armed.IsZero()
	}
	return !armed.IsZero() && !armed.Before(want) && !armed.After(latest)
}

// armAfterWrite starts SockRead when the body writer is done, for a head read already blocked.
func (pc *conn) armAfterWrite() {
	sr := pc.dl.t.SockRead
	if sr <= 0 {
		return
	}
	pc.dlMu.Lock()
	want, won := earliest(pc.dl.total, time.Now().Add(sr))
	if won {
		if pc.raw.SetReadDeadline(want) == nil {
			pc.readArmed, pc.readPhase = want, PhaseSockRead
		}
	}
	pc.dlMu.Unlock()
	if pc.interrupted.Load() {
		_ = pc.raw.SetDeadline(aLongTimeAgo)
	}
}

// Write writes to the socket under the Total deadline, armed as armRead arms it.
func (pc *conn) Write(p []byte) (int, error) {
	if want := pc.dl.total; !inWindow(pc.writeArmed, want, later(want, pc.dl.t.Total)) {
		at := later(want, pc.dl.t.Total)
		if err := pc.raw.SetWriteDeadline(at); err != nil {
			return 0, err
		}
		pc.writeArmed = at
	}
	if pc.interrupted.Load() {
		return 0, pc.ctxErr()
	}
	return pc.raw.Write(p)
}

// ctxErr is the error for an interrupted exchange.
func (pc *conn) ctxErr() error {
	if err := context.Cause(pc.ctx); err != nil {
		return err
	}
	return context.Canceled
}

// classify turns an I/O error of this exchange into the public cause: the caller's context error
// first, then our own phase deadline, else the error itself.
func (pc *conn) classify(err error) error {
	if pc.ctx != nil && pc.ctx.Err() != nil {
		return context.Cause(pc.ctx)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if pc.writerActive {
			pc.dlMu.Lock()
			defer pc.dlMu.Unlock()
		}
		return pc.dl.timeoutError(pc.readPhase)
	}
	return err
}

// end detaches the connection from its exchange. reusable reports whether it may go back to the
// pool: the read buffer must be empty (stray bytes are never read as the next response).
func (pc *conn) end(reusable bool) bool {
	pc.ctx, pc.dl = nil, nil
	if pc.br != nil && pc.br.Buffered() > 0 {
		reusable = false
	}
	if reusable {
		pc.br.Reset(nil)
		bufioPool.Put(pc.br)
		pc.br = nil
	}
	return reusable
}

// closeNow closes the socket without a TLS close_notify, which could block on a full send
// buffer: for connections abandoned mid-exchange, and closes under the pool's lock.
func (pc *conn) closeNow() {
	_ = pc.peek.Close()
}

func (pc *conn) close() {
	_ = pc.raw.Close()
	if pc.br != nil {
		pc.br.Reset(nil)
		bufioPool.Put(pc.br)
		pc.br = nil
	}
}
