package aiohttp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSmoke(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s %s", r.Method, r.URL.Path)
	}))
	defer srv.Close()
	s, err := NewSession(Config{BaseURL: srv.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 3; i++ {
		resp, err := s.Get(context.Background(), "x")
		if err != nil {
			t.Fatal(err)
		}
		txt, err := resp.Text()
		if err != nil {
			t.Fatal(err)
		}
		resp.Close()
		if txt != "hello GET /api/x" {
			t.Fatal(txt)
		}
	}
	t.Logf("%+v", s.Connector().Stats())
}
