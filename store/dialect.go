package store

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lrs-dev/lrs/migrations"
)

// dialect is what differs between the backends' SQL: one value per backend,
// read by the shared builders instead of switching on the backend here and
// there.
type dialect struct {
	name string
	// positional placeholders ($1, $2, …) rather than ?
	numbered bool
}

var (
	postgres      = dialect{name: "postgres", numbered: true}
	sqliteDialect = dialect{name: "sqlite"}
)

// migrations returns the embedded migrations of the dialect and their folder.
func (d dialect) migrations() (fs.FS, string) {
	if d.numbered {
		return migrations.Postgres, "postgres"
	}
	return migrations.SQLite, "sqlite"
}

// isUndefinedTable reports a query on a table that does not exist.
func (d dialect) isUndefinedTable(err error) bool {
	if err == nil {
		return false
	}
	if d.numbered {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && pgErr.Code == "42P01"
	}
	return strings.Contains(err.Error(), "no such table")
}
