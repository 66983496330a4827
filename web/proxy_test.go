package web_test

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// TestTrustedProxies: X-Forwarded-For decides the client IP (the per-IP
// limit, the request log) only when the peer is a trusted proxy.
func TestTrustedProxies(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	for _, c := range []struct {
		name    string
		trusted []*net.IPNet
		client  func(xff string) string // the IP the server should see
	}{
		{"trusted", []*net.IPNet{loopback}, func(xff string) string { return strings.TrimSpace(xff[strings.LastIndex(xff, ",")+1:]) }},
		{"untrusted", nil, func(string) string { return "127.0.0.1" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := storetest.Open(t, "sqlite")
			b := &bundle{kind: "sqlite", db: db, maxBody: 64 << 10}
			var logs bytes.Buffer
			srv := httptest.NewServer(web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: b.maxBody,
				RateLimits: web.RateLimits{AnonymousPerSec: 0.001}, TrustedProxies: c.trusted},
				slog.New(slog.NewJSONHandler(&logs, nil)), b.deps()))
			defer srv.Close()
			get := func(xff string) *http.Response {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/caliper", nil)
				req.Header.Set("X-Forwarded-For", xff)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { res.Body.Close() })
				return res
			}
			a, other := "198.51.100.1, 203.0.113.7", "203.0.113.8"
			if res := get(a); res.StatusCode != http.StatusOK {
				t.Fatalf("first: %d", res.StatusCode)
			}
			want429(t, get(a), "anonymous", "1000", c.client(a))
			res := get(other)
			if c.trusted != nil && res.StatusCode != http.StatusOK {
				t.Errorf("another client behind the proxy: %d, want its own bucket", res.StatusCode)
			}
			if c.trusted == nil && res.StatusCode != http.StatusTooManyRequests {
				t.Errorf("a forged X-Forwarded-For from an untrusted peer got its own bucket: %d", res.StatusCode)
			}
			if want := `"client":"` + c.client(a) + `"`; !strings.Contains(logs.String(), want) {
				t.Errorf("request log lacks %s:\n%s", want, logs.String())
			}
		})
	}
}
