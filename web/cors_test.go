package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// corsServer is a server with origins over a fresh store, and a write+read token.
func corsServer(t *testing.T, kind string, origins ...string) (string, string) {
	t.Helper()
	b := &bundle{kind: kind, db: storetest.Open(t, kind), maxBody: 64 << 10}
	srv := httptest.NewServer(web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: b.maxBody, CORSOrigins: origins},
		slog.New(slog.NewTextHandler(io.Discard, nil)), b.deps()))
	t.Cleanup(srv.Close)
	return srv.URL, newToken(t, b.db, "t1")
}

// preflight sends a browser's preflight for method from origin.
func preflight(t *testing.T, url, origin, method string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, url, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func hasToken(header, want string) bool {
	for _, v := range strings.Split(header, ",") {
		if strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}

// TestCORSListedOrigins: preflights are answered before authentication for
// listed origins, with the methods and headers a sensor sends; answers carry
// the headers its script may read; other origins get no CORS headers.
func TestCORSListedOrigins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		const lms = "https://lms.example.edu"
		base, token := corsServer(t, kind, lms, "https://*.dash.example.edu")
		for _, c := range []struct{ path, method, origin string }{
			{"/caliper", "POST", lms},
			{"/api/v1/events", "GET", lms},
			{"/api/v1/export", "GET", "https://a.dash.example.edu"},
		} {
			res := preflight(t, base+c.path, c.origin, c.method)
			h := res.Header
			if res.StatusCode != http.StatusNoContent {
				t.Errorf("preflight %s: %d, want 204 (before authentication)", c.path, res.StatusCode)
			}
			if h.Get("Access-Control-Allow-Origin") != c.origin || h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("preflight %s: allow-origin %q, credentials %q", c.path, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
			}
			if !hasToken(h.Get("Access-Control-Allow-Methods"), c.method) ||
				!hasToken(h.Get("Access-Control-Allow-Headers"), "Authorization") || !hasToken(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
				t.Errorf("preflight %s: methods %q, headers %q", c.path, h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Allow-Headers"))
			}
			if h.Get("Access-Control-Max-Age") != "3600" || !hasToken(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("preflight %s: max-age %q, vary %q", c.path, h.Get("Access-Control-Max-Age"), h.Values("Vary"))
			}
		}
		for _, origin := range []string{"https://evil.example", "https://dash.example.edu.evil.example", "http://lms.example.edu"} {
			if res := preflight(t, base+"/caliper", origin, "POST"); res.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("origin %s allowed: %q", origin, res.Header.Get("Access-Control-Allow-Origin"))
			}
		}

		// The real requests: a stored envelope and a refusal, both readable by the script.
		for _, c := range []struct {
			token string
			want  int
		}{{token, 200}, {"", 401}} {
			req, _ := http.NewRequest(http.MethodPost, base+"/caliper", strings.NewReader(string(events(1))))
			req.Header.Set("Origin", lms)
			req.Header.Set("Content-Type", "application/json")
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			expose := res.Header.Get("Access-Control-Expose-Headers")
			if res.StatusCode != c.want || res.Header.Get("Access-Control-Allow-Origin") != lms ||
				!hasToken(expose, "Retry-After") || !hasToken(expose, "X-Request-Id") || !hasToken(expose, "WWW-Authenticate") {
				t.Errorf("POST: %d (want %d), allow-origin %q, expose %q", res.StatusCode, c.want, res.Header.Get("Access-Control-Allow-Origin"), expose)
			}
		}
	})
}

// TestCORSWildcard: "*" allows any origin and never credentials; without
// --cors-origins a preflight gets no CORS headers at all.
func TestCORSWildcard(t *testing.T) {
	base, _ := corsServer(t, "sqlite", "*")
	res := preflight(t, base+"/caliper", "https://anywhere.example", "POST")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("wildcard preflight: %d, allow-origin %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if v := res.Header.Get("Access-Control-Allow-Credentials"); v != "" {
		t.Errorf("wildcard with credentials %q", v)
	}

	base, _ = corsServer(t, "sqlite")
	res = preflight(t, base+"/caliper", "https://lms.example.edu", "POST")
	if h := res.Header; h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("no --cors-origins: preflight %d with CORS headers %v", res.StatusCode, h)
	}
}
