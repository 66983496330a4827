package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

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
		expires        = make([]*time.Time, n)
	)
	for i, k := range b.Keys {
		ids[i], tenants[i], labels[i], scopes[i] = k.ID, k.TenantID, k.Label, strings.Join(k.Scopes, ",")
		hashes[i], created[i], revoked[i], limits[i], expires[i] = k.TokenHash, k.CreatedAt, k.RevokedAt, k.RateLimit, k.ExpiresAt
	}
	// A revocation is never undone by loading an older copy of the key.
	if _, err := tx.Exec(ctx, `
INSERT INTO api_keys (id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit, expires_at) OVERRIDING SYSTEM VALUE
SELECT k.id, k.tenant_id, k.label, string_to_array(k.scopes, ','), k.token_hash, k.created_at, k.revoked_at, k.rate_limit, k.expires_at
FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::timestamptz[], $8::float8[], $9::timestamptz[])
    AS k(id, tenant_id, label, scopes, token_hash, created_at, revoked_at, rate_limit, expires_at)
ON CONFLICT (id) DO UPDATE SET
    label = excluded.label,
    scopes = excluded.scopes,
    rate_limit = excluded.rate_limit,
    expires_at = excluded.expires_at,
    revoked_at = coalesce(api_keys.revoked_at, excluded.revoked_at)`,
		ids, tenants, labels, scopes, hashes, created, revoked, limits, expires); err != nil {
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
