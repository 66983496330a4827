package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// setupForward serves the API with forwarders over a fresh store; it
// returns admin tokens of tenants t1 and t2.
func setupForward(t *testing.T, kind string) (*bundle, string, string) {
	t.Helper()
	db := storetest.Open(t, kind)
	ctx := context.Background()
	k1, admin1, err := db.CreateKey(ctx, "t1", "admin", []string{store.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	_, admin2, err := db.CreateKey(ctx, "t2", "admin", []string{store.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{kind: kind, db: db, tenant: k1.TenantID}
	d := b.deps()
	d.Forward = liveForwarding(db)
	b.srv = httptest.NewServer(web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 64 << 10}, slog.New(slog.NewTextHandler(io.Discard, nil)), d))
	t.Cleanup(b.srv.Close)
	return b, admin1, admin2
}

// TestForwardersAPI: created, listed, changed and deleted by the tenant's
// admin key only; credentials never come back; bad bodies name the field
// and store nothing.
func TestForwardersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b, admin, other := setupForward(t, kind)
		status, body := b.call(t, "POST", "/api/v1/forwarders", admin,
			`{"kind":"caliper","url":"https://lrs.example.edu/caliper","token":"very-secret-token","filter":"action=Viewed&course=c1","batch":20}`)
		if status != 201 || strings.Contains(string(body), "very-secret-token") {
			t.Fatalf("create: %d %s", status, body)
		}
		var f struct {
			ID     int64
			Auth   struct{ Token bool }
			Status struct {
				State    string
				Position string
			}
			Filter string
			Batch  int
		}
		if err := json.Unmarshal(body, &f); err != nil || !f.Auth.Token || f.Batch != 20 || f.Status.State != "waiting" || f.Status.Position == "" || f.Filter != "action=Viewed&course=c1" {
			t.Fatalf("created %s %v", body, err)
		}
		for _, bad := range []struct{ body, field string }{
			{`{"kind":"caliper","url":"ftp://x"}`, "url"},
			{`{"kind":"smtp","url":"https://x.example"}`, "kind"},
			{`{"kind":"webhook","url":"https://x.example"}`, "secret"},
			{`{"kind":"caliper","url":"https://x.example","filter":"colour=red"}`, "filter"},
			{`{"kind":"caliper","url":"https://x.example","from":"yesterday"}`, "from"},
			{`{"kind":"caliper","url":"https://x.example","token":"a","header":"X-Key: b"}`, "header"},
			{`{"kind":"caliper","url":"https://x.example","header":"no colon"}`, "header"},
			{`{"kind":"caliper","url":"https://x.example","batch":5000}`, "batch"},
			{`{"kind":"caliper","url":"https://x.example","maxWait":"forever"}`, "maxWait"},
			{`{"kind":"caliper","url":"https://x.example","retries":3}`, "retries"},
		} {
			status, body := b.call(t, "POST", "/api/v1/forwarders", admin, bad.body)
			var p struct{ Problems []struct{ Path string } }
			if status != 400 || json.Unmarshal(body, &p) != nil || len(p.Problems) != 1 || p.Problems[0].Path != bad.field {
				t.Errorf("%s: %d %s, want 400 naming %s", bad.body, status, body, bad.field)
			}
		}
		if list, _ := b.db.Forwarders(context.Background(), 0); len(list) != 1 {
			t.Fatalf("refused bodies stored forwarders: %d", len(list))
		}
		path := "/api/v1/forwarders/" + jsonNumber(f.ID)
		if status, _ := b.call(t, "GET", path, other, ""); status != 404 {
			t.Fatalf("another tenant's admin reads it: %d", status)
		}
		if status, body := b.call(t, "GET", "/api/v1/forwarders", other, ""); status != 200 || !strings.Contains(string(body), `"forwarders":[]`) {
			t.Fatalf("another tenant's list: %d %s", status, body)
		}
		status, body = b.call(t, "PATCH", path, admin, `{"paused":true,"header":"X-Api-Key: k","token":""}`)
		if status != 200 || !strings.Contains(string(body), `"state":"paused"`) || !strings.Contains(string(body), `"header":"X-Api-Key"`) || strings.Contains(string(body), `"k"`) {
			t.Fatalf("patch: %d %s", status, body)
		}
		if status, body := b.call(t, "PATCH", path, admin, `{"kind":"webhook"}`); status != 400 || !strings.Contains(string(body), "kind") {
			t.Fatalf("patch kind: %d %s", status, body)
		}
		if status, _ := b.call(t, "DELETE", path, other, ""); status != 404 {
			t.Fatalf("another tenant deletes it: %d", status)
		}
		if status, _ := b.call(t, "DELETE", path, admin, ""); status != 204 {
			t.Fatalf("delete: %d", status)
		}
		if status, _ := b.call(t, "GET", path, admin, ""); status != 404 {
			t.Fatalf("deleted, read: %d", status)
		}
	})
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }
