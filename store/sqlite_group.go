package store

import (
	"context"
	"database/sql"
	"fmt"
)

// saveGroup writes jobs in one transaction on the one writer connection, each
// envelope inside its own savepoint: an envelope that is refused (a conflict,
// say) is rolled back alone and its neighbours commit. One fsync then
// acknowledges the whole group.
func (s *SQLite) saveGroup(ctx context.Context, jobs []*saveJob) {
	// Envelope id encoders first: loading a tenant's key may need the writer.
	encoders := make([]func(int64) string, len(jobs))
	pending := jobs[:0:0]
	for i, j := range jobs {
		enc, err := s.ids.encoder(ctx, j.env.TenantID)
		if err != nil {
			j.err = translateSQLite(err)
			s.health.observe(j.err)
			continue
		}
		encoders[i] = enc
		pending = append(pending, j)
	}
	if len(pending) == 0 {
		return
	}
	s.stmts.prepare(ctx, s.w)
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for i, j := range jobs {
			if encoders[i] == nil {
				continue
			}
			if err := s.saveInSavepoint(ctx, tx, j, encoders[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.commits.committed()
	}
	for _, j := range pending {
		if j.err == nil && err != nil {
			j.res, j.err = SaveResult{}, err
		}
	}
}

// saveInSavepoint stores one job's envelope, setting its outcome; the error
// returned is for the whole transaction (a savepoint that cannot be handled).
func (s *SQLite) saveInSavepoint(ctx context.Context, tx *sql.Tx, j *saveJob, envID func(int64) string) error {
	if _, err := s.stmts.exec(ctx, tx, savepointSQL); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	res, err := s.saveEnvelope(ctx, tx, j.env, envID)
	if err != nil {
		j.err = translateSQLite(err)
		if _, rerr := s.stmts.exec(ctx, tx, rollbackToSQL); rerr != nil {
			return fmt.Errorf("rollback to savepoint: %w", rerr)
		}
	} else {
		j.res = res
	}
	if _, err := s.stmts.exec(ctx, tx, releaseSQL); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
