package follow

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store/storetest"
)

// recorder is a Sender that counts every line it is given.
type recorder struct {
	mu    sync.Mutex
	lines map[string]int
	total int
}

func (r *recorder) Send(_ context.Context, _ string, _ int64, lines []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(lines))
	for sc.Scan() {
		r.lines[sc.Text()]++
		r.total++
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// start runs a follower of paths over db until the returned stop is
// called (as SIGTERM does); it waits for the follower to return.
func start(t *testing.T, db Checkpoints, rec *recorder, paths ...string) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := New(Config{Paths: paths, Sink: "tenant:test", Interval: 5 * time.Millisecond, MaxBatch: 4 << 10}, db, rec)
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
}

func appendLines(t *testing.T, path, tag string, from, to int) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	for i := from; i < to; i++ {
		fmt.Fprintf(fh, "{\"log\":%q,\"n\":%d}\n", tag, i)
	}
}

func waitCount(t *testing.T, rec *recorder, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rec.count() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // anything sent twice would show now
	if got := rec.count(); got != want {
		t.Fatalf("%d lines sent, want %d", got, want)
	}
}

// onceEach checks every line of tags' ranges was sent exactly once.
func onceEach(t *testing.T, rec *recorder, want map[string][2]int) {
	t.Helper()
	n := 0
	for tag, r := range want {
		for i := r[0]; i < r[1]; i++ {
			line := fmt.Sprintf("{\"log\":%q,\"n\":%d}", tag, i)
			if c := rec.lines[line]; c != 1 {
				t.Errorf("%s sent %d times", line, c)
			}
			n++
		}
	}
	if rec.total != n {
		t.Errorf("%d lines sent, want %d", rec.total, n)
	}
}

func gzipFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(to+".tmp", z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Rename(to+".tmp", to) // logrotate's compress: the .gz appears whole, then the plain file goes
	os.Remove(from)
}

// TestFollowRenameRotation: the log is renamed while lines are still
// written to it (the LMS holds it open), a new log starts under the name,
// then the renamed one is compressed and removed: every line once.
func TestFollowRenameRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		dir := t.TempDir()
		log := filepath.Join(dir, "tracking.log")
		rec := &recorder{lines: map[string]int{}}
		stop := start(t, db, rec, log)
		defer stop()
		appendLines(t, log, "a", 0, 100)
		waitCount(t, rec, 100)
		appendLines(t, log, "a", 100, 150)
		os.Rename(log, log+".1")
		appendLines(t, log, "b", 0, 100)
		appendLines(t, log+".1", "a", 150, 170) // written through the old descriptor
		gzipFile(t, log+".1", log+".1.gz")
		appendLines(t, log, "b", 100, 120)
		waitCount(t, rec, 290)
		onceEach(t, rec, map[string][2]int{"a": {0, 170}, "b": {0, 120}})
	})
}

// TestFollowCopyTruncate: logrotate's copytruncate copies the log, then
// empties it; lines the follower had not read are in the copy.
func TestFollowCopyTruncate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		dir := t.TempDir()
		log := filepath.Join(dir, "tracking.log")
		rec := &recorder{lines: map[string]int{}}
		stop := start(t, db, rec, log)
		defer stop()
		appendLines(t, log, "a", 0, 100)
		waitCount(t, rec, 100)
		appendLines(t, log, "a", 100, 130)
		b, _ := os.ReadFile(log)
		os.WriteFile(log+".1", b, 0o644)
		os.Truncate(log, 0)
		appendLines(t, log, "b", 0, 40)
		waitCount(t, rec, 170)
		onceEach(t, rec, map[string][2]int{"a": {0, 130}, "b": {0, 40}})
	})
}

// TestFollowRestart: a follower stopped (SIGTERM) and started again
// resumes from its checkpoints in the store; a directory is followed
// whole, a .gz file appearing in it read once.
func TestFollowRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		dir := t.TempDir()
		log := filepath.Join(dir, "tracking.log")
		rec := &recorder{lines: map[string]int{}}
		stop := start(t, db, rec, dir)
		appendLines(t, log, "a", 0, 300)
		waitCount(t, rec, 300)
		stop()
		appendLines(t, log, "a", 300, 350) // written while no follower runs
		other := filepath.Join(t.TempDir(), "old.log")
		appendLines(t, other, "old", 0, 25)
		gzipFile(t, other, filepath.Join(dir, "tracking.log-20261201.gz"))
		stop = start(t, db, rec, dir)
		defer stop()
		waitCount(t, rec, 375)
		onceEach(t, rec, map[string][2]int{"a": {0, 350}, "old": {0, 25}})
	})
}

// TestFollowPartialLine: a line is stored only once its newline is written.
func TestFollowPartialLine(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	log := filepath.Join(t.TempDir(), "tracking.log")
	rec := &recorder{lines: map[string]int{}}
	stop := start(t, db, rec, log)
	defer stop()
	appendLines(t, log, "a", 0, 3)
	fh, _ := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0)
	io.WriteString(fh, `{"log":"a","n":3}`)
	waitCount(t, rec, 3)
	io.WriteString(fh, "\n")
	fh.Close()
	waitCount(t, rec, 4)
	onceEach(t, rec, map[string][2]int{"a": {0, 4}})
}
