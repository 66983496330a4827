package store

import (
	"context"
	"fmt"
	"time"
)

// Checkpoint is how far `lrs import --follow` has stored one tracking log
// for one sink. The log is named by the hash of its first line, which a
// rename, a copy (copy-truncate rotation) or compression keeps, so its
// checkpoint is found again under any name; Offset counts the bytes of its
// content (decompressed) up to the end of the last line stored.
type Checkpoint struct {
	Sink          string // where the lines go: "tenant:<name>" or an endpoint URL
	FirstLineHash string // hex SHA-256 of the log's first line
	Source        string // the path it was last read from
	Inode         uint64
	Offset        int64
	Line          int64 // lines read up to Offset
	UpdatedAt     time.Time
}

const saveCheckpointSQL = `INSERT INTO import_checkpoints
    (sink, first_line_hash, source, inode, byte_offset, line, updated_at)
VALUES (%s)
ON CONFLICT (sink, first_line_hash) DO UPDATE SET
    source      = excluded.source,
    inode       = excluded.inode,
    byte_offset = excluded.byte_offset,
    line        = excluded.line,
    updated_at  = excluded.updated_at`

const checkpointsSQL = `SELECT first_line_hash, source, inode, byte_offset, line, updated_at
FROM import_checkpoints
WHERE sink = %s
ORDER BY first_line_hash`

// SaveCheckpoint records c, replacing the sink's checkpoint of the same log.
func (s *Postgres) SaveCheckpoint(ctx context.Context, c Checkpoint) error {
	_, err := s.pool.Exec(ctx, fmt.Sprintf(saveCheckpointSQL, "$1, $2, $3, $4, $5, $6, $7"),
		c.Sink, c.FirstLineHash, c.Source, int64(c.Inode), c.Offset, c.Line, time.Now().UTC())
	if err != nil {
		return translate(fmt.Errorf("save checkpoint: %w", err))
	}
	return nil
}

// Checkpoints returns every checkpoint of sink.
func (s *Postgres) Checkpoints(ctx context.Context, sink string) ([]Checkpoint, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(checkpointsSQL, "$1"), sink)
	if err != nil {
		return nil, translate(fmt.Errorf("checkpoints: %w", err))
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c := Checkpoint{Sink: sink}
		var inode int64
		if err := rows.Scan(&c.FirstLineHash, &c.Source, &inode, &c.Offset, &c.Line, &c.UpdatedAt); err != nil {
			return nil, translate(fmt.Errorf("checkpoints: %w", err))
		}
		c.Inode, c.UpdatedAt = uint64(inode), c.UpdatedAt.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(fmt.Errorf("checkpoints: %w", err))
	}
	return out, nil
}

// SaveCheckpoint records c, replacing the sink's checkpoint of the same log.
func (s *SQLite) SaveCheckpoint(ctx context.Context, c Checkpoint) error {
	_, err := s.w.ExecContext(ctx, fmt.Sprintf(saveCheckpointSQL, "?, ?, ?, ?, ?, ?, ?"),
		c.Sink, c.FirstLineHash, c.Source, int64(c.Inode), c.Offset, c.Line, micros(time.Now()))
	if err != nil {
		return translateSQLite(fmt.Errorf("save checkpoint: %w", err))
	}
	return nil
}

// Checkpoints returns every checkpoint of sink.
func (s *SQLite) Checkpoints(ctx context.Context, sink string) ([]Checkpoint, error) {
	rows, err := s.r.QueryContext(ctx, fmt.Sprintf(checkpointsSQL, "?"), sink)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("checkpoints: %w", err))
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		c := Checkpoint{Sink: sink}
		var inode, at int64
		if err := rows.Scan(&c.FirstLineHash, &c.Source, &inode, &c.Offset, &c.Line, &at); err != nil {
			return nil, translateSQLite(fmt.Errorf("checkpoints: %w", err))
		}
		c.Inode, c.UpdatedAt = uint64(inode), fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translateSQLite(fmt.Errorf("checkpoints: %w", err))
	}
	return out, nil
}
