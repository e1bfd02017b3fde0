package aiohttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkGet measures a small keep-alive GET against a loopback server, the body read into a
// caller's buffer and the response closed, beside net/http's client in the same run: one
// request at a time, and from GOMAXPROCS goroutines at once (-cpu raises that). The server runs
// in the same process, so its cost is in every figure.
func BenchmarkGet(b *testing.B) {
	body := []byte(`{"id":42,"name":"aiohttp","ok":true}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	ctx := context.Background()

	b.Run("aiohttp", func(b *testing.B) {
		s, err := NewSession(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		url := srv.URL + "/item"
		buf := make([]byte, 512)
		b.ReportAllocs()
		for b.Loop() {
			resp, err := s.Get(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(resp, buf[:len(body)]); err != nil {
				b.Fatal(err)
			}
			resp.Close()
		}
	})
	b.Run("nethttp", func(b *testing.B) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		url := srv.URL + "/item"
		buf := make([]byte, 512)
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, buf[:len(body)]); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
	b.Run("aiohttp-parallel", func(b *testing.B) {
		s, err := NewSession(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		url := srv.URL + "/item"
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 512)
			for pb.Next() {
				resp, err := s.Get(ctx, url)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(resp, buf[:len(body)]); err != nil {
					b.Error(err)
				}
				resp.Close()
			}
		})
	})
	b.Run("nethttp-parallel", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 100}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		url := srv.URL + "/item"
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 512)
			for pb.Next() {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				resp, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(resp.Body, buf[:len(body)]); err != nil {
					b.Error(err)
				}
				resp.Body.Close()
			}
		})
	})
}
