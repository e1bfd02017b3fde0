package aiohttp

import "time"

// NoTimeout disables a [Timeout] field.
const NoTimeout time.Duration = -1

// Default timeouts, aiohttp's: Total 5 minutes, SockConnect 30 seconds, Connect and SockRead none.
const (
	DefaultTotalTimeout       = 5 * time.Minute
	DefaultSockConnectTimeout = 30 * time.Second
)

// Timeout splits a request's time budget into phases, as aiohttp's ClientTimeout does. A zero
// field takes its default; [NoTimeout] disables it. Set on [Config] for the session, or pass as a
// request option to override the session's values field by field.
//
// Deadlines are applied to the socket: no timer or goroutine is started per request. When one
// expires the request (or body read) fails with a *[TimeoutError] naming the phase. Total and
// SockRead fire never early and at most min(1s, duration/16) late: a socket deadline is moved
// only when it falls outside that window, about once a second on a busy connection.
type Timeout struct {
	// Total covers everything from the call until the body is read to EOF or closed: pool wait,
	// DNS, dialing, TLS, every redirect hop and retry, the upload, the head and the body.
	// Zero means 5 minutes.
	Total time.Duration
	// Connect covers obtaining a connection when none is idle: waiting for a pool slot, DNS, all
	// dial attempts and TLS. It is not armed when an idle connection is taken at once.
	// Zero means none.
	Connect time.Duration
	// SockConnect bounds one connection attempt to one address (TCP connect and TLS handshake,
	// DNS excluded); on expiry the next address is tried while Connect and Total allow.
	// Zero means 30 seconds.
	SockConnect time.Duration
	// SockRead bounds the wait for the next bytes from the server, re-armed before every read,
	// once the request body is written. Zero means none.
	SockRead time.Duration
}

func (t Timeout) apply(b *requestBuilder) { b.timeout = b.timeout.override(t) }

// override returns t with every non-zero field of o replacing t's.
func (t Timeout) override(o Timeout) Timeout {
	if o.Total != 0 {
		t.Total = o.Total
	}
	if o.Connect != 0 {
		t.Connect = o.Connect
	}
	if o.SockConnect != 0 {
		t.SockConnect = o.SockConnect
	}
	if o.SockRead != 0 {
		t.SockRead = o.SockRead
	}
	return t
}

// resolved returns the effective durations, where zero means "no timeout".
func (t Timeout) resolved() Timeout {
	t.Total = orDefault(t.Total, DefaultTotalTimeout)
	t.Connect = orDefault(t.Connect, 0)
	t.SockConnect = orDefault(t.SockConnect, DefaultSockConnectTimeout)
	t.SockRead = orDefault(t.SockRead, 0)
	return t
}

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// deadlines are one request's absolute limits, computed once at its start from resolved
// timeouts. A zero time means none.
type deadlines struct {
	t     Timeout // resolved: zero fields are off
	total time.Time

	// The connect phase of the current hop, fixed when it first waits or dials, so that a pool
	// wait, DNS and every dial attempt (and a stale retry) share one Connect budget.
	conn      time.Time
	connPhase string
	connSet   bool
}

// startHop begins a redirect hop: its connection gets a Connect budget of its own.
func (d *deadlines) startHop() { d.connSet = false }

func newDeadlines(t Timeout, now time.Time) deadlines {
	d := deadlines{t: t}
	if t.Total > 0 {
		d.total = now.Add(t.Total)
	}
	return d
}

// connect returns the deadline of this hop's connect phase, and the phase that owns it: the
// first call fixes it at now+Connect (or Total, when earlier).
func (d *deadlines) connect() (time.Time, string) {
	if !d.connSet {
		d.conn, d.connPhase, d.connSet = d.total, PhaseTotal, true
		if d.t.Connect > 0 {
			if c := time.Now().Add(d.t.Connect); d.total.IsZero() || c.Before(d.total) {
				d.conn, d.connPhase = c, PhaseConnect
			}
		}
	}
	return d.conn, d.connPhase
}

// timeoutError builds the error for an expired phase.
func (d *deadlines) timeoutError(phase string) *TimeoutError {
	var dur time.Duration
	switch phase {
	case PhaseTotal:
		dur = d.t.Total
	case PhaseConnect:
		dur = d.t.Connect
	case PhaseSockConnect:
		dur = d.t.SockConnect
	case PhaseSockRead:
		dur = d.t.SockRead
	}
	return &TimeoutError{Phase: phase, Duration: dur}
}

// earliest returns the earlier of two deadlines, zero meaning none, and whether b won.
func earliest(a, b time.Time) (time.Time, bool) {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b, !b.IsZero()
	}
	return a, false
}
