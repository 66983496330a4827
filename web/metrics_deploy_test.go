package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lrs-dev/lrs/internal/promtest"
)

// fromPrometheus are series that Prometheus makes itself for every target.
var fromPrometheus = map[string]bool{"up": true, "scrape_duration_seconds": true}

// TestDeployMetricsExist parses deploy/prometheus/alerts.yml as Prometheus
// loads rule files, and every query of deploy/grafana/lrs-dashboard.json as
// PromQL, then checks that every metric they select is in a scrape of lrs
// after a workload that touches every metric.
func TestDeployMetricsExist(t *testing.T) {
	used := map[string][]string{} // metric → where it is used
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.ParseFile("../deploy/prometheus/alerts.yml", false, model.UTF8Validation, p, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups in deploy/prometheus/alerts.yml")
	}
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			selected(t, p, r.Expr, "alert "+r.Alert, used)
		}
	}
	for _, want := range []string{"LRSNotReady", "LRSIngestRefusalSpike", "LRSServerErrors", "LRSPoolSaturated"} {
		if !alerts[want] {
			t.Errorf("alerts.yml has no %s", want)
		}
	}

	raw, err := os.ReadFile("../deploy/grafana/lrs-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("lrs-dashboard.json: %v", err)
	}
	grafanaVars := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")
	labelValues := regexp.MustCompile(`^label_values\((\w+),\s*\w+\)$`)
	exprs := 0
	walkJSON(dash, "", func(path, key, value string) {
		switch {
		case key == "expr":
			exprs++
			selected(t, p, grafanaVars.Replace(value), "dashboard "+path, used)
		case key == "query" && strings.HasPrefix(value, "label_values("):
			m := labelValues.FindStringSubmatch(value)
			if m == nil {
				t.Errorf("dashboard %s: cannot read %q", path, value)
				return
			}
			used[m[1]] = append(used[m[1]], "dashboard "+path)
		}
	})
	if exprs < 10 {
		t.Fatalf("the dashboard has %d queries", exprs)
	}

	f := scrapeAfterWorkload(t)
	var names []string
	for name := range used {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !fromPrometheus[name] && !f.Has(name) {
			t.Errorf("%s (used by %s) is not a metric of lrs", name, strings.Join(used[name], ", "))
		}
	}
}

// selected parses expr and records the metric of every selector in it.
func selected(t *testing.T, p parser.Parser, expr, where string, used map[string][]string) {
	t.Helper()
	node, err := p.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %v\n%s", where, err, expr)
		return
	}
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			t.Errorf("%s: a selector without a metric name: %s", where, vs)
			return nil
		}
		used[name] = append(used[name], where)
		return nil
	})
}

// walkJSON calls fn for every string value, with the path of its object.
func walkJSON(v any, path string, fn func(path, key, value string)) {
	switch x := v.(type) {
	case map[string]any:
		if title, ok := x["title"].(string); ok {
			path += "/" + title
		}
		for k, child := range x {
			if s, ok := child.(string); ok {
				fn(path, k, s)
				continue
			}
			walkJSON(child, path, fn)
		}
	case []any:
		for _, child := range x {
			walkJSON(child, path, fn)
		}
	}
}

// scrapeAfterWorkload posts envelopes (stored, duplicate, refused) and reads
// one back, so that every labelled metric has a series, then scrapes.
func scrapeAfterWorkload(t *testing.T) promtest.Families {
	t.Helper()
	b, metrics := metricsSetup(t, "sqlite", 0)
	token := newToken(t, b.db, "t1")
	id := uuid.NewString()
	for _, body := range [][]byte{envelope(event(id)), envelope(event(id)), envelope(event(uuid.NewString(), "action", `"Nope"`))} {
		b.post(t, token, "application/json", body)
	}
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	return promtest.Scrape(t, metrics)
}
