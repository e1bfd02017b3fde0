package main

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunEmbedded(t *testing.T) {
	servers, err := startServers(2)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(servers)
	var urls []string
	for i := range 200 {
		urls = append(urls, "http://"+servers[i%2].Addr+"/item/x")
	}
	if err := run(urls, 10, 3, 10*time.Second, false); err != nil {
		t.Fatal(err)
	}
}
