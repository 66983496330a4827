package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// eventsChannel is notified after commits that stored events, by the node
// that committed them.
const eventsChannel = "lrs_events"

// streamNotify wakes live streams after this node's commits: its own at
// once (in process), other nodes' through NOTIFY on eventsChannel, sent
// after the commit by one goroutine, one at a time, so that commits made
// while one is sent share the next. A trigger notifying inside each ingest
// transaction (migration 10, dropped by 11) cost a third of the commits a
// second: NOTIFY serialises committing transactions.
type streamNotify struct {
	commits commitSignal
	start   sync.Once
	pending chan struct{}
}

func (n *streamNotify) committed(s *Postgres) {
	n.commits.committed()
	n.start.Do(func() {
		n.pending = make(chan struct{}, 1)
		go n.notifyLoop(s)
	})
	select {
	case n.pending <- struct{}{}:
	default:
	}
}

func (n *streamNotify) notifyLoop(s *Postgres) {
	for {
		select {
		case <-s.life.Done():
			return
		case <-n.pending:
		}
		ctx, cancel := context.WithTimeout(s.life, 5*time.Second)
		_, err := s.pool.Exec(ctx, `SELECT pg_notify('`+eventsChannel+`', '')`)
		cancel()
		if err != nil && s.life.Err() == nil {
			// Other nodes' streams find the events at their next look.
			slog.Debug("stream notify failed", "err", err)
		}
	}
}

// horizon is the ascending-sync horizon: rows of transactions older than
// the oldest one still running, which no late commit can precede.
const horizon = "e.tx < pg_snapshot_xmin(pg_current_snapshot())"

// StreamHead returns the position of the tenant's last event below the
// horizon: everything at or before it can be read now, and whatever commits
// later comes after it.
func (s *Postgres) StreamHead(ctx context.Context, tenantID int64) (Position, error) {
	var (
		tx  string
		pos Position
	)
	err := s.pool.QueryRow(ctx, `
SELECT e.tx::text, e.seq
FROM events e
WHERE e.tenant_id = $1 AND `+horizon+`
ORDER BY e.tx DESC, e.seq DESC
LIMIT 1`, tenantID).Scan(&tx, &pos.Seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, translate(fmt.Errorf("stream head: %w", err))
	}
	pos.Tx, err = strconv.ParseUint(tx, 10, 64)
	return pos, err
}

// StreamEvents returns, for each tenant of from, up to limit of its events
// after its position, below the horizon, in stored order per tenant: one
// statement for every tenant. held reports that some events of these
// tenants are committed beyond the horizon (an older transaction is still
// running): the caller should look again soon, as no commit may notify it.
func (s *Postgres) StreamEvents(ctx context.Context, from []TenantAfter, limit int) (events []LiveEvent, held bool, err error) {
	if len(from) == 0 {
		return nil, false, nil
	}
	tenants := make([]int64, len(from))
	txs := make([]string, len(from))
	seqs := make([]int64, len(from))
	for i, f := range from {
		tenants[i], txs[i], seqs[i] = f.TenantID, strconv.FormatUint(f.After.Tx, 10), f.After.Seq
	}
	b := &pgx.Batch{}
	b.Queue(`
SELECT p.tenant_id, v.sensor,`+eventColumns+`
FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS p (tenant_id, tx, seq)
CROSS JOIN LATERAL (
    SELECT *
    FROM events e
    WHERE e.tenant_id = p.tenant_id
      AND (e.tx, e.seq) > (p.tx::xid8, p.seq)
      AND `+horizon+`
    ORDER BY e.tx, e.seq
    LIMIT $4
) e
JOIN envelopes v ON v.id = e.envelope_id
ORDER BY p.tenant_id, e.tx, e.seq`, tenants, txs, seqs, limit)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = ANY($1) AND NOT (`+horizon+`))`, tenants)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, false, translate(fmt.Errorf("stream events: %w", err))
	}
	noEnvelopeID := func(int64) string { return "" }
	for rows.Next() {
		var ev LiveEvent
		err := scanEvent(prefixRow{rows, []any{&ev.TenantID, &ev.Sensor}}, &ev.StoredEvent, noEnvelopeID)
		if err != nil {
			rows.Close()
			return nil, false, translate(fmt.Errorf("stream events: %w", err))
		}
		events = append(events, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, false, translate(fmt.Errorf("stream events: %w", err))
	}
	if err := br.QueryRow().Scan(&held); err != nil {
		return nil, false, translate(fmt.Errorf("stream events: %w", err))
	}
	return events, held, nil
}

// prefixRow scans the first columns of a row into prefix, the rest into
// what Scan is given.
type prefixRow struct {
	pgx.Row
	prefix []any
}

func (r prefixRow) Scan(dest ...any) error { return r.Row.Scan(append(r.prefix, dest...)...) }

// WatchCommits calls wake after every commit that stored envelopes, on
// this node (in process) or any other lrs node on the database (through
// LISTEN), until ctx ends; and once each time its listener (re)connects,
// since commits may have gone unnoticed before. It holds its own connection
// (application_name "lrs stream listener"), reconnecting with backoff up to
// 10 s. Rows written otherwise (lrs copy, SQL by hand) wake nobody: the
// stream's periodic look finds them.
func (s *Postgres) WatchCommits(ctx context.Context, wake func()) error {
	stop := s.stream.commits.watch(wake)
	defer stop()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := s.watchOnce(ctx, wake)
		if ctx.Err() != nil {
			break
		}
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		slog.Debug("stream listener stopped; the stream polls until it is back", "err", err, "retry", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return ctx.Err()
}

func (s *Postgres) watchOnce(ctx context.Context, wake func()) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "lrs stream listener"
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+eventsChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		wake()
	}
}
