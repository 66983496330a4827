package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// call makes one request to b's server and returns the status and body.
func (b *bundle) call(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

type apiKey struct {
	ID         int64      `json:"id"`
	Tenant     string     `json:"tenant"`
	Label      string     `json:"label"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	Token      string     `json:"token"`
}

func (b *bundle) listKeys(t *testing.T, admin string) []apiKey {
	t.Helper()
	status, body := b.call(t, "GET", "/api/v1/keys", admin, "")
	var out struct{ Keys []apiKey }
	if err := json.Unmarshal(body, &out); status != 200 || err != nil {
		t.Fatalf("GET /api/v1/keys: %d %s", status, body)
	}
	return out.Keys
}

// TestKeysAPI: an admin key creates, lists and revokes its own tenant's keys;
// the secret is in the creating answer only; revocation and expiry take
// effect on the next request; other tenants' keys are out of reach.
func TestKeysAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		ctx := context.Background()
		_, admin, err := b.db.CreateKey(ctx, "t1", "ops", []string{store.ScopeAdmin})
		if err != nil {
			t.Fatal(err)
		}
		otherKey, _, err := b.db.CreateKey(ctx, "t2", "theirs", []string{store.ScopeAdmin})
		if err != nil {
			t.Fatal(err)
		}

		status, body := b.call(t, "POST", "/api/v1/keys", admin, `{"label":"sensor A","scopes":["write","write"]}`)
		var created apiKey
		if err := json.Unmarshal(body, &created); status != 201 || err != nil || !strings.HasPrefix(created.Token, "lrs_") ||
			created.Tenant != "t1" || created.Label != "sensor A" || len(created.Scopes) != 1 || created.ExpiresAt != nil {
			t.Fatalf("create: %d %s", status, body)
		}
		if res := b.post(t, created.Token, "application/json", envelope(event("5d0c6f4e-8f3a-4c61-9a8e-00000000aa01"))); res.StatusCode != 200 {
			t.Fatalf("the new key posts: %d", res.StatusCode)
		}

		keys := b.listKeys(t, admin)
		if len(keys) != 3 { // setup's write key, ops, sensor A
			t.Fatalf("t1 lists %d keys, want 3: %+v", len(keys), keys)
		}
		_, raw := b.call(t, "GET", "/api/v1/keys", admin, "")
		if bytes.Contains(raw, []byte(created.Token)) || bytes.Contains(raw, []byte(`"token"`)) || bytes.Contains(raw, []byte("theirs")) {
			t.Fatalf("the list shows a secret or another tenant's key: %s", raw)
		}
		if k := keys[2]; k.ID != created.ID || k.LastUsedAt == nil {
			t.Fatalf("the used key is listed %+v, want its last use", k)
		}

		// Refused, naming the field; nothing created.
		for _, bad := range []struct{ body, field string }{
			{`{"scopes":["write"],"colour":"red"}`, "colour"},
			{`{"scopes":["root"]}`, "scopes[0]"},
			{`{"scopes":[]}`, "scopes"},
			{`{"scopes":"write"}`, "scopes"},
			{`{"scopes":["read"],"expiresAt":"2001-01-01T00:00:00Z"}`, "expiresAt"},
			{`{"scopes":["read"],"expiresAt":"tomorrow"}`, "expiresAt"},
			{`{"scopes":["read"],"label":"` + strings.Repeat("x", 201) + `"}`, "label"},
			{`{"scopes":["read"],"rateLimit":-1}`, "rateLimit"},
		} {
			status, body := b.call(t, "POST", "/api/v1/keys", admin, bad.body)
			var p struct {
				Type     string
				Problems []struct{ Path string }
			}
			_ = json.Unmarshal(body, &p)
			if status != 400 || len(p.Problems) != 1 || p.Problems[0].Path != bad.field {
				t.Errorf("%s: %d %s, want 400 naming %s", bad.body, status, body, bad.field)
			}
		}
		for _, bad := range []string{`{"scopes":["read"]} {}`, `[1]`, `{`} {
			if status, body := b.call(t, "POST", "/api/v1/keys", admin, bad); status != 400 {
				t.Errorf("%s: %d %s, want 400", bad, status, body)
			}
		}
		if n := len(b.listKeys(t, admin)); n != 3 {
			t.Fatalf("refused bodies created keys: %d", n)
		}
		if status, _ := b.call(t, "POST", "/api/v1/keys", b.token, `{"scopes":["admin"]}`); status != 401 {
			t.Fatalf("a write key creates keys: %d", status)
		}
		if status, _ := b.call(t, "GET", "/api/v1/keys", b.token, ""); status != 401 {
			t.Fatalf("a write key lists keys: %d", status)
		}

		// Revocation: the next request is refused.
		path := "/api/v1/keys?id=" + strconv.FormatInt(created.ID, 10)
		status, body = b.call(t, "DELETE", path, admin, "")
		var revoked apiKey
		if err := json.Unmarshal(body, &revoked); status != 200 || err != nil || revoked.RevokedAt == nil || revoked.Token != "" {
			t.Fatalf("revoke: %d %s", status, body)
		}
		if res := b.post(t, created.Token, "application/json", envelope(event("5d0c6f4e-8f3a-4c61-9a8e-00000000aa02"))); res.StatusCode != 401 {
			t.Fatalf("a revoked key posts: %d", res.StatusCode)
		}
		if status, _ := b.call(t, "DELETE", "/api/v1/keys?id="+strconv.FormatInt(otherKey.ID, 10), admin, ""); status != 404 {
			t.Fatalf("revoking another tenant's key: %d, want 404", status)
		}
		for _, q := range []string{"", "?id=x", "?id=1&id=2", "?key=1"} {
			if status, _ := b.call(t, "DELETE", "/api/v1/keys"+q, admin, ""); status != 400 {
				t.Errorf("DELETE /api/v1/keys%s: %d, want 400", q, status)
			}
		}
		all, _ := b.db.ListKeys(ctx)
		for _, k := range all {
			if k.ID == otherKey.ID && k.RevokedAt != nil {
				t.Fatal("another tenant's key was revoked")
			}
		}

		// Expiry: accepted until then, refused from then on.
		at := time.Now().Add(time.Second).UTC()
		status, body = b.call(t, "POST", "/api/v1/keys", admin, `{"scopes":["read"],"expiresAt":"`+at.Format(time.RFC3339Nano)+`"}`)
		var short apiKey
		if err := json.Unmarshal(body, &short); status != 201 || err != nil || short.ExpiresAt == nil {
			t.Fatalf("create with expiry: %d %s", status, body)
		}
		if status, _ := b.call(t, "GET", "/api/v1/events", short.Token, ""); status != 200 {
			t.Fatalf("before its expiry: %d", status)
		}
		time.Sleep(time.Until(at) + 10*time.Millisecond)
		if status, body := b.call(t, "GET", "/api/v1/events", short.Token, ""); status != 401 || !strings.Contains(string(body), "expired") {
			t.Fatalf("after its expiry: %d %s", status, body)
		}
	})
}
