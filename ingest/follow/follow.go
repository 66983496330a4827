// Package follow tails live Open edX tracking logs, as tail -F does, and
// hands their complete lines to a Sender in batches, checkpointing in the
// store after each batch is stored: a restart, or a kill -9, resumes where
// the last stored batch ended. A log is known by the hash of its first
// line, so it is found again after rotation by rename (and compression of
// the renamed file) or by copy-truncate, under any name.
package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// Checkpoints is the part of the store a follower needs.
type Checkpoints interface {
	SaveCheckpoint(ctx context.Context, c store.Checkpoint) error
	Checkpoints(ctx context.Context, sink string) ([]store.Checkpoint, error)
}

// Sender stores a batch of complete tracking-log lines of source, the
// first of them line first+1, and returns once they are stored. Lines it
// refuses are its to report; an error means the batch may not be stored
// and is sent again.
type Sender interface {
	Send(ctx context.Context, source string, first int64, lines []byte) error
}

// Config says what to follow and how.
type Config struct {
	Paths    []string      // files or directories
	Sink     string        // names the checkpoints: "tenant:<name>" or the endpoint
	Interval time.Duration // between looks at the files; default 100ms
	MaxBatch int           // bytes of lines per batch; default 1 MiB
	Log      *slog.Logger
	// Stored, if set, is called after each batch is stored and checkpointed.
	Stored func(source string, lines int64)
}

// Follower follows the logs of a Config.
type Follower struct {
	cfg   Config
	db    Checkpoints
	send  Sender
	known map[string]store.Checkpoint // by first-line hash
	ids   map[idKey]logFile           // .gz identities, read once per file version
	gz    map[string]*gzReader        // open .gz logs, by path
	done  map[idKey]bool              // .gz logs read to their end
}

type idKey struct {
	path  string
	inode uint64
	size  int64
}

// New returns a Follower; Run starts it.
func New(cfg Config, db Checkpoints, send Sender) *Follower {
	if cfg.Interval <= 0 {
		cfg.Interval = 100 * time.Millisecond
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Follower{cfg: cfg, db: db, send: send, ids: map[idKey]logFile{}, gz: map[string]*gzReader{}, done: map[idKey]bool{}}
}

// Run follows until ctx is done, then returns nil once the batch being
// stored is stored and checkpointed. Errors of the store or the sender are
// logged and retried with backoff: the logs themselves are the buffer.
func (f *Follower) Run(ctx context.Context) error {
	cps, err := f.db.Checkpoints(ctx, f.cfg.Sink)
	if err != nil {
		return fmt.Errorf("follow: load checkpoints: %w", err)
	}
	f.known = make(map[string]store.Checkpoint, len(cps))
	for _, c := range cps {
		f.known[c.FirstLineHash] = c
	}
	defer func() {
		for _, g := range f.gz {
			g.Close()
		}
	}()
	backoff := time.Duration(0)
	for {
		progressed, err := f.pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			f.cfg.Log.Warn("follow: will retry", "err", err, "in", backoff)
		default:
			backoff = 0
		}
		if progressed && err == nil {
			continue // more may be waiting: look again at once
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(max(f.cfg.Interval, backoff)):
		}
	}
}

// pass looks at every candidate file once and stores at most one batch of
// each; it reports whether it stored anything.
func (f *Follower) pass(ctx context.Context) (bool, error) {
	files, siblingOf := candidates(f.cfg.Paths)
	progressed := false
	for i := range files {
		if ctx.Err() != nil {
			return progressed, nil
		}
		lf, err := f.identify(files[i])
		if err != nil || lf.hash == "" {
			continue // unreadable now, or no complete first line yet: next pass
		}
		cp, begun := f.known[lf.hash]
		if siblingOf[lf.path] && !begun {
			continue // an old rotated log this follower never read: not its to import
		}
		if lf.gz && (f.done[idKey{lf.path, lf.inode, lf.size}] || begun && uint32(cp.Offset) == lf.isize) {
			continue // a compressed log read to its end
		}
		if !lf.gz && begun && cp.Offset > lf.size {
			f.cfg.Log.Warn("follow: log shorter than its checkpoint, reading it from the start", "path", lf.path)
			cp.Offset, cp.Line = 0, 0
		}
		if !lf.gz && begun && cp.Offset == lf.size {
			continue
		}
		n, err := f.batch(ctx, lf, cp)
		if err != nil {
			return progressed, err
		}
		progressed = progressed || n > 0
	}
	return progressed, nil
}

// identify hashes a file's first line: every pass for a plain file (it may
// have been truncated and rewritten), once per version for a .gz file.
func (f *Follower) identify(lf logFile) (logFile, error) {
	key := idKey{lf.path, lf.inode, lf.size}
	if known, ok := f.ids[key]; ok {
		return known, nil
	}
	if err := identify(&lf); err != nil {
		return lf, err
	}
	if lf.gz && lf.hash != "" {
		f.ids[key] = lf
	}
	return lf, nil
}

// batch stores the next batch of lf after cp and checkpoints it; it
// returns the lines stored.
func (f *Follower) batch(ctx context.Context, lf logFile, cp store.Checkpoint) (int64, error) {
	c, err := f.read(&lf, cp.Offset)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", lf.path, err)
	}
	if len(c.lines) == 0 {
		if lf.gz {
			f.done[idKey{lf.path, lf.inode, lf.size}] = true
			f.closeGz(lf.path)
		}
		return 0, nil
	}
	// Stored even if ctx ends meanwhile: a stop comes after the last complete batch.
	storeCtx := context.WithoutCancel(ctx)
	if err := f.send.Send(storeCtx, lf.path, cp.Line, c.lines); err != nil {
		return 0, fmt.Errorf("store %s lines %d-%d: %w", lf.path, cp.Line+1, cp.Line+c.count, err)
	}
	if err := f.checkpoint(storeCtx, lf, cp, c); err != nil {
		return 0, err
	}
	if f.cfg.Stored != nil {
		f.cfg.Stored(lf.path, c.count)
	}
	return c.count, nil
}

func (f *Follower) checkpoint(ctx context.Context, lf logFile, cp store.Checkpoint, c chunk) error {
	next := store.Checkpoint{Sink: f.cfg.Sink, FirstLineHash: lf.hash, Source: lf.path, Inode: lf.inode,
		Offset: c.to, Line: cp.Line + c.count}
	if err := f.db.SaveCheckpoint(ctx, next); err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("checkpoint %s: %w", lf.path, err)
	}
	f.known[lf.hash] = next
	return nil
}

// read reads the next batch of lf from offset, growing the read size for a
// line longer than a batch (up to 64 MiB).
func (f *Follower) read(lf *logFile, offset int64) (chunk, error) {
	for max := f.cfg.MaxBatch; ; max *= 4 {
		var (
			c   chunk
			err error
		)
		if lf.gz {
			g := f.gz[lf.path]
			if g == nil || g.inode != lf.inode || g.pos != offset {
				f.closeGz(lf.path)
				if g, err = openGz(lf, offset); err != nil {
					return c, err
				}
				f.gz[lf.path] = g
			}
			c, err = g.next(max)
		} else {
			c, err = readPlain(lf, offset, max)
		}
		if err == nil || max >= 64<<20 {
			return c, err
		}
	}
}

func (f *Follower) closeGz(path string) {
	if g := f.gz[path]; g != nil {
		g.Close()
		delete(f.gz, path)
	}
}
