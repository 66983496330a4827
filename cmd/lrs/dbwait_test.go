package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store/pgtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proxy forwards connections on addr to target, from when it is called.
func proxy(t *testing.T, addr, target string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
}

func httpGet(url string) (int, string) {
	res, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeWaitsForDatabase: started before PostgreSQL is reachable, serve
// answers /healthz, says in /readyz why it is not ready, and serves once the
// database appears.
func TestServeWaitsForDatabase(t *testing.T) {
	real, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	dbAddr, httpAddr := freeAddr(t), freeAddr(t)
	late := *real
	late.Host = dbAddr
	getenv := env(map[string]string{"LRS_DATABASE_URL": late.String(), "LRS_DATA_DIR": t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", httpAddr, "--db-wait", "30s", "--migrate"}, getenv, io.Discard, logs)
	}()
	base := "http://" + httpAddr

	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body := httpGet(base + "/readyz")
		if status == http.StatusServiceUnavailable && strings.Contains(body, "waiting for the database") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz while waiting: %d %s\n%s", status, body, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, body := httpGet(base + "/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz while waiting: %d %s", status, body)
	}
	if status, _ := httpGet(base + "/api/v1/events"); status != http.StatusServiceUnavailable {
		t.Errorf("API while waiting: %d, want 503", status)
	}

	proxy(t, dbAddr, real.Host) // the database appears
	deadline = time.Now().Add(15 * time.Second)
	for {
		status, body := httpGet(base + "/readyz")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the database appeared: %d %s\n%s", status, body, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `"attempt":`) {
		t.Errorf("no attempt logged:\n%s", logs.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
