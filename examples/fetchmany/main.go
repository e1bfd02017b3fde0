// Command fetchmany fetches many URLs concurrently through one aiohttp session, one goroutine per
// URL, and lets the connector's limits do the queueing. It prints progress and a summary.
//
//	go run ./examples/fetchmany                 # 2000 URLs against an embedded local server
//	go run ./examples/fetchmany -n 500 -per-host 4
//	go run ./examples/fetchmany https://example.com/ https://example.org/
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiohttp-go/aiohttp"
)

func main() {
	n := flag.Int("n", 2000, "number of URLs to fetch from the embedded server (when no URL is given)")
	hosts := flag.Int("hosts", 3, "number of embedded servers (each its own pool key)")
	limit := flag.Int("limit", 100, "connections open at once, all hosts")
	perHost := flag.Int("per-host", 8, "connections open at once per host")
	timeout := flag.Duration("timeout", 30*time.Second, "total timeout per request")
	quiet := flag.Bool("q", false, "no progress line")
	flag.Parse()

	urls := flag.Args()
	if len(urls) == 0 {
		servers, err := startServers(*hosts)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fetchmany:", err)
			os.Exit(1)
		}
		defer closeAll(servers)
		for i := range *n {
			urls = append(urls, "http://"+servers[i%len(servers)].Addr+"/item/"+strconv.Itoa(i))
		}
	}
	if err := run(urls, *limit, *perHost, *timeout, !*quiet); err != nil {
		fmt.Fprintln(os.Stderr, "fetchmany:", err)
		os.Exit(1)
	}
}

func run(urls []string, limit, perHost int, timeout time.Duration, progress bool) error {
	s, err := aiohttp.NewSession(aiohttp.Config{
		Timeout:         aiohttp.Timeout{Total: timeout, SockRead: 10 * time.Second},
		ConnectorConfig: aiohttp.ConnectorConfig{Limit: limit, LimitPerHost: perHost},
	})
	if err != nil {
		return err
	}
	defer s.Close()

	var done, failed, bytes atomic.Int64
	firstErr := make(chan error, 1)
	stop := make(chan struct{})
	var ticker sync.WaitGroup
	if progress {
		ticker.Go(func() { report(s, &done, &failed, len(urls), stop) })
	}

	start := time.Now()
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Go(func() {
			n, err := fetch(ctx, s, u)
			bytes.Add(n)
			if err != nil {
				failed.Add(1)
				select {
				case firstErr <- err:
				default:
				}
			}
			done.Add(1)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	ticker.Wait()

	st := s.Connector().Stats()
	fmt.Printf("fetched %d URLs in %v: %.0f requests/s, %d errors, %d bytes\n",
		len(urls), elapsed.Round(time.Millisecond), float64(len(urls))/elapsed.Seconds(), failed.Load(), bytes.Load())
	fmt.Printf("connections opened %d, reused %d times; limit %d, per host %d\n", st.Dials, st.Reuses, limit, perHost)
	select {
	case err := <-firstErr:
		return fmt.Errorf("%d of %d requests failed; the first: %w", failed.Load(), len(urls), err)
	default:
	}
	return nil
}

// fetch gets one URL and reads its body to the end, which returns the connection to the pool.
func fetch(ctx context.Context, s *aiohttp.Session, url string) (int64, error) {
	resp, err := s.Get(ctx, url, aiohttp.RaiseForStatus(true))
	if err != nil {
		return 0, err
	}
	defer resp.Close()
	return io.Copy(io.Discard, resp)
}

func report(s *aiohttp.Session, done, failed *atomic.Int64, total int, stop chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			fmt.Fprintf(os.Stderr, "\r%60s\r", "")
			return
		case <-t.C:
			st := s.Connector().Stats()
			fmt.Fprintf(os.Stderr, "\rdone %d/%d  errors %d  open %d  in use %d  waiting %d   ",
				done.Load(), total, failed.Load(), st.Open, st.InUse, st.Waiters)
		}
	}
}

// startServers starts n local HTTP servers that answer after a short random delay.
func startServers(n int) ([]*http.Server, error) {
	var servers []*http.Server
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll(servers)
			return nil, err
		}
		srv := &http.Server{Addr: ln.Addr().String(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
			fmt.Fprintf(w, "item %s\n", r.URL.Path)
		})}
		go srv.Serve(ln)
		servers = append(servers, srv)
	}
	return servers, nil
}

func closeAll(servers []*http.Server) {
	for _, s := range servers {
		s.Close()
	}
}
