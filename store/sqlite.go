package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

func init() {
	// lrs_json_contains(doc, pattern) is jsonb's @> for the embedded store.
	sqlite.MustRegisterDeterministicScalarFunction("lrs_json_contains", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			doc, err1 := caliper.DecodeJSON(asBytes(args[0]))
			pattern, err2 := caliper.DecodeJSON(asBytes(args[1]))
			if err1 != nil || err2 != nil {
				return int64(0), nil
			}
			if caliper.ContainsJSON(doc, pattern) {
				return int64(1), nil
			}
			return int64(0), nil
		})
}

func asBytes(v driver.Value) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	}
	return nil
}

// SQLite is the embedded store: one database file, no server. Writes go
// through a single connection (SQLite has one writer at a time; queueing in
// Go beats retrying on SQLITE_BUSY); reads use a pool of read-only ones.
type SQLite struct {
	path   string
	w      *sql.DB
	r      *sql.DB
	health *writeHealth
	ids    envelopeIDs
}

// sqlitePath reads a sqlite: URL or a plain file path.
func sqlitePath(url string) string {
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if rest, ok := strings.CutPrefix(url, p); ok {
			return rest
		}
	}
	return url
}

// OpenSQLite opens the database file at path, creating it (mode 0600) in an
// existing folder if need be. Every
// commit is durable (synchronous=FULL): an acknowledged envelope survives a
// power cut.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if err := createSQLiteFile(path); err != nil {
		return nil, err
	}
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Add("_pragma", extra)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	s := &SQLite{path: path, w: w, r: r, health: newWriteHealth()}
	s.ids.load = s.loadEnvelopeKey
	if err := s.Optimize(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Optimize refreshes the query planner's statistics where they are stale
// (SQLite re-analyzes a table whose size changed tenfold). Without them, or
// with sampled ones, SQLite picks the event-time index for "course + time
// range" and sorts, instead of reading the course's index in stored order.
func (s *SQLite) Optimize(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `PRAGMA analysis_limit = 0; PRAGMA optimize = 0x10002`); err != nil {
		return fmt.Errorf("optimize sqlite: %w", err)
	}
	// Open read connections keep the statistics they loaded: drop the idle
	// ones so that queries plan with the new figures.
	s.r.SetMaxIdleConns(0)
	s.r.SetMaxIdleConns(4)
	return nil
}

// Close closes the database.
func (s *SQLite) Close() {
	s.r.Close()
	s.w.Close()
}

// Ping checks the database answers.
func (s *SQLite) Ping(ctx context.Context) error { return translateSQLite(s.r.PingContext(ctx)) }

// withTx runs fn in a write transaction (BEGIN IMMEDIATE, on the one write
// connection), committing if it returns nil; the rollback is always
// deferred. Errors come back translated. A failed COMMIT is a definite
// failure (SQLite rolls back) unless it is an I/O error, after which the
// write-ahead log may or may not hold the commit: ErrOutcomeUnknown.
func (s *SQLite) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := s.tx(ctx, fn)
	s.health.observe(err)
	return err
}

func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translateSQLite(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return translateSQLite(err)
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("commit: %w", err)
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_IOERR {
			return outcomeUnknown(err)
		}
		return translateSQLite(err)
	}
	return nil
}

// translateSQLite maps the SQLite driver's errors to the store's own (see
// ErrUnavailable); errors it does not know, and errors already translated,
// pass unchanged.
func translateSQLite(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return unavailable(err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, // another process holds the write lock past busy_timeout
		sqlite3.SQLITE_LOCKED,
		sqlite3.SQLITE_FULL, // disk (or max_page_count) full
		sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_PROTOCOL:
		return unavailable(err)
	}
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sqliteBatch bounds rows per INSERT: SQLite allows 32,766 bound values a statement.
const sqliteBatch = 1000

// SaveEnvelope stores env atomically, as Postgres.SaveEnvelope does.
func (s *SQLite) SaveEnvelope(ctx context.Context, env *Envelope) (SaveResult, error) {
	// The key is read before the transaction: both need the one writer.
	envID, err := s.ids.encoder(ctx, env.TenantID)
	if err != nil {
		err = translateSQLite(err)
		s.health.observe(err)
		return SaveResult{}, err
	}
	var res SaveResult
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.saveEnvelope(ctx, tx, env, envID)
		return err
	})
	if err != nil {
		return SaveResult{}, err
	}
	return res, nil
}

func (s *SQLite) saveEnvelope(ctx context.Context, tx *sql.Tx, env *Envelope, envID func(int64) string) (SaveResult, error) {
	var (
		res   SaveResult
		rowID int64
	)
	now := micros(time.Now())
	var keyID any
	if env.APIKeyID != 0 {
		keyID = env.APIKeyID
	}
	if err := tx.QueryRowContext(ctx, `
INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`, env.TenantID, env.Sensor, micros(env.SendTime), env.DataVersion, now, keyID, env.ItemCount,
		nullBytes(env.Skeleton)).Scan(&rowID); err != nil {
		return res, fmt.Errorf("insert envelope: %w", err)
	}
	res.EnvelopeID = envID(rowID)

	stored := make(map[uuid.UUID]bool, len(env.Events))
	for start := 0; start < len(env.Events); start += sqliteBatch {
		chunk := env.Events[start:min(start+sqliteBatch, len(env.Events))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO events (tenant_id, envelope_id, id, type, action, actor_id, object_id, object_type,
    group_id, session_id, edapp_id, profile, event_time, stored_at, data) VALUES `)
		args := make([]any, 0, len(chunk)*15)
		for i, e := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			id := e.ID
			args = append(args, env.TenantID, rowID, id[:], e.Type, e.Action, nullString(e.ActorID),
				nullString(e.ObjectID), nullString(e.ObjectType), nullString(e.GroupID), nullString(e.SessionID),
				nullString(e.EdAppID), nullString(e.Profile), micros(e.EventTime), now, string(e.Data))
		}
		sb.WriteString(" ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id")
		rows, err := tx.QueryContext(ctx, sb.String(), args...)
		if err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return res, fmt.Errorf("insert events: %w", err)
			}
			stored[uuid.UUID(b)] = true
		}
		if err := rows.Close(); err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
	}
	res.EventsStored = len(stored)
	res.Duplicates = len(env.Events) - len(stored)
	if res.Duplicates > 0 {
		if err := s.checkDuplicates(ctx, tx, env, stored); err != nil {
			return SaveResult{}, err
		}
	}

	for start := 0; start < len(env.Entities); start += sqliteBatch {
		chunk := env.Entities[start:min(start+sqliteBatch, len(env.Entities))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO entities (tenant_id, envelope_id, id, type, first_seen, updated_at, data) VALUES `)
		args := make([]any, 0, len(chunk)*7)
		for i, e := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, env.TenantID, rowID, e.ID, nullString(e.Type), now, now, string(e.Data))
		}
		sb.WriteString(` ON CONFLICT (tenant_id, id) DO UPDATE SET
    type = excluded.type,
    envelope_id = excluded.envelope_id,
    data = excluded.data,
    updated_at = excluded.updated_at
WHERE excluded.type IS NOT NULL`)
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return res, fmt.Errorf("upsert entities: %w", err)
		}
	}
	res.Entities = len(env.Entities)
	return res, nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// checkDuplicates compares, as JSON, each event that was already stored with
// what was sent; a difference is a *ConflictError.
func (s *SQLite) checkDuplicates(ctx context.Context, tx *sql.Tx, env *Envelope, stored map[uuid.UUID]bool) error {
	sent := map[uuid.UUID][]byte{}
	var args []any
	args = append(args, env.TenantID)
	for _, e := range env.Events {
		if !stored[e.ID] {
			id := e.ID
			sent[e.ID] = e.Data
			args = append(args, id[:])
		}
	}
	var conflicts []uuid.UUID
	for start := 1; start < len(args); start += sqliteBatch {
		chunk := args[start:min(start+sqliteBatch, len(args))]
		q := `SELECT id, data FROM events WHERE tenant_id = ? AND id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := tx.QueryContext(ctx, q, append([]any{env.TenantID}, chunk...)...)
		if err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
		for rows.Next() {
			var (
				b    []byte
				data string
			)
			if err := rows.Scan(&b, &data); err != nil {
				rows.Close()
				return fmt.Errorf("check duplicate events: %w", err)
			}
			have, err1 := caliper.DecodeJSON([]byte(data))
			want, err2 := caliper.DecodeJSON(sent[uuid.UUID(b)])
			if err1 != nil || err2 != nil || !caliper.EqualJSON(have, want) {
				conflicts = append(conflicts, uuid.UUID(b))
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
	}
	if len(conflicts) > 0 {
		return &ConflictError{IDs: conflicts}
	}
	return nil
}

// EnsureTenant returns the id of the tenant called name, creating it if need be.
func (s *SQLite) EnsureTenant(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.w.QueryRowContext(ctx, `
INSERT INTO tenants (name, created_at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
RETURNING id`, name, micros(time.Now())).Scan(&id)
	if err != nil {
		return 0, translateSQLite(fmt.Errorf("ensure tenant: %w", err))
	}
	return id, nil
}

// CreateKey creates an API key for tenant, creating the tenant on first use.
func (s *SQLite) CreateKey(ctx context.Context, tenant, label string, scopes []string) (Key, string, error) {
	token, err := NewToken()
	if err != nil {
		return Key{}, "", err
	}
	k := Key{Tenant: tenant, Label: label, Scopes: scopes}
	now := time.Now()
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `
INSERT INTO tenants (name, created_at) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET name = excluded.name
RETURNING id`, tenant, micros(now)).Scan(&k.TenantID); err != nil {
			return fmt.Errorf("ensure tenant: %w", err)
		}
		return tx.QueryRowContext(ctx, `
INSERT INTO api_keys (tenant_id, label, scopes, token_hash, created_at) VALUES (?, ?, ?, ?, ?)
RETURNING id`, k.TenantID, label, strings.Join(scopes, ","), HashToken(token), micros(now)).Scan(&k.ID)
	})
	if err != nil {
		return Key{}, "", translateSQLite(fmt.Errorf("create key: %w", err))
	}
	k.CreatedAt = fromMicros(micros(now))
	return k, token, nil
}

const sqliteKeySQL = `
SELECT k.id, k.tenant_id, t.name, k.label, k.scopes, k.created_at, k.revoked_at
FROM api_keys k JOIN tenants t ON t.id = k.tenant_id`

func scanSQLiteKey(scan func(...any) error) (Key, error) {
	var (
		k       Key
		scopes  string
		created int64
		revoked sql.NullInt64
	)
	if err := scan(&k.ID, &k.TenantID, &k.Tenant, &k.Label, &scopes, &created, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Key{}, ErrNotFound
		}
		return Key{}, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt = fromMicros(created)
	if revoked.Valid {
		t := fromMicros(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}

// KeyByToken returns the live key for token, or ErrNotFound.
func (s *SQLite) KeyByToken(ctx context.Context, token string) (Key, error) {
	k, err := scanSQLiteKey(s.r.QueryRowContext(ctx, sqliteKeySQL+` WHERE k.token_hash = ? AND k.revoked_at IS NULL`, HashToken(token)).Scan)
	if err != nil {
		return Key{}, translateSQLite(fmt.Errorf("key by token: %w", err))
	}
	return k, nil
}

// ListKeys returns every key, oldest first.
func (s *SQLite) ListKeys(ctx context.Context) ([]Key, error) {
	rows, err := s.r.QueryContext(ctx, sqliteKeySQL+` ORDER BY k.id`)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("list keys: %w", err))
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		k, err := scanSQLiteKey(rows.Scan)
		if err != nil {
			return nil, translateSQLite(fmt.Errorf("list keys: %w", err))
		}
		keys = append(keys, k)
	}
	return keys, translateSQLite(rows.Err())
}

// RevokeKey revokes key id; ErrNotFound if there is none.
func (s *SQLite) RevokeKey(ctx context.Context, id int64) error {
	r, err := s.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, micros(time.Now()), id)
	if err != nil {
		return translateSQLite(fmt.Errorf("revoke key: %w", err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke key %d: %w", id, ErrNotFound)
	}
	return nil
}

const sqliteEventColumns = `
    e.seq, e.id, e.envelope_id, e.type, e.action,
    coalesce(e.actor_id, ''), coalesce(e.object_id, ''), coalesce(e.object_type, ''),
    coalesce(e.group_id, ''), coalesce(e.session_id, ''), coalesce(e.edapp_id, ''),
    coalesce(e.profile, ''), e.event_time, e.stored_at, e.data`

func scanSQLiteEvent(scan func(...any) error, ev *StoredEvent, envelopeID func(int64) string) error {
	var (
		id             []byte
		env            int64
		evTime, stored int64
		data           []byte
	)
	if err := scan(&ev.Seq, &id, &env, &ev.Type, &ev.Action, &ev.ActorID, &ev.ObjectID, &ev.ObjectType,
		&ev.GroupID, &ev.SessionID, &ev.EdAppID, &ev.Profile, &evTime, &stored, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	ev.Tx = 0
	ev.ID = uuid.UUID(id)
	ev.EnvelopeID = envelopeID(env)
	ev.EventTime, ev.StoredAt = fromMicros(evTime), fromMicros(stored)
	ev.Data = data
	return nil
}

// ListEvents pages in stored order (seq: one writer at a time makes insert
// order commit order, so no late commit can land behind a cursor).
func (s *SQLite) ListEvents(ctx context.Context, f EventFilter, after *Position, ascending bool, limit int) ([]StoredEvent, error) {
	c := filterConditions(f, true)
	order, cmp := "e.seq DESC", "<"
	if ascending {
		order, cmp = "e.seq", ">"
	}
	if after != nil {
		c.add("e.seq " + cmp + " " + c.arg(after.Seq))
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return nil, translateSQLite(err)
	}
	q := "SELECT" + sqliteEventColumns + "\nFROM events e\nWHERE " + c.sql() + "\nORDER BY " + order + "\nLIMIT " + c.arg(limit)
	rows, err := s.r.QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("list events: %w", err))
	}
	defer rows.Close()
	events := make([]StoredEvent, 0, limit)
	for rows.Next() {
		var ev StoredEvent
		if err := scanSQLiteEvent(rows.Scan, &ev, envID); err != nil {
			return nil, translateSQLite(fmt.Errorf("list events: %w", err))
		}
		events = append(events, ev)
	}
	return events, translateSQLite(rows.Err())
}

// ExportEvents streams matching events in stored order from one read
// transaction; with dataOnly, only Data is filled.
func (s *SQLite) ExportEvents(ctx context.Context, f EventFilter, dataOnly bool, fn func(*StoredEvent) error) error {
	c := filterConditions(f, true)
	cols := sqliteEventColumns
	if dataOnly {
		cols = " e.data"
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return translateSQLite(err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT"+cols+"\nFROM events e\nWHERE "+c.sql()+"\nORDER BY e.seq", c.args...)
	if err != nil {
		return translateSQLite(fmt.Errorf("export events: %w", err))
	}
	defer rows.Close()
	scan := func(ev *StoredEvent) error { return scanSQLiteEvent(rows.Scan, ev, envID) }
	if dataOnly {
		scan = func(ev *StoredEvent) error { return rows.Scan(&ev.Data) }
	}
	return eachEvent(rows, scan, fn, translateSQLite)
}

// EventByID returns one of the tenant's events, or ErrNotFound.
func (s *SQLite) EventByID(ctx context.Context, tenantID int64, id uuid.UUID) (StoredEvent, error) {
	envID, err := s.ids.encoder(ctx, tenantID)
	if err != nil {
		return StoredEvent{}, translateSQLite(err)
	}
	var ev StoredEvent
	row := s.r.QueryRowContext(ctx, "SELECT"+sqliteEventColumns+"\nFROM events e\nWHERE e.tenant_id = ? AND e.id = ?", tenantID, id[:])
	if err := scanSQLiteEvent(row.Scan, &ev, envID); err != nil {
		return StoredEvent{}, translateSQLite(fmt.Errorf("event %s: %w", id, err))
	}
	return ev, nil
}

// EntityByID returns the latest description of an entity, or ErrNotFound.
func (s *SQLite) EntityByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM entities WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&data)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("entity %s: %w", id, err))
	}
	return data, nil
}

// EnvelopeByID rebuilds an envelope as it was received, or returns ErrNotFound.
func (s *SQLite) EnvelopeByID(ctx context.Context, tenantID int64, publicID string) (json.RawMessage, error) {
	id, err := s.ids.decode(ctx, tenantID, publicID)
	if err != nil {
		return nil, fmt.Errorf("envelope %s: %w", publicID, translateSQLite(err))
	}
	var skel []byte
	err = s.r.QueryRowContext(ctx, `SELECT skeleton FROM envelopes WHERE tenant_id = ? AND id = ? AND skeleton IS NOT NULL`,
		tenantID, id).Scan(&skel)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("envelope %d: %w", id, err))
	}
	env, refs, err := parseSkeleton(skel)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	for eid, positions := range refs {
		var data []byte
		if err := s.r.QueryRowContext(ctx, `SELECT data FROM events WHERE tenant_id = ? AND id = ?`, tenantID, eid[:]).Scan(&data); err != nil {
			return nil, translateSQLite(fmt.Errorf("envelope %d: event %s: %w", id, eid, err))
		}
		for _, i := range positions {
			env.Data[i] = data
		}
	}
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	return out, nil
}

// sqliteStatDimensions are StatDimensions in SQLite's SQL.
var sqliteStatDimensions = map[string]string{
	"action": "e.action",
	"type":   "e.type",
	"object": "e.object_id",
	"actor":  "e.actor_id",
	"course": "e.group_id",
	"day":    "strftime('%Y-%m-%d', e.event_time / 1000000, 'unixepoch')",
	"hour":   "strftime('%Y-%m-%dT%H:00:00Z', e.event_time / 1000000, 'unixepoch')",
}

// Stats counts matching events grouped by one or two dimensions, as Postgres.Stats.
func (s *SQLite) Stats(ctx context.Context, f EventFilter, by []string, limit int) ([]StatRow, error) {
	c := filterConditions(f, true)
	q, err := statsQuery(c, sqliteStatDimensions, by, limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("stats: %w", err))
	}
	defer rows.Close()
	out, err := scanStats(rows, len(by))
	return out, translateSQLite(err)
}

// loadEnvelopeKey returns the database's envelope id key, storing candidate
// as the key if there is none yet. It uses the writer, so it must not run
// inside a write transaction.
func (s *SQLite) loadEnvelopeKey(ctx context.Context, candidate []byte) ([]byte, error) {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		envelopeKeyName, candidate); err != nil {
		return nil, translateSQLite(err)
	}
	var key []byte
	err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, envelopeKeyName).Scan(&key)
	return key, translateSQLite(err)
}

// FileSize is the size of the database file and its write-ahead log.
func (s *SQLite) FileSize() (int64, error) {
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(s.path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
		if err == nil {
			total += fi.Size()
		}
	}
	return total, nil
}

// TableCounts returns how many envelopes, events and entities are stored (all tenants).
func (s *SQLite) TableCounts(ctx context.Context) (TableCounts, error) {
	var c TableCounts
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM envelopes), (SELECT count(*) FROM events), (SELECT count(*) FROM entities)`).
		Scan(&c.Envelopes, &c.Events, &c.Entities)
	return c, translateSQLite(err)
}
