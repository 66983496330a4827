package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// playLines are n tracking-log lines that each map to one event.
func playLines(n int, seed uint64) [][]byte {
	g := synth.New(synth.Population{Actors: 1000, Courses: 5, Objects: 500,
		Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Span: 90 * 24 * time.Hour}, seed)
	out := make([][]byte, n)
	for i := range out {
		out[i] = append(g.EdxDocumentedEvent("play_video"), '\n')
	}
	return out
}

func appendTo(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	for _, l := range lines {
		if _, err := fh.Write(l); err != nil {
			t.Fatal(err)
		}
	}
}

// storedEvents counts the events in the store at url.
func storedEvents(t *testing.T, url string) int64 {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.TableCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.Events
}

func waitEvents(t *testing.T, url string, want int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for storedEvents(t, url) < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := storedEvents(t, url); got != want {
		t.Fatalf("%d events stored, want %d", got, want)
	}
}

// TestFollowKill9: `kill -9` of a real `lrs import --follow` in the middle
// of a log, and a restart, store every line once: the checkpoint in the
// store comes after each stored batch, and the batch stored but not yet
// checkpointed is stored again as duplicates (deterministic ids). SIGTERM
// then stops it cleanly (exit 0) with its summary. Both stores.
func TestFollowKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real lrs")
	}
	bin := filepath.Join(t.TempDir(), "lrs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		dbURL := "sqlite:" + filepath.Join(t.TempDir(), "lrs.db")
		if kind == "postgres" {
			dbURL = storetest.URL(t, kind)
		}
		environ := append(os.Environ(), "LRS_DATABASE_URL="+dbURL, "LRS_LMS_URL="+testLMS, "LRS_ACTOR_SECRET=s", "LRS_LOG_FORMAT=text")
		if out, err := exec.Command(bin, "migrate", "up", "--database-url", dbURL).CombinedOutput(); err != nil {
			t.Fatalf("migrate: %v\n%s", err, out)
		}
		log := filepath.Join(t.TempDir(), "tracking.log")
		lines := playLines(3000, 3)
		follow := func() (*exec.Cmd, *bytes.Buffer) {
			var out bytes.Buffer
			cmd := exec.Command(bin, "import", "--follow", "--batch", "50", log)
			cmd.Env, cmd.Stdout, cmd.Stderr = environ, &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			return cmd, &out
		}
		appendTo(t, log, lines[:1000])
		cmd, _ := follow()
		waitEvents(t, dbURL, 1000, 30*time.Second)
		for i := 1000; i < 2000; i += 100 {
			appendTo(t, log, lines[i:i+100])
		}
		// Kill it in the middle of the appended lines, once it has stored some.
		for deadline := time.Now().Add(20 * time.Second); storedEvents(t, dbURL) <= 1000 && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("killed with %d of 2000 events stored", storedEvents(t, dbURL))

		cmd, out := follow()
		appendTo(t, log, lines[2000:])
		waitEvents(t, dbURL, 3000, 30*time.Second)
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, out)
		}
		if !bytes.Contains(out.Bytes(), []byte("lines stored")) {
			t.Errorf("no summary after SIGTERM:\n%s", out)
		}
		if got := storedEvents(t, dbURL); got != 3000 {
			t.Errorf("%d events stored, want 3000", got)
		}
	})
}
