package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestKeysCreateRateLimit: lrs keys create --rate-limit stores the key's own
// limit (LRS_RATE_LIMIT, serve's default, is not taken for it), keys list
// shows it, and lrs serve applies it over --rate-limit.
func TestKeysCreateRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		getenv := env(map[string]string{"LRS_DATABASE_URL": storetest.URL(t, kind), "LRS_RATE_LIMIT": "1000"})
		create := func(args ...string) string {
			out, err := runCmd(t, getenv, append([]string{"keys", "create", "--tenant", "uni", "--scopes", "write"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			return lines[len(lines)-1]
		}
		slow := create("--rate-limit", "1")
		fast := create()
		if _, err := runCmd(t, getenv, "keys", "create", "--tenant", "uni", "--scopes", "write", "--rate-limit", "-2"); err == nil {
			t.Error("--rate-limit -2 was accepted")
		}
		out, err := runCmd(t, getenv, "keys", "list")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "RATE LIMIT") || !strings.Contains(out, "1 events/s") || !strings.Contains(out, "default") {
			t.Errorf("keys list:\n%s", out)
		}

		base := startServer(t, getenv)
		post := func(token string, n int) *http.Response {
			items := make([]string, n)
			for i := range items {
				items[i] = `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:` + uuid.NewString() + `","type":"ViewEvent",` +
					`"actor":"https://example.edu/users/1","action":"Viewed","object":{"id":"https://example.edu/doc/1","type":"Document"},"eventTime":"2018-11-15T10:15:00.000Z"}`
			}
			body := `{"sensor":"https://example.edu/s","sendTime":"2018-11-15T10:15:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` + strings.Join(items, ",") + `]}`
			req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		for i, step := range []struct {
			token string
			n     int
			want  int
		}{{slow, 2, 200}, {slow, 1, 429}, {fast, 20, 200}, {fast, 20, 200}} {
			if res := post(step.token, step.n); res.StatusCode != step.want {
				t.Fatalf("step %d: %d, want %d", i, res.StatusCode, step.want)
			} else if step.want == 429 && res.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q, want 2 (1 − 2 events at 1/s)", res.Header.Get("Retry-After"))
			}
		}
	})
}
