package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// Parsing SQL was over a quarter of the server's CPU when every request
// carries one small envelope: database/sql prepares each statement text
// afresh. The write path's statements are therefore prepared once on the
// writer connection, for the shapes small envelopes take (a few events, a
// handful of entities). Bigger inserts are parsed each time; their rows
// amortise it.
const (
	preparedEventRows  = 4
	preparedEntityRows = 16
)

const (
	savepointSQL   = `SAVEPOINT envelope`
	rollbackToSQL  = `ROLLBACK TO envelope`
	releaseSQL     = `RELEASE envelope`
	insertEnvelope = `
INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, received_at, api_key_id, item_count, skeleton)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
RETURNING id`
)

// insertEventsSQL inserts n events, returning the ids that were new.
func insertEventsSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO events (tenant_id, envelope_id, id, type, action, actor_id, object_id, object_type,
    group_id, session_id, edapp_id, profile, event_time, stored_at, data) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	sb.WriteString(" ON CONFLICT (tenant_id, id) DO NOTHING RETURNING id")
	return sb.String()
}

// upsertEntitiesSQL upserts n entities; a reference (no type) never
// overwrites a described entity.
func upsertEntitiesSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO entities (tenant_id, envelope_id, id, type, first_seen, updated_at, data) VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(?, ?, ?, ?, ?, ?, ?)")
	}
	sb.WriteString(` ON CONFLICT (tenant_id, id) DO UPDATE SET
    type = excluded.type,
    envelope_id = excluded.envelope_id,
    data = excluded.data,
    updated_at = excluded.updated_at
WHERE excluded.type IS NOT NULL`)
	return sb.String()
}

// writeStmts are the prepared statements of the write path, keyed by their
// text. Only the group writer's goroutine uses them.
type writeStmts struct {
	byText map[string]*sql.Stmt
}

// prepare prepares the statements on db, once. It runs outside any
// transaction (the writer has one connection, which a transaction holds).
// Until it succeeds (a store opened before its migrations, say) statements
// are simply parsed each time.
func (p *writeStmts) prepare(ctx context.Context, db *sql.DB) {
	if p.byText != nil {
		return
	}
	texts := []string{savepointSQL, rollbackToSQL, releaseSQL, insertEnvelope}
	for n := 1; n <= preparedEventRows; n++ {
		texts = append(texts, insertEventsSQL(n))
	}
	for n := 1; n <= preparedEntityRows; n++ {
		texts = append(texts, upsertEntitiesSQL(n))
	}
	m := make(map[string]*sql.Stmt, len(texts))
	for _, t := range texts {
		st, err := db.PrepareContext(ctx, t)
		if err != nil {
			closeStmts(m)
			return
		}
		m[t] = st
	}
	p.byText = m
}

func (p *writeStmts) close() {
	closeStmts(p.byText)
	p.byText = nil
}

func closeStmts(m map[string]*sql.Stmt) {
	for _, st := range m {
		st.Close()
	}
}

// query runs text in tx, prepared if it is one of the kept statements.
func (p *writeStmts) query(ctx context.Context, tx *sql.Tx, text string, args ...any) (*sql.Rows, error) {
	if st := p.byText[text]; st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, text, args...)
}

func (p *writeStmts) queryRow(ctx context.Context, tx *sql.Tx, text string, args ...any) *sql.Row {
	if st := p.byText[text]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, text, args...)
}

func (p *writeStmts) exec(ctx context.Context, tx *sql.Tx, text string, args ...any) (sql.Result, error) {
	if st := p.byText[text]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, text, args...)
}

// readStmts keeps statements prepared on the reader pool for the hot
// per-request reads (the key lookup on every request). database/sql
// prepares a kept statement again on each connection it runs on. Only
// fixed statement texts belong here; past maxReadStmts it stops keeping.
type readStmts struct {
	mu     sync.Mutex
	byText map[string]*sql.Stmt
}

const maxReadStmts = 32

func (c *readStmts) queryRow(ctx context.Context, db *sql.DB, text string, args ...any) *sql.Row {
	if st := c.get(ctx, db, text); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return db.QueryRowContext(ctx, text, args...)
}

func (c *readStmts) get(ctx context.Context, db *sql.DB, text string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.byText[text]; st != nil {
		return st
	}
	if len(c.byText) >= maxReadStmts {
		return nil
	}
	st, err := db.PrepareContext(ctx, text)
	if err != nil {
		return nil // the unprepared query reports the error
	}
	if c.byText == nil {
		c.byText = map[string]*sql.Stmt{}
	}
	c.byText[text] = st
	return st
}

func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	closeStmts(c.byText)
	c.byText = nil
}
