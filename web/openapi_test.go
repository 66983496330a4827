package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/web"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]any `json:"responses"`
	} `json:"paths"`
}

// TestOpenAPIMatchesRoutes keeps /api/openapi.json in step with the server:
// the same paths and methods, and for the read endpoints, exactly the query
// parameters the code accepts.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 1 << 20}, slog.New(slog.NewTextHandler(io.Discard, nil)), web.Deps{})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	res, err := http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc openAPIDoc
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /api/openapi.json: %d %v", res.StatusCode, err)
	}
	if doc.OpenAPI[:2] != "3." {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	param := regexp.MustCompile(`:(\w+)`)
	var routes, documented []string
	for _, r := range srv.Routes() {
		if r.Path == "/" || r.Path == "/ui" || r.Path == "/ui/" {
			continue // the web UI, not the API
		}
		routes = append(routes, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, map[string]string{"get": "GET", "post": "POST"}[method]+" "+path)
			if len(op.Responses) == 0 {
				t.Errorf("%s %s documents no responses", method, path)
			}
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	if !slices.Equal(routes, documented) {
		t.Errorf("routes and OpenAPI paths differ:\nserver  %v\ndocument %v", routes, documented)
	}

	for path, want := range map[string][]string{
		"/api/v1/events": query.EventsParams,
		"/api/v1/stats":  query.StatsParams,
		"/api/v1/export": query.ExportParams,
	} {
		var got []string
		for _, p := range doc.Paths[path]["get"].Parameters {
			if p.In == "query" {
				got = append(got, p.Name)
			}
		}
		sort.Strings(got)
		w := slices.Clone(want)
		sort.Strings(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: documented parameters %v, code takes %v", path, got, w)
		}
	}
}
