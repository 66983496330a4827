package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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
SELECT id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit
FROM api_keys WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, translate(fmt.Errorf("read keys: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyRow, error) {
		var k KeyRow
		return k, r.Scan(&k.ID, &k.TenantID, &k.Label, &k.Scopes, &k.TokenHash, &k.CreatedAt, &k.RevokedAt, &k.RateLimit)
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

// Load writes b in one transaction (see Copier), then moves the id
// sequences of tenants, api_keys and envelopes past the ids loaded.
func (s *Postgres) Load(ctx context.Context, b *Batch) error {
	return s.withTx(ctx, func(tx pgx.Tx) error {
		for _, step := range []func(context.Context, pgx.Tx, *Batch) error{
			pgLoadSettings, pgLoadTenants, pgLoadKeys, pgLoadEnvelopes, pgLoadEvents, pgLoadEntities,
		} {
			if err := step(ctx, tx, b); err != nil {
				return err
			}
		}
		return nil
	})
}

func pgLoadSettings(ctx context.Context, tx pgx.Tx, b *Batch) error {
	for _, st := range b.Settings {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
			st.Name, st.Value); err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
	}
	return nil
}

// bumpSequence moves the identity sequence of table's id past its largest
// id, never back.
func bumpSequence(ctx context.Context, tx pgx.Tx, table string) error {
	_, err := tx.Exec(ctx, `
SELECT setval(x.seq, x.m)
FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq,
             (SELECT max(id) FROM `+pgx.Identifier{table}.Sanitize()+`) AS m) x
WHERE x.m > coalesce(pg_sequence_last_value(x.seq), 0)`, table)
	if err != nil {
		return fmt.Errorf("move %s id sequence: %w", table, err)
	}
	return nil
}

func pgLoadTenants(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if len(b.Tenants) == 0 {
		return nil
	}
	n := len(b.Tenants)
	ids, names, created := make([]int64, n), make([]string, n), make([]time.Time, n)
	for i, t := range b.Tenants {
		ids[i], names[i], created[i] = t.ID, t.Name, t.CreatedAt
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO tenants (id, name, created_at) OVERRIDING SYSTEM VALUE
SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
ON CONFLICT (id) DO NOTHING`, ids, names, created); err != nil {
		return fmt.Errorf("load tenants: %w", err)
	}
	return bumpSequence(ctx, tx, "tenants")
}

func pgLoadKeys(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if len(b.Keys) == 0 {
		return nil
	}
	n := len(b.Keys)
	var (
		ids, tenants   = make([]int64, n), make([]int64, n)
		labels, scopes = make([]string, n), make([]string, n)
		hashes         = make([][]byte, n)
		created        = make([]time.Time, n)
		revoked        = make([]*time.Time, n)
		limits         = make([]*float64, n)
	)
	for i, k := range b.Keys {
		ids[i], tenants[i], labels[i], scopes[i] = k.ID, k.TenantID, k.Label, strings.Join(k.Scopes, ",")
		hashes[i], created[i], revoked[i], limits[i] = k.TokenHash, k.CreatedAt, k.RevokedAt, k.RateLimit
	}
	// A revocation is never undone by loading an older copy of the key.
	if _, err := tx.Exec(ctx, `
INSERT INTO api_keys (id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit) OVERRIDING SYSTEM VALUE
SELECT k.id, k.tenant_id, k.label, string_to_array(k.scopes, ','), k.token_hash, k.created_at, k.revoked_at, k.rate_limit
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::timestamptz[], $8::float8[])
    AS k(id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit)
ON CONFLICT (id) DO UPDATE SET
    label = excluded.label,
    scopes = excluded.scopes,
    rate_limit = excluded.rate_limit,
    revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at)`,
		ids, tenants, labels, scopes, hashes, created, revoked, limits); err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	return bumpSequence(ctx, tx, "api_keys")
}

func pgLoadEnvelopes(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if len(b.Envelopes) == 0 {
		return nil
	}
	n := len(b.Envelopes)
	var (
		ids, tenants, keys     = make([]int64, n), make([]int64, n), make([]int64, n)
		sensors, versions      = make([]string, n), make([]string, n)
		sendTimes, receivedAts = make([]time.Time, n), make([]time.Time, n)
		counts                 = make([]int32, n)
		skeletons              = make([][]byte, n)
	)
	for i, e := range b.Envelopes {
		ids[i], tenants[i], keys[i] = e.ID, e.TenantID, e.APIKeyID
		sensors[i], versions[i], sendTimes[i], receivedAts[i] = e.Sensor, e.DataVersion, e.SendTime, e.ReceivedAt
		counts[i], skeletons[i] = int32(e.ItemCount), e.Skeleton
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO envelopes (id, tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton)
OVERRIDING SYSTEM VALUE
SELECT e.id, e.tenant_id, e.sensor, e.send_time, e.data_version, e.received_at, NULLIF(e.api_key_id, 0), e.item_count, e.skeleton
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::bigint[],
    $8::integer[], $9::jsonb[])
    AS e(id, tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton)
ON CONFLICT (id) DO NOTHING`, ids, tenants, sensors, sendTimes, versions, receivedAts, keys, counts, skeletons); err != nil {
		return fmt.Errorf("load envelopes: %w", err)
	}
	return bumpSequence(ctx, tx, "envelopes")
}

func pgLoadEvents(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	n := len(b.Events)
	var (
		tenants, envs                         = make([]int64, n), make([]int64, n)
		ids                                   = make([]uuid.UUID, n)
		types, actions, actors, objects       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		objectTypes, groups, sessions, edApps = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		profiles                              = make([]string, n)
		times, stored                         = make([]time.Time, n), make([]time.Time, n)
		data                                  = make([][]byte, n)
	)
	for i, e := range b.Events {
		tenants[i], envs[i], ids[i] = e.TenantID, e.EnvelopeID, e.ID
		types[i], actions[i], actors[i], objects[i] = e.Type, e.Action, e.ActorID, e.ObjectID
		objectTypes[i], groups[i], sessions[i], edApps[i] = e.ObjectType, e.GroupID, e.SessionID, e.EdAppID
		profiles[i], times[i], stored[i], data[i] = e.Profile, e.EventTime, e.StoredAt, e.Data
	}
	// ORDER BY ord: seq is given in the batch's order, which is stored order.
	if _, err := tx.Exec(ctx, `
INSERT INTO events (tenant_id, id, envelope_id, type, action, actor_id, object_id, object_type,
    group_id, session_id, edapp_id, profile, event_time, stored_at, data)
SELECT e.tenant_id, e.id, e.envelope_id, e.type, e.action,
    NULLIF(e.actor_id, ''), NULLIF(e.object_id, ''), NULLIF(e.object_type, ''), NULLIF(e.group_id, ''),
    NULLIF(e.session_id, ''), NULLIF(e.edapp_id, ''), NULLIF(e.profile, ''), e.event_time, e.stored_at, e.data
FROM unnest($1::bigint[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::jsonb[])
    WITH ORDINALITY AS e(tenant_id, id, envelope_id, type, action, actor_id, object_id, object_type,
        group_id, session_id, edapp_id, profile, event_time, stored_at, data, ord)
ORDER BY e.ord
ON CONFLICT (tenant_id, id) DO NOTHING`, tenants, ids, envs, types, actions, actors, objects, objectTypes,
		groups, sessions, edApps, profiles, times, stored, data); err != nil {
		return fmt.Errorf("load events: %w", err)
	}
	return nil
}

func pgLoadEntities(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if len(b.Entities) == 0 {
		return nil
	}
	n := len(b.Entities)
	var (
		tenants, envs      = make([]int64, n), make([]int64, n)
		ids, types         = make([]string, n), make([]string, n)
		firstSeen, updated = make([]time.Time, n), make([]time.Time, n)
		data               = make([][]byte, n)
	)
	for i, e := range b.Entities {
		tenants[i], envs[i], ids[i], types[i] = e.TenantID, e.EnvelopeID, e.ID, e.Type
		firstSeen[i], updated[i], data[i] = e.FirstSeen, e.UpdatedAt, e.Data
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO entities (tenant_id, id, type, envelope_id, first_seen, updated_at, data)
SELECT x.tenant_id, x.id, NULLIF(x.type, ''), x.envelope_id, x.first_seen, x.updated_at, x.data
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[], $7::jsonb[])
    AS x(tenant_id, id, type, envelope_id, first_seen, updated_at, data)
ON CONFLICT (tenant_id, id) DO UPDATE SET
    type = excluded.type,
    envelope_id = excluded.envelope_id,
    first_seen = excluded.first_seen,
    updated_at = excluded.updated_at,
    data = excluded.data
WHERE (entities.type, entities.envelope_id, entities.first_seen, entities.updated_at, entities.data)
    IS DISTINCT FROM (excluded.type, excluded.envelope_id, excluded.first_seen, excluded.updated_at, excluded.data)`,
		tenants, ids, types, envs, firstSeen, updated, data); err != nil {
		return fmt.Errorf("load entities: %w", err)
	}
	return nil
}
