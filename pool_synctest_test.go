package aiohttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Pool, janitor and timeout logic on deterministic time: the connector dials net.Pipe through
// ConnectorConfig.DialContext, and a small HTTP/1.1 server answers on the other end, all inside
// a synctest bubble, so time.Sleep and socket deadlines follow the bubble's clock.

// pipeServer answers each request after the delay its path asks for ("/sleep/2s"), with body
// "ok" or, for "/hold", a head and then nothing until the connection closes.
func pipeServer(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		switch {
		case req.URL.Path == "/stall":
			io.Copy(io.Discard, br) // never answers; returns when the client closes
			return
		case len(req.URL.Path) > 7 && req.URL.Path[:7] == "/sleep/":
			d, _ := time.ParseDuration(req.URL.Path[7:])
			time.Sleep(d)
		}
		body := "ok"
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body); err != nil {
			return
		}
	}
}

// pipeSession returns a session whose connector dials in-memory pipes served by pipeServer.
func pipeSession(t *testing.T, cfg ConnectorConfig, tmo Timeout) *Session {
	t.Helper()
	cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		client, server := net.Pipe()
		go pipeServer(server)
		return client, nil
	}
	s, err := NewSession(Config{ConnectorConfig: cfg, Timeout: tmo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func getText(ctx context.Context, s *Session, url string) error {
	resp, err := s.Get(ctx, url)
	if err != nil {
		return err
	}
	_, err = resp.Bytes()
	resp.Close()
	return err
}

func TestSyncIdleExpiryExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := pipeSession(t, ConnectorConfig{IdleTimeout: 15 * time.Second}, Timeout{})
		if err := getText(t.Context(), s, "http://10.0.0.1/"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(15*time.Second - time.Millisecond)
		synctest.Wait()
		if st := s.Connector().Stats(); st.Idle != 1 {
			t.Fatalf("before IdleTimeout: %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if st := s.Connector().Stats(); st.Open != 0 {
			t.Fatalf("after IdleTimeout the janitor must have closed it: %+v", st)
		}
		// A second idle connection made later expires on its own schedule (the timer re-arms).
		if err := getText(t.Context(), s, "http://10.0.0.1/"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(16 * time.Second)
		synctest.Wait()
		if st := s.Connector().Stats(); st.Open != 0 || st.Dials != 2 {
			t.Fatalf("second connection: %+v", st)
		}
	})
}

func TestSyncWaitersServedFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := pipeSession(t, ConnectorConfig{Limit: 1}, Timeout{})
		ctx := t.Context()
		hold, err := s.Get(ctx, "http://10.0.0.1/") // holds the only slot: body unread
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for i := range 5 {
			// Different hosts: one FIFO across keys.
			url := "http://10.0.0." + strconv.Itoa(2+i%2) + "/sleep/1s"
			wg.Go(func() {
				if err := getText(ctx, s, url); err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
			})
			time.Sleep(time.Millisecond) // queue in a known order
			synctest.Wait()
		}
		if st := s.Connector().Stats(); st.Waiters != 5 {
			t.Fatalf("want 5 waiters, got %+v", st)
		}
		hold.Close()
		wg.Wait()
		for i, got := range order {
			if got != i {
				t.Fatalf("served out of order: %v", order)
			}
		}
	})
}

// A waiter cancelled at the very instant a slot frees must not lose the slot.
func TestSyncCancelRacesGrant(t *testing.T) {
	for _, offset := range []time.Duration{-time.Nanosecond, 0, time.Nanosecond} {
		synctest.Test(t, func(t *testing.T) {
			s := pipeSession(t, ConnectorConfig{Limit: 1}, Timeout{})
			hold, err := s.Get(t.Context(), "http://10.0.0.1/")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(time.Second, cancel)
			time.AfterFunc(time.Second+offset, func() { hold.Close() })
			err = getText(ctx, s, "http://10.0.0.2/")
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("offset %v: %v", offset, err)
			}
			time.Sleep(time.Millisecond) // past both instants
			synctest.Wait()
			st := s.Connector().Stats()
			if st.Waiters != 0 || st.InUse != 0 || st.Open > 1 {
				t.Fatalf("offset %v: pool state after the race: %+v", offset, st)
			}
			if err := getText(t.Context(), s, "http://10.0.0.3/"); err != nil {
				t.Fatalf("offset %v: slot lost: %v", offset, err)
			}
		})
	}
}

func TestSyncTimeoutsFireOnTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tmo    Timeout
		phase  string
		at     time.Duration // the earliest it may fire
		within time.Duration // and how late
	}{
		{"sock_read", Timeout{SockRead: 10 * time.Second}, PhaseSockRead, 10 * time.Second, 625 * time.Millisecond},
		{"total", Timeout{Total: 3 * time.Second}, PhaseTotal, 3 * time.Second, 3 * time.Second / 16},
		{"total before sock_read", Timeout{Total: 3 * time.Second, SockRead: 10 * time.Second}, PhaseTotal, 3 * time.Second, 3 * time.Second / 16},
		{"total of a minute", Timeout{Total: time.Minute}, PhaseTotal, time.Minute, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := pipeSession(t, ConnectorConfig{}, tc.tmo)
				start := time.Now()
				_, err := s.Get(t.Context(), "http://10.0.0.1/stall")
				took := time.Since(start)
				var te *TimeoutError
				if !errors.As(err, &te) || te.Phase != tc.phase {
					t.Fatalf("want %s timeout, got %v", tc.phase, err)
				}
				if took < tc.at || took > tc.at+tc.within {
					t.Fatalf("fired after %v, want %v (+%v)", took, tc.at, tc.within)
				}
			})
		})
	}
}

// SockRead is re-armed on every read: a body that dribbles one byte every 9 s with SockRead
// 10 s never times out, however long it takes in total.
func TestSyncSockReadRearmed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewSession(Config{Timeout: Timeout{SockRead: 10 * time.Second, Total: NoTimeout},
			ConnectorConfig: ConnectorConfig{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				client, server := net.Pipe()
				go func() {
					defer server.Close()
					if _, err := http.ReadRequest(bufio.NewReader(server)); err != nil {
						return
					}
					io.WriteString(server, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n")
					for range 20 {
						time.Sleep(9 * time.Second)
						if _, err := server.Write([]byte("x")); err != nil {
							return
						}
					}
				}()
				return client, nil
			}}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		resp, err := s.Get(t.Context(), "http://10.0.0.1/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		b, err := resp.Bytes()
		if err != nil || len(b) != 20 {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
	})
}
