package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
)

// The live stream: one Hub per process reads, on each wake-up, what every
// tenant with subscribers stored since the hub's position for it — one
// statement for all of them (store StreamEvents) — and hands each event to
// the subscribers whose filters select it, in memory. A subscriber that
// starts behind the hub (a cursor, Last-Event-ID, from=beginning) first
// pages the read API on its own, then joins the hub where it is. Both read
// up to the ascending-sync horizon, so the stream has its guarantee: each
// committed event once, in stored order, whatever order transactions
// commit in.

// StreamStore is what the live stream needs of a backend.
type StreamStore interface {
	ListEvents(ctx context.Context, f store.EventFilter, after *store.Position, ascending bool, limit int) ([]store.StoredEvent, error)
	StreamHead(ctx context.Context, tenantID int64) (store.Position, error)
	StreamEvents(ctx context.Context, from []store.TenantAfter, limit int) ([]store.LiveEvent, bool, error)
	WatchCommits(ctx context.Context, wake func()) error
}

// HubConfig tunes a Hub; zero fields take the defaults.
type HubConfig struct {
	// Buffer is how many events a subscriber may have waiting to be sent:
	// one that falls further behind is closed (ErrSlowSubscriber).
	Buffer int
	// Poll is how often the hub looks for new events without a wake-up
	// (a commit from another process on SQLite, a lost notification).
	Poll time.Duration
	// Batch bounds the events one read takes per tenant.
	Batch int
}

// Defaults of HubConfig.
const (
	DefaultStreamBuffer = 1024
	DefaultStreamPoll   = time.Second
	DefaultStreamBatch  = 1000
	catchUpPage         = 500
	// heldRetry is the first wait before looking again when committed
	// events wait behind a running transaction; it doubles up to Poll.
	heldRetry = 10 * time.Millisecond
)

// Errors that end a subscription.
var (
	ErrSlowSubscriber = errors.New("the subscriber fell too far behind")
	ErrStreamClosed   = errors.New("the stream is shutting down")
)

// Hub fans stored events out to live subscribers. Run it once; Subscribe
// from any goroutine.
type Hub struct {
	st  StreamStore
	cfg HubConfig
	log *slog.Logger

	wakeC chan struct{}
	fetch sync.Mutex // held while a read is dispatched: feeds' positions stand still

	mu      sync.Mutex
	feeds   map[int64]*feed
	all     map[*Subscription]struct{}
	stopped bool
}

// feed is the hub's state for one tenant.
type feed struct {
	pos   store.Position // every event up to pos went to the joined subscribers
	ready chan struct{}  // closed once pos is known
	err   error          // why pos could not be known
	subs  map[*Subscription]struct{}
	users int // subscriptions of this tenant, joined or catching up
}

// NewHub returns a hub over st; it serves subscribers once Run runs.
func NewHub(st StreamStore, cfg HubConfig, log *slog.Logger) *Hub {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultStreamBuffer
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultStreamPoll
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultStreamBatch
	}
	return &Hub{st: st, cfg: cfg, log: log, wakeC: make(chan struct{}, 1),
		feeds: map[int64]*feed{}, all: map[*Subscription]struct{}{}}
}

// Wake makes the hub read soon; calls made while it reads are merged.
func (h *Hub) Wake() {
	select {
	case h.wakeC <- struct{}{}:
	default:
	}
}

// Run reads and dispatches until ctx ends, then closes every subscription
// with ErrStreamClosed.
func (h *Hub) Run(ctx context.Context) {
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); _ = h.st.WatchCommits(ctx, h.Wake) }()
	defer func() {
		h.shutdown()
		<-watchDone
	}()
	timer := time.NewTimer(h.cfg.Poll)
	defer timer.Stop()
	retry := heldRetry
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wakeC:
		case <-timer.C:
		}
		more, held, err := h.readOnce(ctx)
		next := h.cfg.Poll
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			h.log.Warn("live stream: read failed; retrying", slog.Any("err", err), slog.Duration("retry", next))
		case more:
			h.Wake()
		case held:
			next, retry = retry, min(2*retry, h.cfg.Poll)
		default:
			retry = heldRetry
		}
		timer.Reset(next)
	}
}

// readOnce reads every tenant with joined subscribers once and dispatches
// the events. more: some tenant had a full batch; held: events wait behind
// a running transaction.
func (h *Hub) readOnce(ctx context.Context) (more, held bool, err error) {
	h.fetch.Lock()
	defer h.fetch.Unlock()
	h.mu.Lock()
	var from []store.TenantAfter
	// Feeds whose subscribers all still catch up are read too, so that a
	// subscriber from now starts at a position that is recent.
	for t, f := range h.feeds {
		select {
		case <-f.ready:
			from = append(from, store.TenantAfter{TenantID: t, After: f.pos})
		default:
		}
	}
	h.mu.Unlock()
	if len(from) == 0 {
		return false, false, nil
	}
	events, held, err := h.st.StreamEvents(ctx, from, h.cfg.Batch)
	if err != nil {
		return false, false, err
	}
	counts := map[int64]int{}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range events {
		ev := &events[i]
		counts[ev.TenantID]++
		f := h.feeds[ev.TenantID]
		if f == nil || !ev.Position.After(f.pos) {
			continue
		}
		h.dispatch(f, ev)
		f.pos = ev.Position
	}
	for _, n := range counts {
		more = more || n >= h.cfg.Batch
	}
	return more, held, nil
}

// dispatch hands ev to each joined subscriber of f it is new to and that
// selects it; one whose buffer is full is closed. h.mu is held.
func (h *Hub) dispatch(f *feed, ev *store.LiveEvent) {
	var (
		msg     *Message
		built   bool
		doc     any
		decoded bool
	)
	docOf := func() any {
		if !decoded {
			doc, _ = caliper.DecodeJSON(ev.Data)
			decoded = true
		}
		return doc
	}
	for s := range f.subs {
		if !ev.Position.After(s.pos) {
			continue
		}
		s.pos = ev.Position
		if !s.filter.Match(ev, docOf) {
			continue
		}
		if !built {
			msg, built = newMessage(ev.Position, ev.Data), true
		}
		select {
		case s.ch <- msg:
		default:
			delete(f.subs, s)
			s.end(ErrSlowSubscriber)
		}
	}
}

// shutdown closes every subscription; later subscriptions are refused.
func (h *Hub) shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for s := range h.all {
		s.end(ErrStreamClosed)
	}
	for _, f := range h.feeds {
		clear(f.subs)
	}
}

// Message is one event of a stream: where it is in stored order, and its
// JSON on one line. The hub makes one per event and hands the same pointer
// to every subscriber: a subscriber's buffer costs 8 bytes a slot.
type Message struct {
	Pos  store.Position
	Data json.RawMessage
}

func newMessage(pos store.Position, data []byte) *Message {
	if bytes.ContainsAny(data, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, data) == nil {
			data = b.Bytes()
		}
	}
	return &Message{Pos: pos, Data: data}
}
