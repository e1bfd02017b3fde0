package dnscache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests run in testing/synctest bubbles: time is fake and advances only when every goroutine
// of the bubble is blocked, so TTLs and look-up delays are exact and instant.

// fakeResolver is a name table (test data) that answers after delay and records its calls.
type fakeResolver struct {
	delay time.Duration
	hosts map[string][]netip.Addr
	// fails is how many of the next look-ups fail, per host.
	fails map[string]int
	// hang makes look-ups block until their ctx is done.
	hang bool

	mu       sync.Mutex
	calls    int
	networks []string
	ctxErrs  []error // the look-up ctx's Err when each answer was given
}

var errFake = errors.New("fake resolver failure")

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	r.calls++
	r.networks = append(r.networks, network)
	r.mu.Unlock()
	if r.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ctxErrs = append(r.ctxErrs, ctx.Err())
	if r.fails[host] > 0 {
		r.fails[host]--
		return nil, fmt.Errorf("%w for %s", errFake, host)
	}
	addrs, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

func (r *fakeResolver) nCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func lookup(t *testing.T, c *Cache, host string) ([]netip.Addr, bool) {
	t.Helper()
	a, hit, err := c.Lookup(context.Background(), host)
	require.NoError(t, err, "Lookup(%q)", host)
	return a, hit
}

var example = map[string][]netip.Addr{
	"a.test": addrs("192.0.2.1"),
	"b.test": addrs("192.0.2.2", "2001:db8::2"),
}

func TestTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: 100 * time.Millisecond, hosts: example}
		c := New(r, 10*time.Second)
		start := time.Now()
		a, hit := lookup(t, c, "a.test")
		require.Equal(t, example["a.test"], a, "addrs")
		require.Equal(t, false, hit, "hit")
		require.Equal(t, 100*time.Millisecond, time.Since(start), "look-up time")
		require.Equal(t, 1, r.nCalls(), "calls")
		require.Equal(t, []string{"ip"}, r.networks, "network")

		// The entry lives 10 s after the look-up completed, not after it started.
		time.Sleep(10*time.Second - time.Nanosecond)
		a, hit = lookup(t, c, "a.test")
		require.Equal(t, true, hit, "hit just before expiry")
		require.Equal(t, example["a.test"], a, "addrs")
		require.Equal(t, 1, r.nCalls(), "calls")

		time.Sleep(time.Nanosecond)
		a, hit = lookup(t, c, "a.test")
		require.Equal(t, false, hit, "hit at expiry")
		require.Equal(t, example["a.test"], a, "addrs")
		require.Equal(t, 2, r.nCalls(), "calls after expiry")

		// Other hosts have their own entries.
		_, hit = lookup(t, c, "b.test")
		require.Equal(t, false, hit, "other host hit")
		require.Equal(t, 3, r.nCalls(), "calls")
		_, hit = lookup(t, c, "a.test")
		require.Equal(t, true, hit, "renewed entry hit")
		require.Equal(t, 3, r.nCalls(), "calls")
	})
}

func TestZeroTTLDoesNotCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: 10 * time.Millisecond, hosts: example}
		c := New(r, 0)
		for i := range 3 {
			_, hit := lookup(t, c, "a.test")
			require.Equal(t, false, hit, "hit")
			require.Equal(t, i+1, r.nCalls(), "calls")
		}
		// Concurrent look-ups still share one.
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { lookup(t, c, "a.test") })
		}
		wg.Wait()
		require.Equal(t, 4, r.nCalls(), "calls after 5 concurrent")
	})
}

func TestCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: time.Second, hosts: example}
		c := New(r, 10*time.Second)
		start := time.Now()
		type result struct {
			addrs []netip.Addr
			hit   bool
			err   error
			at    time.Duration
		}
		results := make([]result, 10)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				a, hit, err := c.Lookup(context.Background(), "b.test")
				results[i] = result{a, hit, err, time.Since(start)}
			})
		}
		synctest.Wait() // every caller is waiting on the one look-up
		require.Equal(t, 1, r.nCalls(), "calls while in flight")
		wg.Wait()
		for i, res := range results {
			if res.err != nil {
				t.Fatalf("caller %d: %v", i, res.err)
			}
			require.Equal(t, addrs("2001:db8::2", "192.0.2.2"), res.addrs, "addrs")
			require.Equal(t, false, res.hit, "hit (joined an in-flight look-up)")
			require.Equal(t, time.Second, res.at, "answer time")
		}
		require.Equal(t, 1, r.nCalls(), "calls")
		_, hit := lookup(t, c, "b.test")
		require.Equal(t, true, hit, "hit afterwards")
	})
}

func TestFailureNotCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: 100 * time.Millisecond, hosts: example, fails: map[string]int{"a.test": 1}}
		c := New(r, 10*time.Second)

		// Callers that joined the failing look-up all get its error.
		errs := make([]error, 5)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				a, hit, err := c.Lookup(context.Background(), "a.test")
				if len(a) != 0 || hit {
					err = fmt.Errorf("addrs %v hit %v with error %v", a, hit, err)
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, errFake) {
				t.Fatalf("caller %d: want the resolver's error, got %v", i, err)
			}
		}
		require.Equal(t, 1, r.nCalls(), "calls")

		// The failure is not cached: the next caller looks up again, at once.
		a, hit := lookup(t, c, "a.test")
		require.Equal(t, example["a.test"], a, "addrs")
		require.Equal(t, false, hit, "hit")
		require.Equal(t, 2, r.nCalls(), "calls")
		_, hit = lookup(t, c, "a.test")
		require.Equal(t, true, hit, "success cached")
		require.Equal(t, 2, r.nCalls(), "calls")

		// Nor is "no such host".
		for i := range 2 {
			_, _, err := c.Lookup(context.Background(), "nowhere.test")
			var de *net.DNSError
			if !errors.As(err, &de) || !de.IsNotFound {
				t.Fatalf("want *net.DNSError not found, got %v", err)
			}
			require.Equal(t, 3+i, r.nCalls(), "calls")
		}
	})
}

func TestCallerCancelDoesNotCancelLookup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: time.Second, hosts: example}
		c := New(r, 10*time.Second)
		start := time.Now()

		cause := errors.New("caller gave up")
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(100*time.Millisecond, func() { cancel(cause) })
		type result struct {
			err error
			at  time.Duration
		}
		first := make(chan result, 1)
		go func() {
			_, _, err := c.Lookup(ctx, "a.test")
			first <- result{err, time.Since(start)}
		}()
		var wg sync.WaitGroup
		var addrsB []netip.Addr
		var errB error
		var atB time.Duration
		wg.Go(func() {
			addrsB, _, errB = c.Lookup(context.Background(), "a.test")
			atB = time.Since(start)
		})

		// A third caller joins after the first gave up: the look-up is still in flight.
		time.Sleep(500 * time.Millisecond)
		select {
		case a := <-first:
			require.Equal(t, 100*time.Millisecond, a.at, "first caller returned when its ctx ended")
			if !errors.Is(a.err, cause) {
				t.Fatalf("first caller: want its ctx's cause, got %v", a.err)
			}
		default:
			t.Fatal("the first caller is still waiting although its ctx ended")
		}
		addrsC, hitC, errC := c.Lookup(context.Background(), "a.test")
		require.Equal(t, time.Second, time.Since(start), "third caller answered with the look-up")
		if errC != nil {
			t.Fatal(errC)
		}
		require.Equal(t, example["a.test"], addrsC, "third caller addrs")
		require.Equal(t, false, hitC, "third caller hit")
		wg.Wait()
		if errB != nil {
			t.Fatal(errB)
		}
		require.Equal(t, example["a.test"], addrsB, "second caller addrs")
		require.Equal(t, time.Second, atB, "second caller time")
		require.Equal(t, 1, r.nCalls(), "calls")
		require.Equal(t, []error{nil}, r.ctxErrs, "look-up ctx not cancelled")
	})
}

func TestCallerCancelAlone(t *testing.T) {
	// The only caller gives up: the look-up still completes and its answer is cached.
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{delay: time.Second, hosts: example}
		c := New(r, 10*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err := c.Lookup(ctx, "a.test")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want the caller's deadline, got %v", err)
		}
		time.Sleep(time.Second)
		_, hit := lookup(t, c, "a.test")
		require.Equal(t, true, hit, "answer of the abandoned look-up cached")
		require.Equal(t, 1, r.nCalls(), "calls")
		require.Equal(t, []error{nil}, r.ctxErrs, "look-up ctx not cancelled")
	})
}

func TestLookupBounded(t *testing.T) {
	// A look-up no caller can cancel is still bounded (30 s), and its failure is not cached.
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{hang: true}
		c := New(r, 10*time.Second)
		start := time.Now()
		_, _, err := c.Lookup(context.Background(), "a.test")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want the look-up's own deadline, got %v", err)
		}
		require.Equal(t, lookupTimeout, time.Since(start), "bounded at")
		r.hang = false
		r.hosts = example
		_, hit := lookup(t, c, "a.test")
		require.Equal(t, false, hit, "hit")
		require.Equal(t, 2, r.nCalls(), "calls")
	})
}

func TestContextValuesReachResolver(t *testing.T) {
	type key struct{}
	synctest.Test(t, func(t *testing.T) {
		var got any
		r := resolverFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
			got = ctx.Value(key{})
			return addrs("192.0.2.1"), nil
		})
		c := New(r, time.Second)
		ctx := context.WithValue(context.Background(), key{}, "trace")
		if _, _, err := c.Lookup(ctx, "a.test"); err != nil {
			t.Fatal(err)
		}
		require.Equal(t, "trace", got, "ctx value")
	})
}

type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

func TestInterleave(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"192.0.2.1"}, []string{"192.0.2.1"}},
		{[]string{"2001:db8::1"}, []string{"2001:db8::1"}},
		{[]string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}},
		{[]string{"2001:db8::1", "2001:db8::2"}, []string{"2001:db8::1", "2001:db8::2"}},
		// v6 first, alternating, each family in the resolver's order.
		{[]string{"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "2001:db8::3"},
			[]string{"2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"}},
		{[]string{"192.0.2.1", "2001:db8::1", "192.0.2.2", "192.0.2.3"},
			[]string{"2001:db8::1", "192.0.2.1", "192.0.2.2", "192.0.2.3"}},
		// A v4-mapped v6 address is v4.
		{[]string{"::ffff:192.0.2.9", "2001:db8::1"}, []string{"2001:db8::1", "192.0.2.9"}},
	} {
		got := interleave(addrs(tc.in...))
		want := addrs(tc.want...)
		if !slices.Equal(want, got) {
			t.Errorf("interleave(%v) = %v, want %v", tc.in, got, want)
		}
	}
}

func TestLookupInterleaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &fakeResolver{hosts: map[string][]netip.Addr{
			"mixed.test": addrs("192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "2001:db8::3", "::ffff:192.0.2.3"),
		}}
		c := New(r, time.Minute)
		want := addrs("2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3", "192.0.2.3")
		a, _ := lookup(t, c, "mixed.test")
		require.Equal(t, want, a, "addrs")
		a, hit := lookup(t, c, "mixed.test")
		require.Equal(t, want, a, "cached addrs")
		require.Equal(t, true, hit, "hit")
	})
}

func TestEvictsWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hosts := map[string][]netip.Addr{}
		for i := range maxHosts + 1 {
			hosts[fmt.Sprintf("h%d.test", i)] = addrs("192.0.2.1")
		}
		r := &fakeResolver{hosts: hosts}
		c := New(r, time.Hour)
		for i := range maxHosts {
			lookup(t, c, fmt.Sprintf("h%d.test", i))
			time.Sleep(time.Millisecond) // h0 expires first, then h1, ...
		}
		require.Equal(t, maxHosts, len(c.m), "entries")
		lookup(t, c, fmt.Sprintf("h%d.test", maxHosts))
		require.Equal(t, maxHosts, len(c.m), "entries after one more host")
		if _, ok := c.m["h0.test"]; ok {
			t.Fatal("the entry that expires first was not evicted")
		}
		_, hit := lookup(t, c, "h1.test")
		require.Equal(t, true, hit, "h1 still cached")
		_, hit = lookup(t, c, fmt.Sprintf("h%d.test", maxHosts))
		require.Equal(t, true, hit, "newest cached")
		require.Equal(t, maxHosts+1, r.nCalls(), "calls")
	})
}
