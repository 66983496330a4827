package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/internal/promtest"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// limitSetup is a server with rate limits over a fresh store, and the URL of its metrics.
func limitSetup(t *testing.T, kind string, rl web.RateLimits) (*bundle, string) {
	t.Helper()
	b := &bundle{kind: kind, db: storetest.Open(t, kind), maxBody: 64 << 10}
	m := web.NewMetrics(0)
	d := b.deps()
	d.Metrics = m
	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: b.maxBody, RateLimits: rl}, slog.New(slog.NewTextHandler(io.Discard, nil)), d)
	b.srv = httptest.NewServer(srv)
	t.Cleanup(b.srv.Close)
	admin := httptest.NewServer(web.AdminHandler(m))
	t.Cleanup(admin.Close)
	return b, admin.URL + "/metrics"
}

// events is an envelope of n new events.
func events(n int) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = event(uuid.NewString())
	}
	return envelope(items...)
}

// problemOf reads a problem body.
func problemOf(t *testing.T, res *http.Response) web.Problem {
	t.Helper()
	var p web.Problem
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
		t.Fatalf("status %d, body not a problem: %v", res.StatusCode, err)
	}
	return p
}

func want429(t *testing.T, res *http.Response, limit, retryAfter string, detail ...string) {
	t.Helper()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", res.StatusCode)
	}
	if got := res.Header.Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	p := problemOf(t, res)
	if p.Type != "https://lrs.dev/problems/rate-limited" || p.Limit != limit {
		t.Errorf("problem %s limit %q, want rate-limited, %q", p.Type, p.Limit, limit)
	}
	for _, d := range detail {
		if !strings.Contains(p.Detail, d) {
			t.Errorf("detail %q lacks %q", p.Detail, d)
		}
	}
}

// TestRateLimitEvents: a key's events bucket admits an envelope while it is
// not empty and charges all its events; the next envelope gets 429 with the
// Retry-After after which it passes. A key's own limit overrides the default.
func TestRateLimitEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		b, metrics := limitSetup(t, kind, web.RateLimits{EventsPerSec: 4})
		token := newToken(t, b.db, "t1")
		if res := b.post(t, token, "application/json", events(5)); res.StatusCode != http.StatusOK {
			t.Fatalf("first envelope: %d", res.StatusCode)
		}
		before := b.counts(t)
		// 4 tokens − 5 events = −1: a whole token again after 0.5 s.
		want429(t, b.post(t, token, "application/json", events(1)), "events", "1", "4 events/s", "--rate-limit")
		if after := b.counts(t); after != before {
			t.Errorf("a refused envelope stored rows: %v → %v", before, after)
		}
		time.Sleep(time.Second)
		if res := b.post(t, token, "application/json", events(1)); res.StatusCode != http.StatusOK {
			t.Fatalf("after Retry-After: %d", res.StatusCode)
		}

		// Own limits: 0 lifts it, 1 event/s replaces the default.
		keys := map[string]float64{"free": 0, "slow": 1}
		tokens := map[string]string{}
		for name, limit := range keys {
			k, tok, err := b.db.CreateKey(ctx, name, "", []string{store.ScopeWrite})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.db.SetKeyRateLimit(ctx, k.ID, &limit); err != nil {
				t.Fatal(err)
			}
			tokens[name] = tok
		}
		for range 3 {
			if res := b.post(t, tokens["free"], "application/json", events(10)); res.StatusCode != http.StatusOK {
				t.Fatalf("unlimited key: %d", res.StatusCode)
			}
		}
		if res := b.post(t, tokens["slow"], "application/json", events(3)); res.StatusCode != http.StatusOK {
			t.Fatalf("slow key, first: %d", res.StatusCode)
		}
		// 1 − 3 = −2: three seconds at 1 event/s.
		want429(t, b.post(t, tokens["slow"], "application/json", events(1)), "events", "3", "1 events/s", "lrs keys create --rate-limit")

		f := promtest.Scrape(t, metrics)
		if got := f.Value(t, "lrs_rate_limited_total", "limit", "events"); got != 2 {
			t.Errorf("lrs_rate_limited_total{limit=events} = %v, want 2", got)
		}
		if got := f.Value(t, "lrs_envelopes_refused_total", "problem", "rate-limited"); got != 2 {
			t.Errorf("refused as rate-limited: %v, want 2", got)
		}
	})
}

// TestRateLimitRequests: requests per key, and per client IP for requests
// without a valid key; probes are never limited.
func TestRateLimitRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b, metrics := limitSetup(t, kind, web.RateLimits{RequestsPerSec: 1, AnonymousPerSec: 1})
		token := newToken(t, b.db, "t1")
		get := func(path, token string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { res.Body.Close() })
			return res
		}
		if res := get("/api/v1/events", token); res.StatusCode != http.StatusOK {
			t.Fatalf("first read: %d", res.StatusCode)
		}
		want429(t, get("/api/v1/events", token), "requests", "1", "1 requests/s", "--rate-limit-requests")

		for range 3 {
			if res := get("/healthz", ""); res.StatusCode != http.StatusOK {
				t.Fatalf("/healthz: %d", res.StatusCode)
			}
		}
		if res := get("/caliper", ""); res.StatusCode != http.StatusOK {
			t.Fatalf("GET /caliper: %d", res.StatusCode)
		}
		want429(t, get("/caliper", ""), "anonymous", "1", "127.0.0.1", "--rate-limit-ip")
		// An unknown token is anonymous too: the bucket of 127.0.0.1 is empty.
		want429(t, b.post(t, "lrs_nope", "application/json", events(1)), "anonymous", "1")
		time.Sleep(time.Second)
		if res := b.post(t, "lrs_nope", "application/json", events(1)); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown token after the wait: %d, want 401", res.StatusCode)
		}

		f := promtest.Scrape(t, metrics)
		for limit, want := range map[string]float64{"requests": 1, "anonymous": 2} {
			if got := f.Value(t, "lrs_rate_limited_total", "limit", limit); got != want {
				t.Errorf("lrs_rate_limited_total{limit=%s} = %v, want %v", limit, got, want)
			}
		}
	})
}
