package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the PostgreSQL store.
type Postgres struct {
	pool   *pgxpool.Pool
	health *writeHealth
	schema schemaCache
	ids    envelopeIDs
	group  *groupWriter // the writers of envelopes

	keys         keyCache
	use          keyUse        // when keys were last used, written in batches
	keysListen   sync.Once     // starts the key cache's listener
	listenDone   chan struct{} // closed when the listener has stopped
	life         context.Context
	end          context.CancelFunc // ends life: the store is closing
	stream       streamNotify       // wakes live streams after commits (postgres_stream.go)
	forwardStore                    // forwarders (forward_stores.go)
}

// OpenPostgres connects to the database at url (a postgres:// URL). It does
// not check the schema; see Postgres.SchemaStatus.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate(fmt.Errorf("connect to database: %w", err))
	}
	s := &Postgres{pool: pool, health: newWriteHealth()}
	s.life, s.end = context.WithCancel(context.Background())
	s.ids.load = s.loadEnvelopeKey
	s.use.write = s.writeKeyUse
	s.forwardStore = forwardStore{pgForward{q: pool, s: s}}
	// One connection stays free of envelope writes for reads and probes.
	s.group = newGroupWriter(max(1, int(pool.Config().MaxConns)-1), s.saveGroup)
	return s, nil
}

// loadEnvelopeKey returns the database's envelope id key, storing candidate
// as the key if there is none yet (several servers may race: one wins).
func (s *Postgres) loadEnvelopeKey(ctx context.Context, candidate []byte) ([]byte, error) {
	return s.setting(ctx, envelopeKeyName, candidate)
}

// setting returns the named setting, storing candidate as its value if
// there is none yet. The loser of a race to create it can see no row at
// all (rollupPosition says why), so that case asks again.
func (s *Postgres) setting(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var value []byte
	var err error
	for range 3 {
		err = s.pool.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO settings (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING value
)
SELECT value FROM ins
UNION ALL
SELECT value FROM settings WHERE name = $1
LIMIT 1`, name, candidate).Scan(&value)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	return value, translate(err)
}

// Pool returns the underlying connection pool. Only tests use it (raw SQL
// for slow transactions and the COPY ceiling of the web benchmarks); lrs
// itself goes through the store's methods.
func (s *Postgres) Pool() *pgxpool.Pool { return s.pool }

// Close closes every connection.
func (s *Postgres) Close() {
	s.end()
	s.keysListen.Do(func() {}) // no listener may start from now on
	if s.listenDone != nil {
		<-s.listenDone
	}
	s.group.close()
	s.use.close()
	s.pool.Close()
}

// Ping checks that the database answers.
func (s *Postgres) Ping(ctx context.Context) error { return translate(s.pool.Ping(ctx)) }

// withTx runs fn in a transaction, committing if it returns nil; the
// rollback is always deferred. Errors come back translated. When COMMIT
// itself fails without an answer from the server (the connection dropped,
// the context ended), the transaction may have committed: that is
// ErrOutcomeUnknown.
func (s *Postgres) withTx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := s.tx(ctx, fn)
	s.health.observe(err)
	return err
}

func (s *Postgres) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return translate(err)
	}
	if err := tx.Commit(ctx); err != nil {
		err = fmt.Errorf("commit: %w", err)
		// Only an answer from the server says the commit failed. pgx may
		// report a connection lost after COMMIT was sent as "conn closed",
		// safe to retry, so that is no proof it was never sent.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) || errors.Is(err, pgx.ErrTxCommitRollback) {
			return translate(err)
		}
		return outcomeUnknown(err)
	}
	return nil
}

// translate maps pgx's errors to the store's own (see ErrUnavailable);
// errors it does not know, and errors already translated, pass unchanged.
func translate(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrUnavailable), errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"40", // serialization failure, deadlock: the transaction was rolled back
			"53", // insufficient resources: disk full, out of memory, too many connections
			"57": // operator intervention: admin or crash shutdown, cannot connect now, canceled
			return unavailable(err)
		}
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case "25006", // read_only_sql_transaction: a standby, or default_transaction_read_only
			"55P03", // lock_not_available
			"58030": // io_error
			return unavailable(err)
		}
		return err
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, pgconn.ErrConnClosed),
		pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return unavailable(err)
	}
	return err
}
