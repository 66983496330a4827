package store

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// NotReady says why a store cannot take writes now. It matches ErrUnavailable.
type NotReady struct {
	Reason string // short and safe to show: "database unreachable", "disk full", …
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *NotReady) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Readiness tuning: how long a failure or a success counts as news, and how
// many failed writes in a row take a store out of rotation even while an
// occasional write still succeeds.
const (
	healthMemory   = 10 * time.Second
	failStreakDown = 3
)

// writeHealth remembers how the real writes went. Readiness reads it
// instead of writing a probe row: a probe row proves little (on a full
// SQLite disk a tiny write may still fit in the log) and costs a write per
// probe. Only unavailability counts: a conflict or refused data says nothing
// about whether the next write can succeed.
type writeHealth struct {
	mu      sync.Mutex
	now     func() time.Time
	lastOK  time.Time
	lastBad time.Time
	streak  int // unavailable writes since the last success
	lastErr error
}

func newWriteHealth() *writeHealth { return &writeHealth{now: time.Now} }

// observe records the outcome of one write.
func (h *writeHealth) observe(err error) {
	if err != nil && !errors.Is(err, ErrUnavailable) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.lastOK, h.streak, h.lastErr = h.now(), 0, nil
		return
	}
	h.lastBad, h.lastErr = h.now(), err
	h.streak++
}

// failing returns a *NotReady when recent writes say the next one would fail:
// the last one failed within healthMemory, and either failStreakDown failed
// in a row or none succeeded within healthMemory. A single failure among
// successes (a pool briefly short of connections) does not flap readiness.
// Once healthMemory passes without writes, the probe decides again.
func (h *writeHealth) failing() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if h.streak == 0 || now.Sub(h.lastBad) > healthMemory {
		return nil
	}
	if h.streak >= failStreakDown || now.Sub(h.lastOK) > healthMemory {
		return &NotReady{Reason: fmt.Sprintf("the last %d writes failed", h.streak), Err: h.lastErr}
	}
	return nil
}

// recentOK reports a successful write within healthMemory.
func (h *writeHealth) recentOK() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.lastOK.IsZero() && h.now().Sub(h.lastOK) <= healthMemory
}
