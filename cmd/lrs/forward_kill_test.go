package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestForwardKill9: `kill -9` of the real `lrs serve` delivering a
// forwarder while it delivers, and a restart: the receiver (a second real
// lrs, which dedupes by id) then holds every event once, in stored order;
// the sender counts at most one batch twice. Both stores as the sender.
func TestForwardKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := filepath.Join(t.TempDir(), "lrs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		recvDB := storetest.URL(t, "sqlite")
		recvToken := newKey(t, recvDB, "warehouse", "write,read")
		recv := startServer(t, env(map[string]string{"LRS_DATABASE_URL": recvDB}))

		db := storetest.URL(t, kind)
		token := newKey(t, db, "uni", "write,read")
		admin := newKey(t, db, "uni", "admin")
		environ := append(os.Environ(), "LRS_DATABASE_URL="+db, "LRS_LOG_LEVEL=warn", "LRS_ADMIN_ADDR=127.0.0.1:0", "LRS_FORWARD_LEASE=2s")
		addr := freeAddr(t)
		serve := func() *exec.Cmd {
			cmd := exec.Command(bin, "serve", "--addr", addr)
			cmd.Env = environ
			cmd.Stderr = io.Discard
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitReady(t, "http://"+addr)
			return cmd
		}
		srv := serve()
		base := "http://" + addr
		var sent []string
		for range 40 {
			sent = append(sent, postFwd(t, base, token, "Viewed", 100)...)
		}
		id := addForwarder(t, db, "--tenant", "uni", "--url", recv+"/caliper", "--kind", "caliper", "--token", recvToken,
			"--from", "beginning", "--batch", "50", "--max-wait", "50ms")
		waitFor(t, 60*time.Second, "delivery under way", func() bool { return len(eventIDs(t, recv, recvToken)) >= 600 })
		if err := srv.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = srv.Wait()
		before := len(eventIDs(t, recv, recvToken))
		if before >= len(sent) {
			t.Fatalf("everything was delivered before the kill: nothing tested")
		}
		srv = serve()
		t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
		waitFor(t, 90*time.Second, "receiver holds every event after the restart", func() bool { return len(eventIDs(t, recv, recvToken)) >= len(sent) })
		if got := eventIDs(t, recv, recvToken); !slices.Equal(got, sent) {
			t.Fatalf("receiver holds %d events, want the %d sent, once each, in stored order", len(got), len(sent))
		}
		var v fwdView
		waitFor(t, 10*time.Second, "status after the restart", func() bool {
			apiJSON(t, "GET", base+"/api/v1/forwarders/"+id, admin, "", &v)
			return v.Status.EventsBehind == 0 && v.Status.Delivered >= int64(len(sent))
		}, &v)
		if v.Status.Delivered > int64(len(sent))+50 {
			t.Fatalf("delivered %d for %d events: more than the last batch again", v.Status.Delivered, len(sent))
		}
		t.Logf("killed with %d of %d delivered; after the restart %d counted delivered", before, len(sent), v.Status.Delivered)
	})
}
