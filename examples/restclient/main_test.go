package main

import (
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDemo(t *testing.T) {
	srv := httptest.NewServer(newAPI("secret"))
	defer srv.Close()
	if err := demo(srv.URL + "/api/"); err != nil {
		t.Fatal(err)
	}
}

func TestBadToken(t *testing.T) {
	srv := httptest.NewServer(newAPI("secret"))
	defer srv.Close()
	c, err := NewClient(srv.URL+"/api/", "wrong")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.List(t.Context(), nil); err == nil || IsNotFound(err) {
		t.Fatalf("want a 401 error, got %v", err)
	}
}
