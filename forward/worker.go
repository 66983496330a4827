package forward

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// DeliveryStore is what delivering asks of a backend: the forwarders'
// lease and progress, and the read path of ascending sync.
type DeliveryStore interface {
	Forwarders(ctx context.Context, tenantID int64) ([]store.Forwarder, error)
	LeaseForwarder(ctx context.Context, id int64, owner string, ttl time.Duration) (store.Forwarder, bool, error)
	ReleaseForwarder(ctx context.Context, id int64, owner string) error
	AdvanceForwarder(ctx context.Context, id int64, owner string, p store.ForwardProgress) error
	FailForwarder(ctx context.Context, id int64, owner, msg string, leaseUntil time.Time) error
	DeadLetters(ctx context.Context, tenantID, forwarderID int64) ([]store.DeadLetter, error)
	FinishReplay(ctx context.Context, id int64, delivered bool, status int, response string) error
	ListEvents(ctx context.Context, f store.EventFilter, after *store.Position, ascending bool, limit int) ([]store.StoredEvent, error)
	StreamHead(ctx context.Context, tenantID int64) (store.Position, error)
	WatchCommits(ctx context.Context, wake func()) error
}

// WorkerConfig tunes a Worker; zero fields take the defaults.
type WorkerConfig struct {
	Owner      string        // this node's name in leases; default host:pid:random
	Sensor     string        // the sensor of the envelopes sent (this store's URL)
	Lease      time.Duration // how long a node's lease lasts without renewal
	Timeout    time.Duration // for one request to the receiver
	MinBackoff time.Duration // the first wait after a failure; it doubles
	MaxBackoff time.Duration
}

// Defaults of WorkerConfig.
const (
	DefaultLease      = 15 * time.Second
	DefaultTimeout    = 30 * time.Second
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = time.Minute
)

// Worker delivers forwarders inside lrs serve: each node runs one; each
// forwarder is delivered by the node holding its lease, which another node
// takes when it expires.
type Worker struct {
	st     DeliveryStore
	seal   *Sealer
	cfg    WorkerConfig
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex
	running map[int64]*delivery
	wg      sync.WaitGroup
}

// NewWorker returns a worker over st opening credentials with seal.
func NewWorker(st DeliveryStore, seal *Sealer, cfg WorkerConfig, log *slog.Logger) *Worker {
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.Sensor == "" {
		cfg.Sensor = "urn:lrs:" + cfg.Owner
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	return &Worker{st: st, seal: seal, cfg: cfg, log: log, running: map[int64]*delivery{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Owner is the name this node takes leases under.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Run takes the leases of forwarders no node delivers and delivers them
// until ctx ends; it then gives its leases up and returns.
func (w *Worker) Run(ctx context.Context) {
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); _ = w.st.WatchCommits(ctx, w.wakeAll) }()
	scan := time.NewTicker(w.cfg.Lease / 3)
	defer scan.Stop()
	for {
		w.scan(ctx)
		select {
		case <-ctx.Done():
			w.wg.Wait()
			<-watchDone
			return
		case <-scan.C:
		}
	}
}

// scan starts delivering each forwarder whose lease this node can take.
func (w *Worker) scan(ctx context.Context) {
	fs, err := w.st.Forwarders(ctx, 0)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Warn("forwarders: list failed", slog.Any("err", err))
		}
		return
	}
	now := time.Now()
	for _, f := range fs {
		w.mu.Lock()
		_, busy := w.running[f.ID]
		w.mu.Unlock()
		if busy || f.Paused || (f.LeaseOwner != w.cfg.Owner && f.LeaseUntil.After(now)) {
			continue
		}
		f, held, err := w.st.LeaseForwarder(ctx, f.ID, w.cfg.Owner, w.cfg.Lease)
		if err != nil || !held {
			continue
		}
		d := &delivery{w: w, wake: make(chan struct{}, 1), leaseUntil: time.Now().Add(w.cfg.Lease)}
		d.settings(f)
		w.mu.Lock()
		w.running[f.ID] = d
		w.mu.Unlock()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			d.run(ctx)
			w.mu.Lock()
			delete(w.running, f.ID)
			w.mu.Unlock()
		}()
	}
}

// wakeAll tells every delivery that events were committed.
func (w *Worker) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range w.running {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}
