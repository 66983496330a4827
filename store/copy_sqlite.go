package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// PrepareCopy creates the envelope id key if the database has none yet.
func (s *SQLite) PrepareCopy(ctx context.Context) error {
	_, err := s.ids.cipher(ctx)
	return translateSQLite(err)
}

// ReadSnapshot runs fn in one read transaction: in WAL mode it sees the
// database as of its first read while the writer goes on.
func (s *SQLite) ReadSnapshot(ctx context.Context, fn func(Snapshot) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translateSQLite(fmt.Errorf("begin snapshot: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return translateSQLite(fn(&sqliteSnapshot{tx: tx}))
}

type sqliteSnapshot struct{ tx *sql.Tx }

func (p *sqliteSnapshot) Counts(ctx context.Context) (TableCounts, error) {
	var c TableCounts
	err := p.tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM envelopes), (SELECT count(*) FROM events), (SELECT count(*) FROM entities)`).
		Scan(&c.Envelopes, &c.Events, &c.Entities)
	return c, translateSQLite(err)
}

func (p *sqliteSnapshot) Settings(ctx context.Context) ([]Setting, error) {
	return sqliteSettings(ctx, p.tx)
}

func sqliteSettings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]Setting, error) {
	var out []Setting
	err := sqliteRows(ctx, q, func(scan func(...any) error) (int, error) {
		var s Setting
		err := scan(&s.Name, &s.Value)
		out = append(out, s)
		return 0, err
	}, `SELECT name, value FROM settings ORDER BY name`)
	return out, err
}

// sqliteRows runs query and calls each for its rows until they end or the
// sizes each returns reach maxPageBytes.
func sqliteRows(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, each func(scan func(...any) error) (int, error), query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return translateSQLite(err)
	}
	defer rows.Close()
	for bytes := 0; bytes < maxPageBytes && rows.Next(); {
		n, err := each(rows.Scan)
		if err != nil {
			return translateSQLite(err)
		}
		bytes += n
	}
	return translateSQLite(rows.Err())
}

func (p *sqliteSnapshot) Tenants(ctx context.Context, after int64, limit int) ([]TenantRow, error) {
	var out []TenantRow
	err := sqliteRows(ctx, p.tx, func(scan func(...any) error) (int, error) {
		var (
			t       TenantRow
			created int64
		)
		err := scan(&t.ID, &t.Name, &created)
		t.CreatedAt = fromMicros(created)
		out = append(out, t)
		return 0, err
	}, `SELECT id, name, created_at FROM tenants WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read tenants: %w", err)
	}
	return out, nil
}

func (p *sqliteSnapshot) Keys(ctx context.Context, after int64, limit int) ([]KeyRow, error) {
	var out []KeyRow
	err := sqliteRows(ctx, p.tx, func(scan func(...any) error) (int, error) {
		var (
			k       KeyRow
			scopes  string
			created int64
			revoked sql.NullInt64
			limit   sql.NullFloat64
			expires sql.NullInt64
		)
		err := scan(&k.ID, &k.TenantID, &k.Label, &scopes, &k.TokenHash, &created, &revoked, &limit, &expires)
		k.ExpiresAt = microsPtr(expires)
		if limit.Valid {
			k.RateLimit = &limit.Float64
		}
		k.Scopes, k.CreatedAt = strings.Split(scopes, ","), fromMicros(created)
		if revoked.Valid {
			t := fromMicros(revoked.Int64)
			k.RevokedAt = &t
		}
		out = append(out, k)
		return 0, err
	}, `SELECT id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit, expires_at FROM api_keys WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	return out, nil
}

func (p *sqliteSnapshot) Envelopes(ctx context.Context, after int64, limit int) ([]EnvelopeRow, error) {
	var out []EnvelopeRow
	err := sqliteRows(ctx, p.tx, func(scan func(...any) error) (int, error) {
		var (
			e              EnvelopeRow
			sent, received int64
			key            sql.NullInt64
			skeleton       sql.NullString
		)
		err := scan(&e.ID, &e.TenantID, &e.Sensor, &sent, &e.DataVersion, &received, &key, &e.ItemCount, &skeleton)
		e.SendTime, e.ReceivedAt, e.APIKeyID = fromMicros(sent), fromMicros(received), key.Int64
		if skeleton.Valid {
			e.Skeleton = []byte(skeleton.String)
		}
		out = append(out, e)
		return len(e.Skeleton), err
	}, `SELECT id, tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton
FROM envelopes WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read envelopes: %w", err)
	}
	return out, nil
}

// Events pages in seq order, which is stored order and commit order (one
// writer at a time): no page can miss a late commit.
func (p *sqliteSnapshot) Events(ctx context.Context, tenant int64, after *Position, limit int) ([]EventRow, error) {
	var seq int64
	if after != nil {
		seq = after.Seq
	}
	var out []EventRow
	err := sqliteRows(ctx, p.tx, func(scan func(...any) error) (int, error) {
		var (
			ev  StoredEvent
			env int64
		)
		err := scanSQLiteEvent(scan, &ev, func(id int64) string { env = id; return "" })
		out = append(out, EventRow{Event: ev.Event, Position: ev.Position, TenantID: tenant, EnvelopeID: env, StoredAt: ev.StoredAt})
		return len(ev.Data), err
	}, "SELECT"+sqliteEventColumns+"\nFROM events e\nWHERE e.tenant_id = ? AND e.seq > ?\nORDER BY e.seq\nLIMIT ?", tenant, seq, limit)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

func (p *sqliteSnapshot) Entities(ctx context.Context, after EntityKey, limit int) ([]EntityRow, error) {
	var out []EntityRow
	err := sqliteRows(ctx, p.tx, func(scan func(...any) error) (int, error) {
		var (
			e             EntityRow
			typ           sql.NullString
			first, update int64
			data          string
		)
		err := scan(&e.TenantID, &e.ID, &typ, &e.EnvelopeID, &first, &update, &data)
		e.Type, e.FirstSeen, e.UpdatedAt, e.Data = typ.String, fromMicros(first), fromMicros(update), []byte(data)
		out = append(out, e)
		return len(e.Data), err
	}, `SELECT tenant_id, id, type, envelope_id, first_seen, updated_at, data
FROM entities WHERE (tenant_id, id) > (?, ?) ORDER BY tenant_id, id LIMIT ?`, after.TenantID, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("read entities: %w", err)
	}
	return out, nil
}

func (p *sqliteSnapshot) EventPosition(ctx context.Context, tenant int64, id uuid.UUID) (Position, error) {
	var pos Position
	err := p.tx.QueryRowContext(ctx, `SELECT seq FROM events WHERE tenant_id = ? AND id = ?`, tenant, id[:]).Scan(&pos.Seq)
	return pos, translateSQLite(err)
}

// CopyState reports what the database holds, for a copy into it.
func (s *SQLite) CopyState(ctx context.Context) (CopyState, error) {
	var st CopyState
	var err error
	if st.Counts, err = s.TableCounts(ctx); err != nil {
		return st, err
	}
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&st.Tenants); err != nil {
		return st, translateSQLite(fmt.Errorf("count tenants: %w", err))
	}
	if st.Settings, err = sqliteSettings(ctx, s.r); err != nil {
		return st, err
	}
	st.LastEvents = map[int64]uuid.UUID{}
	err = sqliteRows(ctx, s.r, func(scan func(...any) error) (int, error) {
		var (
			tenant int64
			id     []byte
		)
		if err := scan(&tenant, &id); err != nil {
			return 0, err
		}
		st.LastEvents[tenant] = uuid.UUID(id)
		return 0, nil
	}, `SELECT id, last FROM (
    SELECT t.id, (SELECT e.id FROM events e WHERE e.tenant_id = t.id ORDER BY e.seq DESC LIMIT 1) AS last FROM tenants t
) WHERE last IS NOT NULL`)
	if err != nil {
		return st, fmt.Errorf("last events: %w", err)
	}
	return st, nil
}

// Load writes b in one transaction (see Copier). Row ids are kept; the
// events' seq, the stored order, is given anew in b's order.
func (s *SQLite) Load(ctx context.Context, b *Batch) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, st := range b.Settings {
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
				st.Name, st.Value); err != nil {
				return fmt.Errorf("load settings: %w", err)
			}
		}
		for _, step := range []func(context.Context, *sql.Tx, *Batch) error{
			sqliteLoadTenants, sqliteLoadKeys, sqliteLoadEnvelopes, sqliteLoadEvents, sqliteLoadEntities,
		} {
			if err := step(ctx, tx, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachRow prepares query once and runs it with args(i) for i < n.
func eachRow(ctx context.Context, tx *sql.Tx, what, query string, n int, args func(i int) []any) error {
	if n == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("load %s: %w", what, err)
	}
	defer st.Close()
	for i := 0; i < n; i++ {
		if _, err := st.ExecContext(ctx, args(i)...); err != nil {
			return fmt.Errorf("load %s: %w", what, err)
		}
	}
	return nil
}

func sqliteLoadTenants(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return eachRow(ctx, tx, "tenants", `INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		len(b.Tenants), func(i int) []any {
			t := b.Tenants[i]
			return []any{t.ID, t.Name, micros(t.CreatedAt)}
		})
}

func sqliteLoadKeys(ctx context.Context, tx *sql.Tx, b *Batch) error {
	// A revocation is never undone by loading an older copy of the key.
	return eachRow(ctx, tx, "keys", `
INSERT INTO api_keys (id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    label = excluded.label,
    scopes = excluded.scopes,
    rate_limit = excluded.rate_limit,
    expires_at = excluded.expires_at,
    revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at)`, len(b.Keys), func(i int) []any {
		k := b.Keys[i]
		var revoked, expires any
		if k.RevokedAt != nil {
			revoked = micros(*k.RevokedAt)
		}
		if k.ExpiresAt != nil {
			expires = micros(*k.ExpiresAt)
		}
		return []any{k.ID, k.TenantID, k.Label, strings.Join(k.Scopes, ","), k.TokenHash, micros(k.CreatedAt), revoked, k.RateLimit, expires}
	})
}

func sqliteLoadEnvelopes(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return eachRow(ctx, tx, "envelopes", `
INSERT INTO envelopes (id, tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, len(b.Envelopes), func(i int) []any {
		e := b.Envelopes[i]
		var key any
		if e.APIKeyID != 0 {
			key = e.APIKeyID
		}
		return []any{e.ID, e.TenantID, e.Sensor, micros(e.SendTime), e.DataVersion, micros(e.ReceivedAt), key, e.ItemCount,
			nullBytes(e.Skeleton)}
	})
}

func sqliteLoadEvents(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return eachRow(ctx, tx, "events", `
INSERT INTO events (tenant_id, id, envelope_id, type, action, actor_id, object_id, object_type,
    group_id, session_id, edapp_id, profile, event_time, stored_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`, len(b.Events), func(i int) []any {
		e := b.Events[i]
		id := e.ID
		return []any{e.TenantID, id[:], e.EnvelopeID, e.Type, e.Action, nullString(e.ActorID), nullString(e.ObjectID),
			nullString(e.ObjectType), nullString(e.GroupID), nullString(e.SessionID), nullString(e.EdAppID),
			nullString(e.Profile), micros(e.EventTime), micros(e.StoredAt), string(e.Data)}
	})
}

func sqliteLoadEntities(ctx context.Context, tx *sql.Tx, b *Batch) error {
	return eachRow(ctx, tx, "entities", `
INSERT INTO entities (tenant_id, id, type, envelope_id, first_seen, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant_id, id) DO UPDATE SET
    type = excluded.type,
    envelope_id = excluded.envelope_id,
    first_seen = excluded.first_seen,
    updated_at = excluded.updated_at,
    data = excluded.data
WHERE (entities.type, entities.envelope_id, entities.first_seen, entities.updated_at, entities.data)
    IS NOT (excluded.type, excluded.envelope_id, excluded.first_seen, excluded.updated_at, excluded.data)`,
		len(b.Entities), func(i int) []any {
			e := b.Entities[i]
			return []any{e.TenantID, e.ID, nullString(e.Type), e.EnvelopeID, micros(e.FirstSeen), micros(e.UpdatedAt), string(e.Data)}
		})
}
