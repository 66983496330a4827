package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestKeyUseVisibleWhileWriting: a time taken by a write still in flight is
// listed as unwritten until the write ends (it was in neither place, so a
// listing racing the first batched write showed a used key as never used),
// and a failed write hands it back to the next batch.
func TestKeyUseVisibleWhileWriting(t *testing.T) {
	entered, release := make(chan struct{}), make(chan error)
	u := &keyUse{write: func(ctx context.Context, at map[int64]time.Time) error {
		entered <- struct{}{}
		return <-release
	}}
	at := time.Now()
	u.record(7, at) // the first use starts a write in the background
	<-entered
	if got, ok := u.unwritten()[7]; !ok || !got.Equal(at) {
		t.Fatalf("during the write key 7 is unwritten at %v (listed: %v), want %v", got, ok, at)
	}
	release <- errors.New("database away")
	deadline := time.Now().Add(2 * time.Second)
	for {
		u.mu.Lock()
		idle := u.inflight == nil
		u.mu.Unlock()
		if idle || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got, ok := u.unwritten()[7]; !ok || !got.Equal(at) {
		t.Fatalf("after a failed write key 7 is unwritten at %v (listed: %v), want %v kept for the next batch", got, ok, at)
	}
	go func() { <-entered; release <- nil }()
	if err := u.flushNow(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left := u.unwritten(); len(left) != 0 {
		t.Fatalf("after a written batch %v is left unwritten", left)
	}
}
