package aiohttp

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiohttp-go/aiohttp/internal/dnscache"
)

// NoLimit as [ConnectorConfig.Limit] removes the bound on open connections.
const NoLimit = -1

// Connector defaults.
const (
	DefaultLimit              = 100
	DefaultIdleTimeout        = 15 * time.Second
	DefaultDNSCacheTTL        = 10 * time.Second
	DefaultHappyEyeballsDelay = 250 * time.Millisecond
)

// Resolver looks up the addresses of a host; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ConnectorConfig configures a [Connector]. The zero value is a good default; it is copied by
// [NewConnector], so later edits change nothing.
type ConnectorConfig struct {
	// Limit bounds open connections (dialing, in use and idle) across all hosts; excess requests
	// wait in FIFO order. Zero means 100; NoLimit removes the bound.
	Limit int
	// LimitPerHost bounds open connections per scheme, host and port. Zero means no per-host bound.
	LimitPerHost int
	// IdleTimeout closes connections idle for longer (aiohttp's keepalive_timeout).
	// Zero means 15 seconds; NoTimeout keeps them until the server closes them.
	IdleTimeout time.Duration
	// ForceClose closes every connection after one request.
	ForceClose bool
	// DNSCacheTTL is how long a host's addresses are reused after the look-up completes.
	// Zero means 10 seconds; NoTimeout disables the cache (concurrent look-ups still coalesce).
	DNSCacheTTL time.Duration
	// HappyEyeballsDelay is the wait before the next address is tried while an attempt is still
	// pending (RFC 8305). Zero means 250 ms.
	HappyEyeballsDelay time.Duration
	// TLSConfig is cloned for every TLS connection; ServerName defaults to the URL's host and
	// MinVersion to TLS 1.2. Verification stays on unless the config itself turns it off.
	TLSConfig *tls.Config
	// Resolver looks up host names. Nil means net.DefaultResolver.
	Resolver Resolver
	// DialContext, when set, opens the transport connection to one resolved address
	// ("ip:port"), instead of a TCP net.Dialer: for example a Unix socket, or an in-memory
	// net.Pipe in tests. ctx carries the attempt's deadline (SockConnect, Connect, Total).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Connector is a pool of HTTP/1.1 connections shared by any number of sessions and goroutines.
// It bounds open connections in total and per host, queues excess requests in one FIFO, reuses
// the most recently used idle connection, closes idle ones after IdleTimeout with one timer, and
// caches DNS. It starts no goroutine per connection.
type Connector struct {
	cfg ConnectorConfig
	dns *dnscache.Cache

	mu      sync.Mutex
	closed  bool
	open    int // dialing + in use + idle, all hosts
	hosts   map[poolKey]*hostPool
	waiters []*waiter
	pass    uint64 // dispatch passes, for hostPool.blocked
	janitor *time.Timer
	jAt     time.Time // when the janitor fires; zero when not scheduled

	dials, reuses, timeouts atomic.Uint64
}

// poolKey identifies connections that can serve each other's requests.
type poolKey struct {
	scheme string // "http" or "https"
	addr   string // host:port, host lower-case
}

func (k poolKey) String() string { return k.scheme + "://" + k.addr }

// hostPool is the state of one key. Guarded by Connector.mu.
type hostPool struct {
	key     poolKey
	open    int     // dialing + in use + idle
	dialing int     // permits granted, connection not yet made
	idle    []*conn // least recently used first
	waiting int
	blocked uint64 // the dispatch pass that found this key unable to serve a waiter
}

// waiter is a request queued for a connection or a dial permit.
type waiter struct {
	hp    *hostPool
	ch    chan grant // buffered, one grant at most
	done  bool       // granted or removed; guarded by Connector.mu
	fresh bool       // a stale-connection retry: a new connection only
}

type grant struct {
	pc *conn // an idle connection, or nil for a permit to dial
}

// NewConnector validates cfg and returns a connector. It starts no goroutine.
func NewConnector(cfg ConnectorConfig) (*Connector, error) {
	if cfg.Limit == 0 {
		cfg.Limit = DefaultLimit
	}
	if cfg.LimitPerHost < 0 {
		cfg.LimitPerHost = 0
	}
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.DNSCacheTTL = orDefault(cfg.DNSCacheTTL, DefaultDNSCacheTTL)
	cfg.HappyEyeballsDelay = orDefault(cfg.HappyEyeballsDelay, DefaultHappyEyeballsDelay)
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
	}
	var r Resolver = net.DefaultResolver
	if cfg.Resolver != nil {
		r = cfg.Resolver
	}
	return &Connector{
		cfg:   cfg,
		dns:   dnscache.New(r, cfg.DNSCacheTTL),
		hosts: make(map[poolKey]*hostPool),
	}, nil
}

// Close closes idle connections and refuses new requests with ErrSessionClosed; connections in
// use are closed when their responses are. Queued requests fail with ErrSessionClosed.
func (c *Connector) Close() error {
	c.mu.Lock()
	c.closed = true
	var drop []*conn
	for _, hp := range c.hosts {
		drop = append(drop, hp.idle...)
		c.open -= len(hp.idle)
		hp.open -= len(hp.idle)
		hp.idle = nil
		c.forgetLocked(hp)
	}
	waiters := c.waiters
	c.waiters = nil
	for _, w := range waiters {
		w.done = true
		w.hp.waiting--
		close(w.ch)
	}
	if c.janitor != nil {
		c.janitor.Stop()
		c.jAt = time.Time{}
	}
	c.mu.Unlock()
	for _, pc := range drop {
		pc.close()
	}
	return nil
}

// acquireOpts are one acquisition's parameters.
type acquireOpts struct {
	dl     *deadlines
	fresh  bool // do not take an idle connection (the stale-connection retry)
	peek   bool // always check an idle connection before use (non-replayable requests)
	tlsCfg *tls.Config
}

// acquire returns a connection for key: the most recently used idle one, a new one when the
// limits allow, else one handed over in FIFO order. reused reports an idle connection taken.
func (c *Connector) acquire(ctx context.Context, key poolKey, o acquireOpts) (pc *conn, reused bool, err error) {
	if ctx.Err() != nil {
		return nil, false, context.Cause(ctx) // never hand a cancelled request a connection
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrSessionClosed
	}
	hp := c.hosts[key]
	if hp == nil {
		hp = &hostPool{key: key}
		c.hosts[key] = hp
	}
	if !o.fresh {
		if pc := c.popIdleLocked(hp); pc != nil {
			c.mu.Unlock()
			return c.checkIdle(ctx, pc, o)
		}
	}
	if c.reserveLocked(hp) || (o.fresh && c.reserveFreshLocked(hp)) {
		c.mu.Unlock()
		pc, err := c.dial(ctx, hp, o)
		return pc, false, err
	}
	// Wait in line. The connect phase (and Total) bounds the wait.
	w := &waiter{hp: hp, ch: make(chan grant, 1), fresh: o.fresh}
	c.waiters = append(c.waiters, w)
	hp.waiting++
	c.mu.Unlock()
	g, err := c.wait(ctx, w, o.dl)
	if err != nil {
		return nil, false, err
	}
	if g.pc != nil {
		return c.checkIdle(ctx, g.pc, o)
	}
	pc, err = c.dial(ctx, hp, o)
	return pc, false, err
}

// checkIdle returns an idle connection taken from the pool if it is alive, else a new one
// dialed in its place.
func (c *Connector) checkIdle(ctx context.Context, pc *conn, o acquireOpts) (*conn, bool, error) {
	if c.alive(pc, o.peek) {
		c.reuses.Add(1)
		return pc, true, nil
	}
	pc, err := c.redial(ctx, pc, o)
	return pc, false, err
}

// wait blocks until w is granted, ctx is done or the connect deadline passes. A grant that races
// with cancellation is handed back to the pool.
func (c *Connector) wait(ctx context.Context, w *waiter, dl *deadlines) (grant, error) {
	deadline, phase := dl.connect()
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	var cause error
	select {
	case g, ok := <-w.ch:
		if !ok {
			return grant{}, ErrSessionClosed
		}
		return g, nil
	case <-ctx.Done():
		cause = context.Cause(ctx)
	case <-timeout:
		c.timeouts.Add(1)
		cause = dl.timeoutError(phase)
	}
	c.mu.Lock()
	if !w.done {
		w.done = true
		w.hp.waiting--
		c.waiters = slices.DeleteFunc(c.waiters, func(x *waiter) bool { return x == w })
		c.forgetLocked(w.hp)
		c.mu.Unlock()
		return grant{}, cause
	}
	c.mu.Unlock()
	if g, ok := <-w.ch; ok {
		if g.pc != nil {
			c.requeue(g.pc)
		} else {
			c.unreserve(w.hp)
		}
	}
	return grant{}, cause
}

// requeue puts back an idle connection that was handed to a waiter who left, keeping its age.
func (c *Connector) requeue(pc *conn) {
	c.mu.Lock()
	hp := pc.hp
	if c.closed {
		pc.closeNow()
		hp.open--
		c.open--
	} else {
		i, _ := slices.BinarySearchFunc(hp.idle, pc.lastUsed, func(x *conn, t time.Time) int { return x.lastUsed.Compare(t) })
		hp.idle = slices.Insert(hp.idle, i, pc)
		c.scheduleJanitorLocked(pc.lastUsed)
	}
	c.dispatchLocked()
	c.forgetLocked(hp)
	c.mu.Unlock()
}

// alive reports whether an idle connection can carry a request: one non-blocking peek finds no
// byte and no EOF. A replayable request skips it on a connection idle under a second, since the
// stale-connection retry covers that case.
func (c *Connector) alive(pc *conn, always bool) bool {
	if !always && time.Since(pc.lastUsed) < time.Second {
		return true
	}
	return peekIdle(pc.peek)
}

// popIdleLocked takes the key's most recently used idle connection that has not expired.
func (c *Connector) popIdleLocked(hp *hostPool) *conn {
	for len(hp.idle) > 0 {
		pc := hp.idle[len(hp.idle)-1]
		hp.idle = hp.idle[:len(hp.idle)-1]
		if c.cfg.IdleTimeout > 0 && time.Since(pc.lastUsed) >= c.cfg.IdleTimeout {
			// Expired: closing under the lock is a cheap syscall, and rare.
			hp.open--
			c.open--
			pc.closeNow()
			continue
		}
		return pc
	}
	return nil
}

// reserveLocked counts a new connection for hp if the limits allow, closing the least recently
// used idle connection of another key when only the total is full. Connections are closed under
// the lock (an idle socket closes at once) so that Limit bounds open sockets, not just slots.
func (c *Connector) reserveLocked(hp *hostPool) bool {
	if c.cfg.LimitPerHost > 0 && hp.open >= c.cfg.LimitPerHost {
		return false
	}
	if c.cfg.Limit > 0 && c.open >= c.cfg.Limit {
		evicted := c.evictLocked(hp)
		if evicted == nil {
			return false
		}
		evicted.closeNow()
	}
	hp.open++
	hp.dialing++
	c.open++
	return true
}

// reserveFreshLocked is reserveLocked for the stale-connection retry, which must not take an idle
// connection: when the key is full of idle ones, the least recently used is closed to make room.
func (c *Connector) reserveFreshLocked(hp *hostPool) bool {
	if c.reserveLocked(hp) {
		return true
	}
	if len(hp.idle) == 0 {
		return false
	}
	pc := hp.idle[0]
	hp.idle = slices.Delete(hp.idle, 0, 1)
	hp.open--
	c.open--
	pc.closeNow()
	return c.reserveLocked(hp)
}

// evictLocked removes the least recently used idle connection of a key other than keep.
func (c *Connector) evictLocked(keep *hostPool) *conn {
	var oldest *hostPool
	for _, hp := range c.hosts {
		if hp != keep && len(hp.idle) > 0 && (oldest == nil || hp.idle[0].lastUsed.Before(oldest.idle[0].lastUsed)) {
			oldest = hp
		}
	}
	if oldest == nil {
		return nil
	}
	pc := oldest.idle[0]
	oldest.idle = slices.Delete(oldest.idle, 0, 1)
	oldest.open--
	c.open--
	c.forgetLocked(oldest)
	return pc
}

// unreserve gives back a dial permit that was not used (dial failed, waiter gone).
func (c *Connector) unreserve(hp *hostPool) {
	c.mu.Lock()
	hp.open--
	hp.dialing--
	c.open--
	c.dispatchLocked()
	c.forgetLocked(hp)
	c.mu.Unlock()
}

// dialed turns a permit into a connection in use.
func (c *Connector) dialed(hp *hostPool) {
	c.mu.Lock()
	hp.dialing--
	c.mu.Unlock()
}

// release returns a connection after an exchange: to the idle list when reusable, else closed.
func (c *Connector) release(pc *conn, reusable bool) {
	// A reusable connection keeps its socket deadlines while idle: nothing reads it then (the
	// reuse check peeks with a raw non-blocking syscall), and the next exchange moves them only
	// if they do not fit its own (see conn.armRead).
	reusable = pc.end(reusable) && !c.cfg.ForceClose
	if !reusable {
		pc.close() // before its slot is handed on: Limit bounds open sockets
	}
	c.mu.Lock()
	hp := pc.hp
	pc.uses++
	switch {
	case reusable && !c.closed:
		pc.lastUsed = time.Now()
		hp.idle = append(hp.idle, pc)
		c.scheduleJanitorLocked(pc.lastUsed)
	case reusable:
		pc.closeNow()
		fallthrough
	default:
		hp.open--
		c.open--
	}
	c.dispatchLocked()
	c.forgetLocked(hp)
	c.mu.Unlock()
}

// redial replaces an idle connection that turned out dead (the server closed it, or sent stray
// bytes) with a new one under the same slot, so the request keeps its place instead of queueing
// again.
func (c *Connector) redial(ctx context.Context, dead *conn, o acquireOpts) (*conn, error) {
	hp := dead.hp
	c.mu.Lock()
	hp.dialing++ // the slot stays counted in open: it passes from the dead connection to the dial
	c.mu.Unlock()
	dead.close()
	return c.dial(ctx, hp, o)
}

// dispatchLocked hands idle connections and free slots to waiters in FIFO order: each waiter in
// turn gets an idle connection of its key, or a permit if its key and the total allow. A waiter
// whose key is saturated is skipped, so it never blocks others.
func (c *Connector) dispatchLocked() {
	c.pass++
	for i := 0; i < len(c.waiters); {
		w := c.waiters[i]
		if w.hp.blocked == c.pass {
			i++ // its key was found saturated earlier in this pass
			continue
		}
		var g grant
		if pc := c.popIdleFor(w); pc != nil {
			g = grant{pc: pc}
		} else if c.reserveLocked(w.hp) || (w.fresh && c.reserveFreshLocked(w.hp)) {
		} else {
			if c.cfg.Limit > 0 && c.open >= c.cfg.Limit && !c.hasIdleLocked() {
				break // nothing can be freed for anyone
			}
			w.hp.blocked = c.pass
			i++
			continue
		}
		c.waiters = slices.Delete(c.waiters, i, i+1)
		w.done = true
		w.hp.waiting--
		w.ch <- g
	}
}

// popIdleFor takes an idle connection for w, unless w is a stale-connection retry.
func (c *Connector) popIdleFor(w *waiter) *conn {
	if w.fresh {
		return nil
	}
	return c.popIdleLocked(w.hp)
}

func (c *Connector) hasIdleLocked() bool {
	for _, hp := range c.hosts {
		if len(hp.idle) > 0 {
			return true
		}
	}
	return false
}

// forgetLocked drops an empty host entry so the map does not grow with every host ever seen.
func (c *Connector) forgetLocked(hp *hostPool) {
	if hp.open == 0 && hp.waiting == 0 && c.hosts[hp.key] == hp {
		delete(c.hosts, hp.key)
	}
}

// scheduleJanitorLocked makes sure the one expiry timer fires when the connection idle since
// `since` expires, or earlier.
func (c *Connector) scheduleJanitorLocked(since time.Time) {
	if c.cfg.IdleTimeout <= 0 {
		return
	}
	at := since.Add(c.cfg.IdleTimeout)
	if !c.jAt.IsZero() && !c.jAt.After(at) {
		return
	}
	c.jAt = at
	if c.janitor == nil {
		c.janitor = time.AfterFunc(time.Until(at), c.expireIdle)
	} else {
		c.janitor.Reset(time.Until(at))
	}
}

// expireIdle closes idle connections past IdleTimeout and re-arms the timer for the next one.
func (c *Connector) expireIdle() {
	now := time.Now()
	c.mu.Lock()
	c.jAt = time.Time{}
	var next time.Time
	for _, hp := range c.hosts {
		keep := hp.idle[:0]
		for _, pc := range hp.idle {
			if now.Sub(pc.lastUsed) >= c.cfg.IdleTimeout {
				pc.closeNow()
				hp.open--
				c.open--
				continue
			}
			keep = append(keep, pc)
			if next.IsZero() || pc.lastUsed.Before(next) {
				next = pc.lastUsed
			}
		}
		clear(hp.idle[len(keep):])
		hp.idle = keep
		c.forgetLocked(hp)
	}
	if !next.IsZero() && !c.closed {
		c.scheduleJanitorLocked(next)
	}
	c.dispatchLocked()
	c.mu.Unlock()
}

// HostStats counts one pool key's connections.
type HostStats struct {
	Open    int // dialing + in use + idle
	Idle    int
	InUse   int
	Dialing int
	Waiters int
}

// ConnectorStats is a snapshot of a connector's pool.
type ConnectorStats struct {
	HostStats                      // totals over all hosts
	Hosts     map[string]HostStats // by "scheme://host:port"
	Dials     uint64               // connections dialed successfully, ever
	Reuses    uint64               // requests served by an idle connection, ever
	Timeouts  uint64               // pool waits that ended in a timeout, ever
}

// Stats returns a snapshot of the pool. It allocates the Hosts map.
func (c *Connector) Stats() ConnectorStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ConnectorStats{Hosts: make(map[string]HostStats, len(c.hosts))}
	for k, hp := range c.hosts {
		h := HostStats{Open: hp.open, Idle: len(hp.idle), Dialing: hp.dialing, Waiters: hp.waiting}
		h.InUse = h.Open - h.Idle - h.Dialing
		s.Hosts[k.String()] = h
		s.Open += h.Open
		s.Idle += h.Idle
		s.InUse += h.InUse
		s.Dialing += h.Dialing
		s.Waiters += h.Waiters
	}
	s.Dials, s.Reuses, s.Timeouts = c.dials.Load(), c.reuses.Load(), c.timeouts.Load()
	return s
}
