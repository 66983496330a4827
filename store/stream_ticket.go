package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// streamTicketKeyName is the settings row of the secret that signs stream
// tickets (web: POST /api/v1/stream/tickets): one per database, so that a
// ticket made by one node is good on every node.
const streamTicketKeyName = "stream_ticket_key"

func newTicketKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("stream ticket key: %w", err)
	}
	return k, nil
}

// forwardKeyName is the settings row of the key that seals forwarders'
// credentials when lrs is given no --forward-key (forward/seal.go).
const forwardKeyName = "forward_key"

// StreamTicketKey returns the database's stream ticket secret, creating it
// on first use (several nodes may race: one wins).
func (s *Postgres) StreamTicketKey(ctx context.Context) ([]byte, error) {
	return s.secretSetting(ctx, streamTicketKeyName)
}

// ForwardKey returns the database's key for forwarders' credentials,
// creating it on first use.
func (s *Postgres) ForwardKey(ctx context.Context) ([]byte, error) {
	return s.secretSetting(ctx, forwardKeyName)
}

// ForwardKey returns the database's key for forwarders' credentials,
// creating it on first use.
func (s *SQLite) ForwardKey(ctx context.Context) ([]byte, error) {
	return s.secretSetting(ctx, forwardKeyName)
}

// secretSetting returns the random secret in the settings row name,
// creating it on first use (several nodes may race: one wins).
func (s *Postgres) secretSetting(ctx context.Context, name string) ([]byte, error) {
	candidate, err := newTicketKey()
	if err != nil {
		return nil, err
	}
	var key []byte
	err = s.pool.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO settings (name, value) VALUES ($1, $2)
    ON CONFLICT (name) DO NOTHING
    RETURNING value
)
SELECT value FROM ins
UNION ALL
SELECT value FROM settings WHERE name = $1
LIMIT 1`, name, candidate).Scan(&key)
	if err != nil {
		return nil, translate(fmt.Errorf("%s: %w", name, err))
	}
	return key, nil
}

// StreamTicketKey returns the database's stream ticket secret, creating it
// on first use.
func (s *SQLite) StreamTicketKey(ctx context.Context) ([]byte, error) {
	return s.secretSetting(ctx, streamTicketKeyName)
}

// secretSetting returns the random secret in the settings row name,
// creating it on first use.
func (s *SQLite) secretSetting(ctx context.Context, name string) ([]byte, error) {
	var key []byte
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	if err == nil {
		return key, nil
	}
	candidate, err := newTicketKey()
	if err != nil {
		return nil, err
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, candidate); err != nil {
		return nil, translateSQLite(fmt.Errorf("%s: %w", name, err))
	}
	err = s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&key)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("%s: %w", name, err))
	}
	return key, nil
}
