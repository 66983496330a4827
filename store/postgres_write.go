package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

const insertEnvelopeSQL = `
INSERT INTO envelopes (
    tenant_id,
    sensor,
    send_time,
    data_version,
    api_key_id,
    item_count,
    skeleton
) VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, $7)
RETURNING id`

// insertEventsSQL writes a whole envelope's events in one statement; ids the
// tenant already has are skipped and left out of RETURNING.
const insertEventsSQL = `
INSERT INTO events (
    tenant_id,
    envelope_id,
    id,
    type,
    action,
    actor_id,
    object_id,
    object_type,
    group_id,
    session_id,
    edapp_id,
    profile,
    event_time,
    data
)
SELECT $1, $2, e.id, e.type, e.action,
    NULLIF(e.actor_id, ''),
    NULLIF(e.object_id, ''),
    NULLIF(e.object_type, ''),
    NULLIF(e.group_id, ''),
    NULLIF(e.session_id, ''),
    NULLIF(e.edapp_id, ''),
    NULLIF(e.profile, ''),
    e.event_time,
    e.data
FROM unnest(
    $3::uuid[],
    $4::text[],
    $5::text[],
    $6::text[],
    $7::text[],
    $8::text[],
    $9::text[],
    $10::text[],
    $11::text[],
    $12::text[],
    $13::timestamptz[],
    $14::jsonb[]
) AS e(id, type, action, actor_id, object_id, object_type, group_id, session_id, edapp_id, profile, event_time, data)
ON CONFLICT (tenant_id, id) DO NOTHING
RETURNING id`

// conflictingEventsSQL finds, among ids that were already stored, those whose
// stored JSON differs from what was sent (jsonb equality ignores key order,
// white space and number formatting).
const conflictingEventsSQL = `
SELECT e.id
FROM unnest($2::uuid[], $3::jsonb[]) AS sent(id, data)
JOIN events e ON e.tenant_id = $1 AND e.id = sent.id
WHERE e.data <> sent.data
ORDER BY e.id`

// upsertEntitiesSQL keeps the latest description of each entity. A bare IRI
// (NULL type) only records that the entity exists.
const upsertEntitiesSQL = `
INSERT INTO entities (
    tenant_id,
    envelope_id,
    id,
    type,
    data
)
SELECT $1, $2, e.id, NULLIF(e.type, ''), e.data
FROM unnest($3::text[], $4::text[], $5::jsonb[]) AS e(id, type, data)
ON CONFLICT (tenant_id, id) DO UPDATE SET
    type = excluded.type,
    envelope_id = excluded.envelope_id,
    data = excluded.data,
    updated_at = now()
WHERE excluded.type IS NOT NULL`

// SaveEnvelope stores env atomically: the envelope row, its new events and its
// entities, or nothing. Events already stored with identical content are
// counted as duplicates; with different content the result is a *ConflictError.
func (s *Postgres) SaveEnvelope(ctx context.Context, env *Envelope) (SaveResult, error) {
	envID, err := s.ids.encoder(ctx, env.TenantID)
	if err != nil {
		err = translate(err)
		s.health.observe(err)
		return SaveResult{}, err
	}
	var (
		res   SaveResult
		rowID int64
	)
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, insertEnvelopeSQL,
			env.TenantID, env.Sensor, env.SendTime, env.DataVersion, env.APIKeyID, env.ItemCount, env.Skeleton,
		).Scan(&rowID); err != nil {
			return fmt.Errorf("insert envelope: %w", err)
		}
		res.EnvelopeID = envID(rowID)
		if len(env.Events) > 0 {
			stored, err := insertEvents(ctx, tx, env.TenantID, rowID, env.Events)
			if err != nil {
				return err
			}
			res.EventsStored = len(stored)
			res.Duplicates = len(env.Events) - len(stored)
			if res.Duplicates > 0 {
				if err := checkDuplicates(ctx, tx, env.TenantID, env.Events, stored); err != nil {
					return err
				}
			}
		}
		if len(env.Entities) > 0 {
			ids := make([]string, len(env.Entities))
			types := make([]string, len(env.Entities))
			data := make([][]byte, len(env.Entities))
			for i, e := range env.Entities {
				ids[i], types[i], data[i] = e.ID, e.Type, e.Data
			}
			if _, err := tx.Exec(ctx, upsertEntitiesSQL, env.TenantID, rowID, ids, types, data); err != nil {
				return fmt.Errorf("upsert entities: %w", err)
			}
			res.Entities = len(env.Entities)
		}
		return nil
	})
	if err != nil {
		return SaveResult{}, err
	}
	return res, nil
}

func insertEvents(ctx context.Context, tx pgx.Tx, tenantID, envelopeID int64, events []Event) (map[uuid.UUID]struct{}, error) {
	n := len(events)
	var (
		ids         = make([]uuid.UUID, n)
		types       = make([]string, n)
		actions     = make([]string, n)
		actors      = make([]string, n)
		objects     = make([]string, n)
		objectTypes = make([]string, n)
		groups      = make([]string, n)
		sessions    = make([]string, n)
		edApps      = make([]string, n)
		profiles    = make([]string, n)
		times       = make([]time.Time, n)
		data        = make([][]byte, n)
	)
	for i, e := range events {
		ids[i], types[i], actions[i] = e.ID, e.Type, e.Action
		actors[i], objects[i], objectTypes[i] = e.ActorID, e.ObjectID, e.ObjectType
		groups[i], sessions[i], edApps[i], profiles[i] = e.GroupID, e.SessionID, e.EdAppID, e.Profile
		times[i], data[i] = e.EventTime, e.Data
	}
	rows, err := tx.Query(ctx, insertEventsSQL, tenantID, envelopeID,
		ids, types, actions, actors, objects, objectTypes, groups, sessions, edApps, profiles, times, data)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	stored := make(map[uuid.UUID]struct{}, n)
	var id uuid.UUID
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		stored[id] = struct{}{}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	return stored, nil
}

// checkDuplicates returns a *ConflictError if any event that was not newly
// stored differs from the stored one.
func checkDuplicates(ctx context.Context, tx pgx.Tx, tenantID int64, events []Event, stored map[uuid.UUID]struct{}) error {
	var ids []uuid.UUID
	var data [][]byte
	for _, e := range events {
		if _, ok := stored[e.ID]; !ok {
			ids = append(ids, e.ID)
			data = append(data, e.Data)
		}
	}
	rows, err := tx.Query(ctx, conflictingEventsSQL, tenantID, ids, data)
	if err != nil {
		return fmt.Errorf("check duplicate events: %w", err)
	}
	conflicts, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return fmt.Errorf("check duplicate events: %w", err)
	}
	if len(conflicts) > 0 {
		return &ConflictError{IDs: conflicts}
	}
	return nil
}
