package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

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
	stmts  writeStmts // the group writer's prepared statements
	rstmts readStmts  // hot reads, prepared on the reader pool
	ids    envelopeIDs
	group  *groupWriter // the one writer of envelopes
	// commits wakes the live stream after each commit (WatchCommits).
	commits      commitSignal
	use          keyUse // when keys were last used, written in batches
	forwardStore        // forwarders (forward_stores.go)
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
	s.use.write = s.writeKeyUse
	s.forwardStore = forwardStore{sqliteForward{s: s}}
	s.group = newGroupWriter(1, s.saveGroup)
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
	s.group.close()
	s.stmts.close()
	s.rstmts.close()
	s.use.close()
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

// loadEnvelopeKey returns the database's envelope id key, storing candidate
// as the key if there is none yet.
func (s *SQLite) loadEnvelopeKey(ctx context.Context, candidate []byte) ([]byte, error) {
	return s.setting(ctx, envelopeKeyName, candidate)
}

// setting returns the named setting, storing candidate as its value if
// there is none yet. It uses the writer, so it must not run inside a write
// transaction.
func (s *SQLite) setting(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, candidate); err != nil {
		return nil, translateSQLite(err)
	}
	var value []byte
	err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&value)
	return value, translateSQLite(err)
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
