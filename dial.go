package aiohttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"
)

// dial makes a new connection for hp under a permit already counted by reserveLocked, and gives
// the permit back if it fails. The connect phase (Connect, else Total) bounds DNS and every
// attempt; SockConnect bounds each attempt.
func (c *Connector) dial(ctx context.Context, hp *hostPool, o acquireOpts) (*conn, error) {
	pc, err := c.dialConn(ctx, hp.key, o)
	if err != nil {
		c.unreserve(hp)
		return nil, err
	}
	c.dials.Add(1)
	pc.hp = hp
	c.dialed(hp)
	return pc, nil
}

func (c *Connector) dialConn(ctx context.Context, key poolKey, o acquireOpts) (*conn, error) {
	parent := ctx
	deadline, phase := o.dl.connect()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	host, port, _ := net.SplitHostPort(key.addr)
	addrs, err := c.resolve(ctx, host)
	if err != nil {
		return nil, c.dialError(parent, ctx, o.dl, phase, err)
	}
	raw, err := c.race(ctx, addrs, port, key, host, o)
	if err != nil {
		return nil, c.dialError(parent, ctx, o.dl, phase, err)
	}
	pc := &conn{raw: raw, peek: raw}
	if tc, ok := raw.(*tls.Conn); ok {
		pc.peek = tc.NetConn()
	}
	return pc, nil
}

// dialError classifies a failure of the connect phase: the caller's context first, then our
// own deadline (ctx is parent bounded by the phase deadline), else the error as it is. A
// deadline counts as passed by the clock, since the dialer's own timer can fire before the
// context's.
func (c *Connector) dialError(parent, ctx context.Context, dl *deadlines, phase string, err error) error {
	switch {
	case expired(parent):
		if cause := context.Cause(parent); cause != nil {
			return cause
		}
		return context.DeadlineExceeded
	case expired(ctx):
		// Our phase deadline ended the dial, even if an attempt's own SockConnect fired first.
		c.timeouts.Add(1)
		return dl.timeoutError(phase)
	}
	return err
}

// expired reports whether ctx is done or its deadline has passed.
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// resolve returns the addresses for host; an IP literal needs no look-up.
func (c *Connector) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, _, err := c.dns.Lookup(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		if expired(ctx) {
			return nil, context.DeadlineExceeded
		}
		return nil, &ConnectorError{Op: "dns", Addr: host, Err: err}
	}
	return addrs, nil
}

type attempt struct {
	conn net.Conn
	err  error
}

// race dials addrs in the happy-eyeballs way (RFC 8305): the next attempt starts after
// HappyEyeballsDelay or as soon as the previous one fails; the first success wins and the
// others are cancelled and joined before race returns.
func (c *Connector) race(ctx context.Context, addrs []netip.Addr, port string, key poolKey, host string, o acquireOpts) (net.Conn, error) {
	if len(addrs) == 1 {
		return c.attempt(ctx, addrs[0], port, key, host, o)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan attempt, len(addrs))
	start := func(a netip.Addr) {
		go func() {
			conn, err := c.attempt(ctx, a, port, key, host, o)
			results <- attempt{conn, err}
		}()
	}
	timer := time.NewTimer(c.cfg.HappyEyeballsDelay)
	defer timer.Stop()
	next, pending := 0, 0
	var firstErr error
	for {
		if next < len(addrs) && pending == 0 {
			start(addrs[next])
			next, pending = next+1, pending+1
			timer.Reset(c.cfg.HappyEyeballsDelay)
		}
		if pending == 0 {
			return nil, firstErr
		}
		select {
		case r := <-results:
			pending--
			if r.err == nil {
				cancel()
				for ; pending > 0; pending-- {
					if late := <-results; late.conn != nil {
						_ = late.conn.Close()
					}
				}
				return r.conn, nil
			}
			if firstErr == nil {
				firstErr = r.err
			}
			if next < len(addrs) && pending > 0 {
				// A failure starts the next attempt at once (RFC 8305), not after the delay.
				start(addrs[next])
				next, pending = next+1, pending+1
				timer.Reset(c.cfg.HappyEyeballsDelay)
			}
		case <-timer.C:
			if next < len(addrs) {
				start(addrs[next])
				next, pending = next+1, pending+1
				timer.Reset(c.cfg.HappyEyeballsDelay)
			}
		}
	}
}

// attempt connects to one address and, for https, completes the TLS handshake, all within
// SockConnect.
func (c *Connector) attempt(ctx context.Context, a netip.Addr, port string, key poolKey, host string, o acquireOpts) (net.Conn, error) {
	addr := net.JoinHostPort(a.String(), port)
	var deadline time.Time
	sockPhase := false
	if sc := o.dl.t.SockConnect; sc > 0 {
		deadline = time.Now().Add(sc)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		} else {
			sockPhase = true
		}
	}
	raw, err := c.dialTCP(ctx, addr, deadline)
	if err != nil {
		if sockPhase && !expired(ctx) && isTimeout(err) {
			return nil, o.dl.timeoutError(PhaseSockConnect)
		}
		if expired(ctx) {
			return nil, context.DeadlineExceeded
		}
		return nil, &ConnectorError{Op: "dial", Addr: addr, Err: unwrapOpError(err)}
	}
	if key.scheme != "https" {
		return raw, nil
	}
	cfg := o.tlsCfg
	if cfg == nil {
		cfg = c.tlsConfig(host)
	}
	tc := tls.Client(raw, cfg)
	if !deadline.IsZero() {
		_ = raw.SetDeadline(deadline)
	}
	err = tc.HandshakeContext(ctx)
	if err != nil {
		_ = raw.Close()
		switch {
		case sockPhase && !expired(ctx) && isTimeout(err):
			return nil, o.dl.timeoutError(PhaseSockConnect)
		case expired(ctx):
			return nil, context.DeadlineExceeded
		}
		return nil, tlsError(addr, err)
	}
	_ = raw.SetDeadline(time.Time{})
	return tc, nil
}

// dialTCP opens the transport connection to addr by deadline, with ConnectorConfig.DialContext
// when set.
func (c *Connector) dialTCP(ctx context.Context, addr string, deadline time.Time) (net.Conn, error) {
	if c.cfg.DialContext == nil {
		d := net.Dialer{Deadline: deadline, KeepAlive: 15 * time.Second}
		return d.DialContext(ctx, "tcp", addr)
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return c.cfg.DialContext(ctx, "tcp", addr)
}

// tlsConfig returns the TLS configuration for host: the connector's, cloned, with ServerName set
// and at least TLS 1.2.
func (c *Connector) tlsConfig(host string) *tls.Config {
	var cfg *tls.Config
	if c.cfg.TLSConfig != nil {
		cfg = c.cfg.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

func tlsError(addr string, err error) error {
	var (
		verr *tls.CertificateVerificationError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	if errors.As(err, &verr) || errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr) {
		return &CertificateError{Addr: addr, Err: err}
	}
	return &SSLError{Addr: addr, Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// unwrapOpError drops net.OpError's repetition of the address, which ConnectorError already
// names.
func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
