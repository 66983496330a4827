package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// catchUpRollups runs the roll-up worker until it has added every stored
// event, and says how long that took.
func catchUpRollups(ctx context.Context, db store.Backend, stdout io.Writer) error {
	start := time.Now()
	total := 0
	for {
		n, err := db.Rollup(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		total += n
	}
	if d := time.Since(start); total > 0 {
		fmt.Fprintf(stdout, "roll-up worker: %d events added in %s (%.0f events/s)\n\n", total, d.Round(time.Millisecond), float64(total)/d.Seconds())
	}
	return nil
}

// rollupReport checks the tenant-wide answers the roll-ups gave against a
// scan of the events, and times the scan.
func (b *benchClient) rollupReport(ctx context.Context, db store.Backend, tenantID int64, stdout io.Writer) error {
	fmt.Fprintln(stdout, "\n| tenant-wide stats | source | scan p50 ms (3 runs) | roll-up answer against the scan |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, c := range []struct {
		path     string
		by       string
		distinct string
	}{
		{"/api/v1/stats?by=action", "action", ""},
		{"/api/v1/stats?by=day&limit=400", "day", ""},
		{"/api/v1/stats?by=day&count=actors&limit=400", "day", store.DistinctActors},
	} {
		body, _, err := b.get(ctx, c.path)
		if err != nil {
			return err
		}
		var ans struct {
			Source string
			Groups []map[string]any
		}
		if err := json.Unmarshal(body, &ans); err != nil {
			return err
		}
		q := store.StatsQuery{Filter: store.EventFilter{TenantID: tenantID}, By: []string{c.by}, Limit: 401, Distinct: c.distinct, Scan: true}
		var lat latencies
		var exact store.StatsAnswer
		for range 3 {
			start := time.Now()
			if exact, err = db.Stats(ctx, q); err != nil {
				return err
			}
			lat = append(lat, time.Since(start))
		}
		want := map[string]int64{}
		for _, r := range exact.Rows {
			if r.Keys[0] != nil {
				want[*r.Keys[0]] = r.Count
			}
		}
		worst, mismatches := 0.0, 0
		for _, g := range ans.Groups {
			key, _ := g[c.by].(string)
			got := int64(g["count"].(float64))
			if got != want[key] {
				mismatches++
			}
			if w := want[key]; w > 0 {
				worst = math.Max(worst, math.Abs(float64(got-w))/float64(w))
			}
		}
		verdict := fmt.Sprintf("%d groups, all equal", len(ans.Groups))
		if len(ans.Groups) != len(want) || (c.distinct == "" && mismatches > 0) {
			verdict = fmt.Sprintf("**differs**: %d groups against %d, %d unequal", len(ans.Groups), len(want), mismatches)
		} else if c.distinct != "" {
			verdict = fmt.Sprintf("%d groups, largest error %.2f %%", len(ans.Groups), 100*worst)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s |\n", c.path, ans.Source, ms(lat.pct(50)), verdict)
	}
	return nil
}
