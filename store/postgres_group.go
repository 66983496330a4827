package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// saveEnvelopeSQL stores one envelope in one statement: its row, its events
// (ids the tenant already has are skipped and left out of the answer) and its
// entities. Foreign keys are checked at the end of the statement, when the
// envelope row exists.
const saveEnvelopeSQL = `
WITH env AS (
    INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, api_key_id, item_count, skeleton)
    VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, $7)
    RETURNING id
), ins AS (
    INSERT INTO events (tenant_id, envelope_id, id, type, action, actor_id, object_id, object_type,
        group_id, session_id, edapp_id, profile, event_time, data)
    SELECT $1, env.id, e.id, e.type, e.action,
        NULLIF(e.actor_id, ''), NULLIF(e.object_id, ''), NULLIF(e.object_type, ''), NULLIF(e.group_id, ''),
        NULLIF(e.session_id, ''), NULLIF(e.edapp_id, ''), NULLIF(e.profile, ''), e.event_time, e.data
    FROM env, unnest($8::uuid[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
        $15::text[], $16::text[], $17::text[], $18::timestamptz[], $19::jsonb[])
        AS e(id, type, action, actor_id, object_id, object_type, group_id, session_id, edapp_id, profile, event_time, data)
    ON CONFLICT (tenant_id, id) DO NOTHING
    RETURNING id
), ent AS (
    INSERT INTO entities (tenant_id, envelope_id, id, type, data)
    SELECT $1, env.id, x.id, NULLIF(x.type, ''), x.data
    FROM env, unnest($20::text[], $21::text[], $22::jsonb[]) AS x(id, type, data)
    ON CONFLICT (tenant_id, id) DO UPDATE SET
        type = excluded.type,
        envelope_id = excluded.envelope_id,
        data = excluded.data,
        updated_at = now()
    WHERE excluded.type IS NOT NULL
)
SELECT env.id, ARRAY(SELECT id FROM ins) FROM env`

// saveEnvelopeArgs are saveEnvelopeSQL's arguments for env.
func saveEnvelopeArgs(env *Envelope) []any {
	n := len(env.Events)
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
	for i, e := range env.Events {
		ids[i], types[i], actions[i] = e.ID, e.Type, e.Action
		actors[i], objects[i], objectTypes[i] = e.ActorID, e.ObjectID, e.ObjectType
		groups[i], sessions[i], edApps[i], profiles[i] = e.GroupID, e.SessionID, e.EdAppID, e.Profile
		times[i], data[i] = e.EventTime, e.Data
	}
	entityIDs := make([]string, len(env.Entities))
	entityTypes := make([]string, len(env.Entities))
	entityData := make([][]byte, len(env.Entities))
	for i, e := range env.Entities {
		entityIDs[i], entityTypes[i], entityData[i] = e.ID, e.Type, e.Data
	}
	return []any{env.TenantID, env.Sensor, env.SendTime, env.DataVersion, env.APIKeyID, env.ItemCount, env.Skeleton,
		ids, types, actions, actors, objects, objectTypes, groups, sessions, edApps, profiles, times, data,
		entityIDs, entityTypes, entityData}
}

// errRedoAlone says a group cannot commit as one and each envelope must be
// written on its own to get exactly its own outcome.
var errRedoAlone = errors.New("group holds a refused envelope")

// saveGroup writes jobs in one transaction with two round trips when nothing
// is refused: BEGIN and one statement per envelope, pipelined; then COMMIT
// (and, only if some event ids were already stored, one query to compare
// them before it). When any envelope of a group of several is refused — a
// conflict, or an error from the server — the group is rolled back and each
// envelope written alone, so that no envelope's refusal touches another's.
func (s *Postgres) saveGroup(ctx context.Context, jobs []*saveJob) {
	err := s.saveTogether(ctx, jobs)
	if errors.Is(err, errRedoAlone) {
		for _, j := range jobs {
			if j.err = s.saveTogether(ctx, []*saveJob{j}); j.err != nil {
				j.res = SaveResult{}
			}
		}
		return
	}
	for _, j := range jobs {
		if err != nil {
			j.res, j.err = SaveResult{}, err
		}
	}
}

// saveTogether stores jobs atomically, setting each job's result. A group of
// one gets its own error back (a *ConflictError, say); a larger group with a
// refusal in it gets errRedoAlone.
func (s *Postgres) saveTogether(ctx context.Context, jobs []*saveJob) error {
	err := s.pipelinedTx(ctx, jobs)
	if errors.Is(err, errRedoAlone) {
		return err
	}
	err = translate(err)
	s.health.observe(err)
	if err == nil {
		s.stream.committed(s)
	}
	return err
}

func (s *Postgres) pipelinedTx(ctx context.Context, jobs []*saveJob) error {
	encoders := make([]func(int64) string, len(jobs))
	for i, j := range jobs {
		enc, err := s.ids.encoder(ctx, j.env.TenantID)
		if err != nil {
			return err
		}
		encoders[i] = enc
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A connection left inside a transaction (any failure below) is
	// destroyed by Release rather than reused.
	defer conn.Release()

	batch := &pgx.Batch{}
	batch.Queue("BEGIN")
	for _, j := range jobs {
		batch.Queue(saveEnvelopeSQL, saveEnvelopeArgs(j.env)...)
	}
	stored := make([][]uuid.UUID, len(jobs))
	rowIDs := make([]int64, len(jobs))
	br := conn.SendBatch(ctx, batch)
	_, err = br.Exec()
	for i := 0; err == nil && i < len(jobs); i++ {
		err = br.QueryRow().Scan(&rowIDs[i], &stored[i])
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.abandon(ctx, conn.Conn(), len(jobs), fmt.Errorf("insert envelope: %w", err))
	}
	for i, j := range jobs {
		j.res = SaveResult{EnvelopeID: encoders[i](rowIDs[i]), EventsStored: len(stored[i]),
			Duplicates: len(j.env.Events) - len(stored[i]), Entities: len(j.env.Entities)}
	}
	if err := groupConflicts(ctx, conn.Conn(), jobs, stored); err != nil {
		return s.abandon(ctx, conn.Conn(), len(jobs), err)
	}
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		err = fmt.Errorf("commit: %w", err)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return err
		}
		return outcomeUnknown(err)
	}
	return nil
}

// abandon rolls the transaction back and says what to do with cause: a
// group of several that the server refused is redone envelope by envelope; a
// lost connection is the whole group's outcome.
func (s *Postgres) abandon(ctx context.Context, conn *pgx.Conn, jobs int, cause error) error {
	conn.Exec(context.WithoutCancel(ctx), "ROLLBACK") //nolint:errcheck // a broken connection is destroyed on release
	var pgErr *pgconn.PgError
	if jobs > 1 && (errors.As(cause, &pgErr) || errors.Is(cause, ErrConflict)) {
		return errRedoAlone
	}
	return cause
}

// groupConflicts compares, in one query per tenant, every event that was not
// newly stored with the stored one (which an earlier envelope of the same
// group may have written): a difference is a *ConflictError.
func groupConflicts(ctx context.Context, conn *pgx.Conn, jobs []*saveJob, stored [][]uuid.UUID) error {
	type sent struct {
		ids  []uuid.UUID
		data [][]byte
	}
	byTenant := map[int64]*sent{}
	for i, j := range jobs {
		if len(stored[i]) == len(j.env.Events) {
			continue
		}
		fresh := make(map[uuid.UUID]struct{}, len(stored[i]))
		for _, id := range stored[i] {
			fresh[id] = struct{}{}
		}
		t := byTenant[j.env.TenantID]
		if t == nil {
			t = &sent{}
			byTenant[j.env.TenantID] = t
		}
		for _, e := range j.env.Events {
			if _, ok := fresh[e.ID]; !ok {
				t.ids = append(t.ids, e.ID)
				t.data = append(t.data, e.Data)
			}
		}
	}
	var conflicts []uuid.UUID
	for tenant, t := range byTenant {
		rows, err := conn.Query(ctx, conflictingEventsSQL, tenant, t.ids, t.data)
		if err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
		conflicts = append(conflicts, ids...)
	}
	if len(conflicts) > 0 {
		return &ConflictError{IDs: conflicts}
	}
	return nil
}
