package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWriteHealth(t *testing.T) {
	down := unavailable(errors.New("disk full"))
	setup := func() (*writeHealth, *time.Time) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		h := &writeHealth{now: func() time.Time { return now }}
		return h, &now
	}
	t.Run("OK", func(t *testing.T) {
		h, _ := setup()
		if err := h.failing(); err != nil {
			t.Errorf("no writes yet: %v", err)
		}
		h.observe(nil)
		if err := h.failing(); err != nil || !h.recentOK() {
			t.Errorf("after a success: %v, recentOK %v", err, h.recentOK())
		}
	})
	t.Run("EveryWriteFails", func(t *testing.T) {
		h, now := setup()
		h.observe(nil)
		*now = now.Add(time.Minute)
		h.observe(down)
		var nr *NotReady
		if err := h.failing(); !errors.As(err, &nr) || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("a failure and no success for a minute: %v, want *NotReady", err)
		}
		// No writes come (traffic went elsewhere): the probe decides again.
		*now = now.Add(healthMemory + time.Second)
		if err := h.failing(); err != nil {
			t.Errorf("stale failure still counts: %v", err)
		}
	})
	t.Run("MostWritesSucceed", func(t *testing.T) {
		// 9 in 10 writes succeed (a pool short of connections): never unready.
		h, now := setup()
		for i := 0; i < 1000; i++ {
			*now = now.Add(10 * time.Millisecond)
			if i%10 == 9 {
				h.observe(down)
			} else {
				h.observe(nil)
			}
			if err := h.failing(); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
	})
	t.Run("StreakAmongSuccesses", func(t *testing.T) {
		h, now := setup()
		h.observe(nil)
		for i := 1; i <= failStreakDown; i++ {
			*now = now.Add(time.Millisecond)
			h.observe(down)
			if err := h.failing(); (err != nil) != (i >= failStreakDown) {
				t.Fatalf("after %d failures: %v", i, err)
			}
		}
		h.observe(nil)
		if err := h.failing(); err != nil {
			t.Errorf("a success clears it: %v", err)
		}
	})
	t.Run("OtherErrorsDoNotCount", func(t *testing.T) {
		h, _ := setup()
		for i := 0; i < 10; i++ {
			h.observe(fmt.Errorf("%w: id", ErrConflict))
			h.observe(errors.New("invalid input syntax"))
		}
		if err := h.failing(); err != nil {
			t.Errorf("refused data made the store unready: %v", err)
		}
	})
}
