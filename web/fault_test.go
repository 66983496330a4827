package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
	"github.com/lrs-dev/lrs/web"
)

// setupProxied starts a server whose writes and reads go to PostgreSQL
// through a proxy the test can break; keys are checked over a direct
// connection, so that requests get as far as the store.
func setupProxied(t *testing.T) (*bundle, *pgtest.Proxy, store.Backend) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	direct, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(direct.Close)
	proxy, purl := pgtest.NewProxy(t, url)
	db, err := store.Open(ctx, purl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return serve(t, "postgres", direct, db), proxy, db
}

// serve starts a server over db with a write and read key of tenant t1,
// checking keys in keys.
func serve(t *testing.T, kind string, keys, db store.Backend) *bundle {
	t.Helper()
	key, token, err := keys.CreateKey(context.Background(), "t1", "test", []string{store.ScopeWrite, store.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{kind: kind, db: keys, token: token, tenant: key.TenantID, maxBody: 1 << 20}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: b.maxBody}, log, web.Deps{
		Ingest:  ingest.NewService(db, caliper.NewValidator(caliper.Strict)),
		Keys:    keys,
		Health:  db,
		Query:   query.NewService(db),
		Lookups: db,
	})
	b.srv = httptest.NewServer(srv)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) ready(t *testing.T) *http.Response {
	t.Helper()
	res, err := http.Get(b.srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// TestCommitOutcomeUnknown: the connection breaks after the server received
// COMMIT but before its answer arrived. The envelope is in fact stored; the
// answer must not claim otherwise, and the retry it invites must be safe.
func TestCommitOutcomeUnknown(t *testing.T) {
	b, proxy, _ := setupProxied(t)
	id := uuid.NewString()
	body := envelope(event(id))
	proxy.DropAfterCommit()
	res := b.post(t, b.token, "application/json", body)
	p := checkProblem(t, res, http.StatusServiceUnavailable, "", "may or may not have been stored")
	if p.Type != "https://lrs.dev/problems/outcome-unknown" {
		t.Errorf("problem type %q", p.Type)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if proxy.CommitsDropped() != 1 {
		t.Fatalf("the proxy cut %d commits, want 1", proxy.CommitsDropped())
	}
	if _, err := b.db.EventByID(context.Background(), b.tenant, uuid.MustParse(id)); err != nil {
		t.Fatalf("the committed event is not stored: %v", err)
	}
	// The retry stores nothing twice.
	res = b.post(t, b.token, "application/json", body, "Prefer", "return=representation")
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("retry: %d %s", res.StatusCode, raw)
	}
	if c := b.counts(t); c[1] != 1 {
		t.Errorf("%d events stored, want 1", c[1])
	}
}

// TestDatabaseDown: with PostgreSQL unreachable, writes and reads answer
// 503 with Retry-After, never 500.
func TestDatabaseDown(t *testing.T) {
	b, proxy, _ := setupProxied(t)
	if res := b.post(t, b.token, "application/json", envelope(event(uuid.NewString()))); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", res.StatusCode)
	}
	proxy.Stop()
	res := b.post(t, b.token, "application/json", envelope(event(uuid.NewString())))
	checkProblem(t, res, http.StatusServiceUnavailable, "", "nothing was stored")
	if res.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, res, http.StatusServiceUnavailable, "", "")
	res = b.ready(t)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Errorf("/readyz %d with the database down", res.StatusCode)
	}
}
