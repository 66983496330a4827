package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// PrepareCopy creates the envelope id key if the database has none yet.
func (s *Postgres) PrepareCopy(ctx context.Context) error {
	_, err := s.ids.cipher(ctx)
	return translate(err)
}

// ReadSnapshot runs fn in one read-only REPEATABLE READ transaction: every
// page fn reads sees the database as of the transaction's start.
func (s *Postgres) ReadSnapshot(ctx context.Context, fn func(Snapshot) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return translate(fmt.Errorf("begin snapshot: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	snap := &pgSnapshot{tx: tx}
	// The transactions older than the oldest one running when the snapshot
	// was taken: the only ones whose events a page may return.
	if err := tx.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&snap.xmin); err != nil {
		return translate(fmt.Errorf("begin snapshot: %w", err))
	}
	return translate(fn(snap))
}

type pgSnapshot struct {
	tx   pgx.Tx
	xmin string
}

func (p *pgSnapshot) Counts(ctx context.Context) (TableCounts, error) {
	var c TableCounts
	err := p.tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM envelopes), (SELECT count(*) FROM events), (SELECT count(*) FROM entities)`).
		Scan(&c.Envelopes, &c.Events, &c.Entities)
	return c, translate(err)
}

func (p *pgSnapshot) Settings(ctx context.Context) ([]Setting, error) {
	return pgSettings(ctx, p.tx)
}

func pgSettings(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]Setting, error) {
	rows, err := q.Query(ctx, `SELECT name, value FROM settings ORDER BY name`)
	if err != nil {
		return nil, translate(fmt.Errorf("read settings: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Setting, error) {
		var s Setting
		return s, r.Scan(&s.Name, &s.Value)
	})
	return out, translate(err)
}

func (p *pgSnapshot) Tenants(ctx context.Context, after int64, limit int) ([]TenantRow, error) {
	rows, err := p.tx.Query(ctx, `SELECT id, name, created_at FROM tenants WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, translate(fmt.Errorf("read tenants: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TenantRow, error) {
		var t TenantRow
		return t, r.Scan(&t.ID, &t.Name, &t.CreatedAt)
	})
	return out, translate(err)
}

func (p *pgSnapshot) Keys(ctx context.Context, after int64, limit int) ([]KeyRow, error) {
	rows, err := p.tx.Query(ctx, `
SELECT id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit, expires_at
FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, translate(fmt.Errorf("read keys: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyRow, error) {
		var k KeyRow
		return k, r.Scan(&k.ID, &k.TenantID, &k.Label, &k.Scopes, &k.TokenHash, &k.CreatedAt, &k.RevokedAt, &k.RateLimit, &k.ExpiresAt)
	})
	return out, translate(err)
}

func (p *pgSnapshot) Envelopes(ctx context.Context, after int64, limit int) ([]EnvelopeRow, error) {
	rows, err := p.tx.Query(ctx, `
SELECT id, tenant_id, sensor, send_time, data_version, received_at, coalesce(api_key_id, 0), item_count, skeleton
FROM envelopes WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, translate(fmt.Errorf("read envelopes: %w", err))
	}
	defer rows.Close()
	var (
		out   []EnvelopeRow
		bytes int
	)
	for bytes < maxPageBytes && rows.Next() {
		var e EnvelopeRow
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Sensor, &e.SendTime, &e.DataVersion, &e.ReceivedAt,
			&e.APIKeyID, &e.ItemCount, &e.Skeleton); err != nil {
			return nil, translate(fmt.Errorf("read envelopes: %w", err))
		}
		bytes += len(e.Skeleton)
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

func (p *pgSnapshot) Events(ctx context.Context, tenant int64, after *Position, limit int) ([]EventRow, error) {
	q := "SELECT" + eventColumns + `
FROM events e
WHERE e.tenant_id = $1 AND e.tx < $2::text::xid8`
	args := []any{tenant, p.xmin, limit}
	if after != nil {
		q += ` AND (e.tx, e.seq) > ($4::text::xid8, $5)`
		args = append(args, strconv.FormatUint(after.Tx, 10), after.Seq)
	}
	rows, err := p.tx.Query(ctx, q+"\nORDER BY e.tx, e.seq\nLIMIT $3", args...)
	if err != nil {
		return nil, translate(fmt.Errorf("read events: %w", err))
	}
	defer rows.Close()
	var (
		out   []EventRow
		bytes int
	)
	for bytes < maxPageBytes && rows.Next() {
		var (
			ev  StoredEvent
			env int64
		)
		if err := scanEvent(rows, &ev, func(id int64) string { env = id; return "" }); err != nil {
			return nil, translate(fmt.Errorf("read events: %w", err))
		}
		bytes += len(ev.Data)
		out = append(out, EventRow{Event: ev.Event, Position: ev.Position, TenantID: tenant, EnvelopeID: env, StoredAt: ev.StoredAt})
	}
	return out, translate(rows.Err())
}

func (p *pgSnapshot) Entities(ctx context.Context, after EntityKey, limit int) ([]EntityRow, error) {
	rows, err := p.tx.Query(ctx, `
SELECT tenant_id, id, coalesce(type, ''), envelope_id, first_seen, updated_at, data
FROM entities WHERE (tenant_id, id) > ($1, $2) ORDER BY tenant_id, id LIMIT $3`, after.TenantID, after.ID, limit)
	if err != nil {
		return nil, translate(fmt.Errorf("read entities: %w", err))
	}
	defer rows.Close()
	var (
		out   []EntityRow
		bytes int
	)
	for bytes < maxPageBytes && rows.Next() {
		var e EntityRow
		if err := rows.Scan(&e.TenantID, &e.ID, &e.Type, &e.EnvelopeID, &e.FirstSeen, &e.UpdatedAt, &e.Data); err != nil {
			return nil, translate(fmt.Errorf("read entities: %w", err))
		}
		bytes += len(e.Data)
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

func (p *pgSnapshot) EventPosition(ctx context.Context, tenant int64, id uuid.UUID) (Position, error) {
	var (
		tx  string
		pos Position
	)
	err := p.tx.QueryRow(ctx, `SELECT tx::text, seq FROM events WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&tx, &pos.Seq)
	if err != nil {
		return Position{}, translate(err)
	}
	pos.Tx, err = strconv.ParseUint(tx, 10, 64)
	return pos, err
}

// CopyState reports what the database holds, for a copy into it.
func (s *Postgres) CopyState(ctx context.Context) (CopyState, error) {
	var st CopyState
	var err error
	if st.Counts, err = s.TableCounts(ctx); err != nil {
		return st, err
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&st.Tenants); err != nil {
		return st, translate(fmt.Errorf("count tenants: %w", err))
	}
	if st.Settings, err = pgSettings(ctx, s.pool); err != nil {
		return st, err
	}
	// One backward index probe per tenant on (tenant_id, seq).
	rows, err := s.pool.Query(ctx, `
SELECT t.id, e.id
FROM tenants t
CROSS JOIN LATERAL (SELECT id FROM events WHERE tenant_id = t.id ORDER BY seq DESC LIMIT 1) e`)
	if err != nil {
		return st, translate(fmt.Errorf("last events: %w", err))
	}
	st.LastEvents = map[int64]uuid.UUID{}
	var (
		tenant int64
		id     uuid.UUID
	)
	_, err = pgx.ForEachRow(rows, []any{&tenant, &id}, func() error {
		st.LastEvents[tenant] = id
		return nil
	})
	return st, translate(err)
}
