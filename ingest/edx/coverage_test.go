package edx

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
)

// TestCoverageOfMixedLog transforms a synthetic log spanning an
// installation's history (40% of lines in the shape of 2013, the rest
// current; ingest/synth) and logs the share of lines mapped, unmapped by
// name and refused by reason: docs/edx-mapping.md, "Coverage", has the
// table. Every mapped line must pass strict validation, name its course in
// the current form, and refusals must stay the rare broken lines.
func TestCoverageOfMixedLog(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	v := caliper.NewValidator(caliper.Strict)
	g := synth.New(synth.Population{Actors: 5000, Courses: 50, Objects: 2000,
		Start: time.Date(2013, 1, 1, 0, 0, 0, 0, time.UTC), Span: 365 * 24 * time.Hour}, 1)
	const n = 20000
	sum := NewSummary()
	for i := 1; i <= n; i++ {
		res := tr.Transform(g.EdxMixedLine(0.4))
		sum.Add(i, res)
		for _, ev := range res.Events {
			b, _ := json.Marshal(ev)
			if _, err := v.CheckDocument(b); err != nil {
				t.Fatalf("line %d (%s): invalid Caliper: %v\n%s", i, res.Name, err, b)
			}
			if grp, _ := ev["group"].(map[string]any); grp != nil && !strings.Contains(str(grp["id"]), "/course/course-v1:") {
				t.Fatalf("line %d: course %v not in the current form", i, grp["id"])
			}
		}
	}
	unmapped := n - sum.Mapped - sum.SkippedAnonymous - sum.ErrorCount
	pct := func(k int) float64 { return 100 * float64(k) / n }
	t.Logf("%d lines: mapped %.1f%%, unmapped by name %.1f%%, anonymous %.1f%%, refused %.1f%%",
		n, pct(sum.Mapped), pct(unmapped), pct(sum.SkippedAnonymous), pct(sum.ErrorCount))
	for _, part := range []struct {
		what   string
		counts map[string]int
	}{{"unmapped", sum.Unknown}, {"refused", sum.Reasons}} {
		names := make([]string, 0, len(part.counts))
		for k := range part.counts {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool { return part.counts[names[i]] > part.counts[names[j]] })
		for _, k := range names {
			t.Logf("  %-8s %5.2f%%  %s", part.what, pct(part.counts[k]), k)
		}
	}
	if pct(sum.ErrorCount) > 1 || pct(sum.Mapped) < 60 {
		t.Errorf("coverage fell: mapped %.1f%%, refused %.1f%%", pct(sum.Mapped), pct(sum.ErrorCount))
	}
}
