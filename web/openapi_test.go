package web_test

import (
	"context"
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
		if r.Path == "/" || r.Path == "/ui" || r.Path == "/ui/*" {
			continue // the web UI, not the API
		}
		routes = append(routes, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, map[string]string{"get": "GET", "post": "POST", "delete": "DELETE", "patch": "PATCH"}[method]+" "+path)
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
		"/api/v1/stream": query.StreamParams,
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

// TestOpenAPILint validates the document with kin-openapi (OpenAPI 3.0
// structure, references, schemas, examples) and checks what a linter asks
// beyond it: servers and an Apache-2.0 licence; every operation with a
// unique operationId, a summary, a description, declared tags and a 4XX
// response; every 503 with Retry-After, and every operation that needs a
// token with a 401 that carries WWW-Authenticate.
func TestOpenAPILint(t *testing.T) {
	srv := httptest.NewServer(web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 1 << 20}, slog.New(slog.NewTextHandler(io.Discard, nil)), web.Deps{}))
	defer srv.Close()
	doc := loadOpenAPI(t, srv.URL)
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("kin-openapi: %v", err)
	}
	if len(doc.Servers) == 0 {
		t.Error("no servers")
	}
	if doc.Info.License == nil || doc.Info.License.Name != "Apache-2.0" || doc.Info.License.URL == "" {
		t.Errorf("info.license %+v, want Apache-2.0 with its URL", doc.Info.License)
	}
	declared, used := map[string]bool{}, map[string]bool{}
	for _, tag := range doc.Tags {
		declared[tag.Name] = true
		if tag.Description == "" {
			t.Errorf("tag %s has no description", tag.Name)
		}
	}
	ids := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			name := method + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", name, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s: summary and description are required", name)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s: no tags", name)
			}
			for _, tag := range op.Tags {
				used[tag] = true
				if !declared[tag] {
					t.Errorf("%s: tag %q is not declared", name, tag)
				}
			}
			secured := op.Security == nil || len(*op.Security) > 0
			has4xx := false
			for code, ref := range op.Responses.Map() {
				r := ref.Value
				if r.Description == nil || *r.Description == "" {
					t.Errorf("%s %s: no description", name, code)
				}
				has4xx = has4xx || code[0] == '4'
				if code == "503" && r.Headers["Retry-After"] == nil {
					t.Errorf("%s: 503 without Retry-After", name)
				}
				if code == "401" && r.Headers["WWW-Authenticate"] == nil {
					t.Errorf("%s: 401 without WWW-Authenticate", name)
				}
			}
			if !has4xx {
				t.Errorf("%s: no 4XX response", name)
			}
			if secured && op.Responses.Status(401) == nil {
				t.Errorf("%s needs a token but documents no 401", name)
			}
		}
	}
	for tag := range declared {
		if !used[tag] {
			t.Errorf("tag %s is declared but no operation has it", tag)
		}
	}
}
