// Package dnscache caches host look-ups for a time-to-live and coalesces concurrent look-ups of
// the same host into one.
package dnscache

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// maxHosts bounds the cache, as aiohttp's dns_cache_max_size does; the oldest entry is dropped.
const maxHosts = 1000

// lookupTimeout bounds one shared look-up, which no single caller can cancel.
const lookupTimeout = 30 * time.Second

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Cache is safe for concurrent use. The zero value is not usable: call [New].
type Cache struct {
	r   Resolver
	ttl time.Duration // zero: entries are dropped when their look-up completes

	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	done    chan struct{} // closed when the look-up completes
	addrs   []netip.Addr
	err     error
	expires time.Time
}

// New returns a cache over r whose entries live ttl after their look-up completes.
func New(r Resolver, ttl time.Duration) *Cache {
	return &Cache{r: r, ttl: ttl, m: make(map[string]*entry)}
}

// Lookup returns host's addresses, interleaved by family (IPv6 first when present, as RFC 8305
// orders them). hit reports a cached answer. A look-up already in flight is joined; it runs on
// its own goroutine, bounded by 30 s, and a caller whose ctx ends stops waiting without
// cancelling it for the others. Failures are not cached.
func (c *Cache) Lookup(ctx context.Context, host string) (addrs []netip.Addr, hit bool, err error) {
	c.mu.Lock()
	e := c.m[host]
	if e != nil {
		select {
		case <-e.done:
			if e.err == nil && time.Now().Before(e.expires) {
				c.mu.Unlock()
				return e.addrs, true, nil
			}
			delete(c.m, host)
			e = nil
		default:
		}
	}
	if e == nil {
		e = &entry{done: make(chan struct{})}
		c.evictLocked()
		c.m[host] = e
		go c.resolve(context.WithoutCancel(ctx), host, e)
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.addrs, false, e.err
	case <-ctx.Done():
		return nil, false, context.Cause(ctx)
	}
}

func (c *Cache) resolve(ctx context.Context, host string, e *entry) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	addrs, err := c.r.LookupNetIP(ctx, "ip", host)
	cancel()
	c.mu.Lock()
	e.addrs, e.err = interleave(addrs), err
	e.expires = time.Now().Add(c.ttl)
	if err != nil || c.ttl <= 0 {
		if c.m[host] == e {
			delete(c.m, host)
		}
	}
	close(e.done)
	c.mu.Unlock()
}

// evictLocked drops the entry that expires first when the cache is full.
func (c *Cache) evictLocked() {
	if len(c.m) < maxHosts {
		return
	}
	var oldest string
	var at time.Time
	for h, e := range c.m {
		select {
		case <-e.done:
			if oldest == "" || e.expires.Before(at) {
				oldest, at = h, e.expires
			}
		default:
		}
	}
	if oldest != "" {
		delete(c.m, oldest)
	}
}

// interleave orders addresses v6, v4, v6, v4, ... keeping the resolver's order within a family.
func interleave(addrs []netip.Addr) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(v6) || i < len(v4); i++ {
		if i < len(v6) {
			out = append(out, v6[i])
		}
		if i < len(v4) {
			out = append(out, v4[i])
		}
	}
	return out
}
