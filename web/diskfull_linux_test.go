package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
)

// TestDiskFull fills the file system under an embedded store (a 16 MiB
// tmpfs): envelopes get 503 with Retry-After and /readyz turns 503; once
// space returns, /readyz is 200 again and writes resume. Every acknowledged
// event is stored.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=16m"); err != nil {
		t.Skipf("full-disk test skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(dir, "lrs.db")
	if err := store.MigrateUp(ctx, url); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	b := serve(t, "sqlite", db, db)

	var acked []string
	post := func() *http.Response {
		id := uuid.NewString()
		pad := `{"pad":"` + strings.Repeat("x", 32<<10) + `"}`
		res := b.post(t, b.token, "application/json", envelope(event(id, "extensions", pad)))
		if res.StatusCode == http.StatusOK {
			acked = append(acked, id)
		}
		return res
	}
	if res := post(); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", res.StatusCode)
	}
	if res := b.ready(t); res.StatusCode != http.StatusOK {
		t.Fatalf("/readyz before: %d", res.StatusCode)
	}

	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	var full *http.Response
	for i := 0; i < 200 && full == nil; i++ {
		if res := post(); res.StatusCode != http.StatusOK {
			full = res
		}
	}
	if full == nil {
		t.Fatal("200 envelopes of 32 KiB fitted on a full disk")
	}
	checkProblem(t, full, http.StatusServiceUnavailable, "", "nothing was stored")
	if full.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if res := b.ready(t); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d on a full disk", res.StatusCode)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for b.ready(t).StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 503 20 s after space returned")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res := post(); res.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(res.Body)
		t.Fatalf("after space returned: %d %s", res.StatusCode, raw)
	}
	for _, id := range acked {
		if _, err := db.EventByID(ctx, b.tenant, uuid.MustParse(id)); err != nil {
			t.Errorf("acknowledged event %s: %v", id, err)
		}
	}
	t.Logf("%d envelopes acknowledged, disk full after %d", len(acked), len(acked)-1)
}

// fillDisk writes path until the file system has no space left.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}
