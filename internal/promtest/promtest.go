// Package promtest reads a Prometheus text exposition in tests: scrape an
// endpoint, then ask for a metric's value summed over the series whose labels
// match.
package promtest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are the metric families of one scrape, by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs url and parses the text format; any failure fails t.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("scrape %s: %s\n%s", url, res.Status, b)
	}
	return Parse(t, res.Body)
}

// Parse reads a text exposition.
func Parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// Value is the sum of name over every series whose labels include labels
// (pairs: "tenant", "t1", …). A histogram is read through its series names:
// NAME_count and NAME_sum. A name that is not there at all fails t (a vector
// with no series yet is not there: use Sum); one with no matching series is 0.
func (f Families) Value(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	v, ok := f.sum(name, labels)
	if !ok {
		t.Fatalf("no metric %s in the scrape", name)
	}
	return v
}

// Has reports whether name is in the scrape: a family, a histogram's
// NAME_count, NAME_sum or NAME_bucket, or a summary's NAME_count or NAME_sum.
func (f Families) Has(name string) bool {
	if f[name] != nil {
		return true
	}
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok || f[base] == nil {
			continue
		}
		switch f[base].GetType() {
		case dto.MetricType_HISTOGRAM:
			return true
		case dto.MetricType_SUMMARY:
			return suffix != "_bucket"
		}
	}
	return false
}

// Sum is Value with 0 for a name that is not there.
func (f Families) Sum(name string, labels ...string) float64 {
	v, _ := f.sum(name, labels)
	return v
}

func (f Families) sum(name string, labels []string) (float64, bool) {
	fam, part := f[name], ""
	if fam == nil {
		for _, suffix := range []string{"_count", "_sum"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && f[base] != nil {
				fam, part = f[base], suffix
			}
		}
	}
	if fam == nil {
		return 0, false
	}
	sum := 0.0
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		case m.Histogram != nil && part == "_count":
			sum += float64(m.Histogram.GetSampleCount())
		case m.Histogram != nil && part == "_sum":
			sum += m.Histogram.GetSampleSum()
		}
	}
	return sum, true
}

// LabelValues lists the values label takes in name's series.
func (f Families) LabelValues(name, label string) []string {
	var out []string
	if fam := f[name]; fam != nil {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out = append(out, l.GetValue())
				}
			}
		}
	}
	return out
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
