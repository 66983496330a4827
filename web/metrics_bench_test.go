package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// BenchmarkMetricsPerEnvelope is what the metrics add to one POST /caliper
// that stores an envelope: the request histogram (through the middleware),
// the envelope's size, events and validation time, the store time and the
// tenant's three counters. Compare with BenchmarkIngest's time per envelope
// (docs/metrics.md, "Overhead").
//
//	go test ./web -run '^$' -bench MetricsPerEnvelope
func BenchmarkMetricsPerEnvelope(b *testing.B) {
	m := NewMetrics(0)
	e := echo.New()
	h := m.observe(func(c echo.Context) error {
		m.received(40_000, 100, time.Millisecond)
		m.saved("uni", 100, 0, 2*time.Millisecond, true)
		return c.NoContent(http.StatusOK)
	})
	req := httptest.NewRequest(http.MethodPost, "/caliper", nil)
	b.ReportAllocs()
	for b.Loop() {
		c := e.NewContext(req, httptest.NewRecorder())
		c.SetPath("/caliper")
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
}
