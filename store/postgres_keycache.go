package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// The key cache on PostgreSQL: lookups go to memory while a listener holds a
// connection that LISTENs on lrs_keys, which migration 5's triggers notify on
// every change to api_keys or tenants, from any node or from SQL by hand.
// While the listener is down (not connected yet, connection lost, schema
// older than 5) the cache is off and every lookup asks the database, so a
// revoked key is never honoured for longer than the notification takes.

const keysChannel = "lrs_keys"

// keyListenCheck is how often an idle listener checks that its connection
// still works and that the triggers are still there.
const keyListenCheck = 15 * time.Second

// cachedKeyByToken serves lookup from the cache when it can, starting the
// listener on first use (commands that never authenticate never start it).
func (s *Postgres) cachedKeyByToken(ctx context.Context, token string, lookup func(context.Context, []byte) (Key, error)) (Key, error) {
	s.keysListen.Do(func() {
		s.listenDone = make(chan struct{})
		go s.listenKeys()
	})
	hash := HashToken(token)
	k, ok, gen := s.keys.get(hash)
	if ok {
		return k, nil
	}
	k, err := lookup(ctx, hash)
	if err != nil {
		return Key{}, err
	}
	s.keys.put(hash, k, gen)
	return k, nil
}

// KeyCacheStats reports what this node's key cache has done.
func (s *Postgres) KeyCacheStats() KeyCacheStats { return s.keys.stats() }

// listenKeys keeps a listener connected until the store closes, retrying
// with backoff; the cache is on only while a listener is connected.
func (s *Postgres) listenKeys() {
	defer close(s.listenDone)
	backoff := 100 * time.Millisecond
	for s.life.Err() == nil {
		start := time.Now()
		err := s.listenOnce(s.life)
		s.keys.setOn(false)
		if s.life.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		slog.Debug("key cache listener stopped; keys are looked up in the database", "err", err, "retry", backoff)
		select {
		case <-s.life.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listenOnce connects, listens and turns the cache on, then empties it on
// every notification until the connection fails or ctx ends.
func (s *Postgres) listenOnce(ctx context.Context) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "lrs key cache listener"
	// A wait that times out only sets a deadline on the socket: the default
	// handler would send the server a cancel request every keyListenCheck.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+keysChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Listening before turning on: a change made before this point is
	// covered by setOn emptying the cache, one made after by a notification.
	if err := checkKeyTriggers(ctx, conn); err != nil {
		return err
	}
	s.keys.setOn(true)
	for {
		wait, cancel := context.WithTimeout(ctx, keyListenCheck)
		_, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			s.keys.changed()
		case ctx.Err() != nil:
			return ctx.Err()
		case wait.Err() != nil: // nothing happened for keyListenCheck
			if err := checkKeyTriggers(ctx, conn); err != nil {
				return err
			}
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// checkKeyTriggers fails unless the schema notifies changes to keys (it is
// older than migration 5, or was migrated down).
func checkKeyTriggers(ctx context.Context, conn *pgx.Conn) error {
	var ok bool
	err := conn.QueryRow(ctx, `
SELECT count(*) = 2
FROM pg_trigger
WHERE tgname IN ('api_keys_notify_update', 'api_keys_notify_delete')
  AND tgrelid = to_regclass('api_keys')`).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check key triggers: %w", err)
	}
	if !ok {
		return errors.New("schema has no key change notifications (migration 5)")
	}
	return nil
}
