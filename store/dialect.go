package store

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lrs-dev/lrs/migrations"
)

// dialect is what differs between the backends' SQL: one value per backend,
// read by the shared builders (filterConditions, statsQuery) instead of
// switching on the backend here and there.
type dialect struct {
	name string
	// positional placeholders ($1, $2, …) rather than ?
	numbered bool
	// any-of as "= ANY($n::text[])" with one array argument, rather than
	// "IN (?, ?, …)" with one argument a value
	arrays bool
	// times stored as integer microseconds since the epoch (UTC), rather
	// than as timestamptz
	unixMicros bool
	// contains is the JSON containment test of e.data against one
	// argument, a format with %s for its placeholder (jsonb's @> on
	// PostgreSQL, the same rules in Go on SQLite: see json.go)
	contains string
	// stats gives the SQL of each dimension events are counted by; the
	// names are query's vocabulary (query.StatDimensions)
	stats map[string]string
	// truncate gives, for the time dimensions, the event time truncated
	// to its UTC bucket in the type the roll-up tables keep (what
	// newRollupDelta computes in Go)
	truncate map[string]string
}

var (
	postgres = dialect{
		name: "postgres", numbered: true, arrays: true,
		contains: "e.data @> %s::jsonb",
		stats: map[string]string{
			"action": "e.action",
			"type":   "e.type",
			"object": "e.object_id",
			"actor":  "e.actor_id",
			"course": "e.group_id",
			"day":    "to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
			"hour":   "to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')",
		},
		truncate: map[string]string{
			"day":  "(date_trunc('day', e.event_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
			"hour": "(date_trunc('hour', e.event_time AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
		},
	}
	sqliteDialect = dialect{
		name: "sqlite", unixMicros: true,
		contains: "lrs_json_contains(e.data, %s)",
		stats: map[string]string{
			"action": "e.action",
			"type":   "e.type",
			"object": "e.object_id",
			"actor":  "e.actor_id",
			"course": "e.group_id",
			"day":    "strftime('%Y-%m-%d', e.event_time / 1000000, 'unixepoch')",
			"hour":   "strftime('%Y-%m-%dT%H:00:00Z', e.event_time / 1000000, 'unixepoch')",
		},
		// Floor, not SQLite's truncation toward zero, for times before 1970.
		truncate: map[string]string{
			"day":  "(e.event_time - ((e.event_time % 86400000000) + 86400000000) % 86400000000)",
			"hour": "(e.event_time - ((e.event_time % 3600000000) + 3600000000) % 3600000000)",
		},
	}
)

// placeholder is the SQL for the n-th argument (from 1).
func (d dialect) placeholder(n int) string {
	if d.numbered {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// timeValue is t as the dialect's time columns hold it.
func (d dialect) timeValue(t time.Time) any {
	if d.unixMicros {
		return t.UnixMicro()
	}
	return t
}

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
