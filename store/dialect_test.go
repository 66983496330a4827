package store

import (
	"testing"
	"time"
)

// TestFilterSQL pins the SQL one filter becomes in each dialect.
func TestFilterSQL(t *testing.T) {
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	f := EventFilter{TenantID: 7, Actors: []string{"a", "b"}, Actions: []string{"Viewed"}, Since: &at,
		Contains: [][]byte{[]byte(`{"x":1}`)}}
	for _, c := range []struct {
		d         dialect
		sql       string
		args      int
		timeValue any
	}{
		{postgres, "e.tenant_id = $1\n  AND e.actor_id = ANY($2::text[])\n  AND e.action = $3\n  AND e.event_time >= $4\n  AND (e.data @> $5::jsonb)", 5, at},
		{sqliteDialect, "e.tenant_id = ?\n  AND e.actor_id IN (?, ?)\n  AND e.action = ?\n  AND e.event_time >= ?\n  AND (lrs_json_contains(e.data, ?))", 6, at.UnixMicro()},
	} {
		t.Run(c.d.name, func(t *testing.T) {
			got := filterConditions(f, c.d)
			if got.sql() != c.sql {
				t.Errorf("sql:\n%s\nwant:\n%s", got.sql(), c.sql)
			}
			if len(got.args) != c.args {
				t.Fatalf("%d args, want %d: %v", len(got.args), c.args, got.args)
			}
			if tv := got.args[c.args-2]; tv != c.timeValue {
				t.Errorf("time argument %v (%T), want %v", tv, tv, c.timeValue)
			}
		})
	}
}

// TestStatsSQLUnknown: a dimension without SQL is an error, not a query.
func TestStatsSQLUnknown(t *testing.T) {
	for _, d := range []dialect{postgres, sqliteDialect} {
		if _, err := statsQuery(filterConditions(EventFilter{TenantID: 1}, d), []string{"week"}, 10, false); err == nil {
			t.Errorf("%s: no error", d.name)
		}
		if _, err := statsQuery(filterConditions(EventFilter{TenantID: 1}, d), []string{"day", "action"}, 10, false); err != nil {
			t.Errorf("%s: %v", d.name, err)
		}
	}
}
