package store

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/internal/hll"
)

// DistinctActors, as StatsQuery.Distinct, counts distinct actors instead of events.
const DistinctActors = "actor"

// StatsQuery is a grouped count of a tenant's events.
type StatsQuery struct {
	Filter EventFilter
	By     []string // one or two of query.StatDimensions
	Limit  int
	// Distinct is "" to count events, DistinctActors to count actors.
	Distinct string
	// Scan answers from the events alone, never from roll-ups.
	Scan bool
}

// StatsAnswer is the answer to a StatsQuery.
type StatsAnswer struct {
	Rows []StatRow
	// Source is "rollup" (roll-ups up to their position plus a scan of
	// the events after it) or "scan".
	Source string
	// Approximate: counts are HyperLogLog estimates (hll.StdError).
	Approximate bool
}

// Stats sources.
const (
	SourceRollup = "rollup"
	SourceScan   = "scan"
)

// statsQuery builds the grouped count for the dimensions by (query's
// vocabulary) in c's dialect: largest groups first (ties by key), or
// chronological when a dimension is a time. distinct counts distinct
// actors instead of rows.
func statsQuery(c *conditions, by []string, limit int, distinct bool) (string, error) {
	exprs, err := statExprs(c.d, by)
	if err != nil {
		return "", err
	}
	measure := "count(*)"
	if distinct {
		// Groups with no actor at all are left out, as the sketches do.
		measure = "count(DISTINCT e.actor_id)"
		c.add("e.actor_id IS NOT NULL")
	}
	return "SELECT " + strings.Join(exprs, ", ") + ", " + measure + "\nFROM events e\nWHERE " + c.sql() +
		"\nGROUP BY " + groupList(len(by)) + "\nORDER BY " + statsOrder(by, measure) + "\nLIMIT " + c.arg(limit), nil
}

// rollupStatsQuery counts like statsQuery from a count roll-up table: its
// rows up to the tenant's position, plus the events stored after it.
func rollupStatsQuery(d dialect, table string, f EventFilter, by []string, limit int, pos Position) (string, []any, error) {
	c := &conditions{d: d}
	c.add("r.tenant_id = " + c.arg(f.TenantID))
	c.anyOf("r.action", f.Actions)
	c.anyOf("r.type", f.Types)
	c.anyOf("r.profile", f.Profiles)
	if f.Since != nil {
		c.add("r.bucket >= " + c.time(*f.Since))
	}
	if f.Until != nil {
		c.add("r.bucket < " + c.time(*f.Until))
	}
	rollupWhere := c.sql()
	c.where = nil
	c.filter(f)
	c.tailAfter(pos)
	// Groups are summed by raw bucket, and only the result formatted: a
	// year of daily rows formats 365 keys, not every row.
	var rExprs, eExprs, outer, keys []string
	for i, dim := range by {
		expr, ok := d.stats[dim]
		if !ok {
			return "", nil, fmt.Errorf("stats: unknown dimension %q", dim)
		}
		key := "k" + strconv.Itoa(i+1)
		keys = append(keys, key)
		if trunc, isTime := d.truncate[dim]; isTime {
			bucket := "r.bucket"
			if dim == "day" && table == "rollup_hourly" {
				bucket = strings.ReplaceAll(trunc, "e.event_time", "r.bucket")
			}
			rExprs = append(rExprs, bucket+" AS "+key)
			eExprs = append(eExprs, trunc)
			outer = append(outer, strings.ReplaceAll(expr, "e.event_time", key))
			continue
		}
		rExprs = append(rExprs, strings.ReplaceAll(expr, "e.", "r.")+" AS "+key)
		eExprs = append(eExprs, expr)
		outer = append(outer, key)
	}
	groups := groupList(len(by))
	order := "sum(n) DESC, " + strings.Join(keys, ", ")
	if slices.Contains(by, "day") || slices.Contains(by, "hour") {
		order = strings.Join(keys, ", ")
	}
	sql := "SELECT " + strings.Join(outer, ", ") + ", sum(n)\nFROM (\n" +
		"SELECT " + strings.Join(rExprs, ", ") + ", sum(r.count) AS n\nFROM " + table + " r\nWHERE " + rollupWhere + "\nGROUP BY " + groups +
		"\nUNION ALL\n" +
		"SELECT " + strings.Join(eExprs, ", ") + ", count(*)\nFROM events e\nWHERE " + c.sql() + "\nGROUP BY " + groups +
		"\n) x\nGROUP BY " + strings.Join(keys, ", ") + "\nORDER BY " + order + "\nLIMIT " + c.arg(limit)
	return sql, c.args, nil
}

// tailAfter selects the events stored after pos (SQLite: seq alone, as
// insert order is commit order there).
func (c *conditions) tailAfter(pos Position) {
	if c.d.numbered {
		c.add("(e.tx, e.seq) > (" + c.arg(strconv.FormatUint(pos.Tx, 10)) + "::text::xid8, " + c.arg(pos.Seq) + ")")
		return
	}
	c.add("e.seq > " + c.arg(pos.Seq))
}

// statExprs are the SQL of each dimension on events.
func statExprs(d dialect, by []string) ([]string, error) {
	exprs := make([]string, len(by))
	for i, dim := range by {
		expr, ok := d.stats[dim]
		if !ok {
			return nil, fmt.Errorf("stats: unknown dimension %q", dim)
		}
		exprs[i] = expr
	}
	return exprs, nil
}

func groupList(n int) string {
	g := make([]string, n)
	for i := range g {
		g[i] = strconv.Itoa(i + 1)
	}
	return strings.Join(g, ", ")
}

// statsOrder: chronological when a dimension is a time, else largest first.
func statsOrder(by []string, measure string) string {
	if slices.Contains(by, "day") || slices.Contains(by, "hour") {
		return groupList(len(by))
	}
	return measure + " DESC, " + groupList(len(by))
}

// actorSketches is what the actor roll-up answer is made of: the stored
// sketches of the days asked and the events stored after the position.
type actorSketches struct {
	days map[time.Time]*hll.Sketch
}

func (a *actorSketches) add(day time.Time, s *hll.Sketch) {
	if a.days == nil {
		a.days = map[time.Time]*hll.Sketch{}
	}
	if cur := a.days[day]; cur != nil {
		cur.Merge(s)
	} else {
		a.days[day] = s
	}
}

func (a *actorSketches) addActor(day time.Time, actor string) {
	s := a.days[day]
	if s == nil {
		s = new(hll.Sketch)
		a.add(day, s)
	}
	s.Add(actor)
}

// rows are the estimates by day, chronological, at most limit.
func (a *actorSketches) rows(limit int) []StatRow {
	days := make([]time.Time, 0, len(a.days))
	for d := range a.days {
		days = append(days, d)
	}
	slices.SortFunc(days, func(x, y time.Time) int { return cmp.Compare(x.UnixMicro(), y.UnixMicro()) })
	if len(days) > limit {
		days = days[:limit]
	}
	out := make([]StatRow, len(days))
	for i, d := range days {
		key := d.Format("2006-01-02")
		out[i] = StatRow{Keys: []*string{&key}, Count: a.days[d].Estimate()}
	}
	return out
}
