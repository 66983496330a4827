package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

type problemBody struct {
	Type     string `json:"type"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Problems []struct {
		Index   int    `json:"index"`
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"problems"`
}

// TestRejects posts bad requests; each gets its status and a problem document
// naming the fault, and nothing is stored.
func TestRejects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		ctx := context.Background()
		_, readToken, err := b.db.CreateKey(ctx, "t1", "read only", []string{store.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		revokedKey, revokedToken, err := b.db.CreateKey(ctx, "t1", "revoked", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.db.RevokeKey(ctx, revokedKey.ID); err != nil {
			t.Fatal(err)
		}

		ok := event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc594")
		good := envelope(ok)
		without := func(field string) []byte {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			delete(m, field)
			out, _ := json.Marshal(m)
			return out
		}
		const big = 64<<10 + 1
		oversize := envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc595", "extensions",
			`{"pad":"`+strings.Repeat("x", big)+`"}`))
		nested := envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc596", "extensions",
			strings.Repeat(`{"a":`, 200)+"1"+strings.Repeat("}", 200)))
		invalidUTF8 := envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc597", "extensions", "{\"name\":\"caf\xe9\"}"))

		cases := []struct {
			name        string
			token       string
			contentType string
			body        []byte
			status      int
			path        string // a problem must name this path, when set
			detail      string // the detail must contain this, when set
		}{
			{name: "NoToken", body: good, status: 401},
			{name: "InvalidToken", token: "lrs_nope", body: good, status: 401},
			{name: "RevokedToken", token: revokedToken, body: good, status: 401},
			{name: "WrongScope", token: readToken, body: good, status: 401, detail: "write scope"},
			{name: "WrongContentType", contentType: "text/plain", body: good, status: 415},
			{name: "NoContentType", contentType: "-", body: good, status: 415},
			{name: "EmptyBody", body: nil, status: 400},
			{name: "InvalidJSON", body: []byte(`{"sensor": "x",`), status: 400, detail: "invalid JSON"},
			{name: "TrailingGarbage", body: append(append([]byte{}, good...), []byte(" {}")...), status: 400},
			{name: "BareEvent", body: []byte(ok), status: 400, detail: "bare Caliper event"},
			{name: "BareArray", body: []byte("[" + ok + "]"), status: 400, detail: "JSON array"},
			{name: "MissingSensor", body: without("sensor"), status: 400, path: "sensor"},
			{name: "MissingSendTime", body: without("sendTime"), status: 400, path: "sendTime"},
			{name: "MissingDataVersion", body: without("dataVersion"), status: 400, path: "dataVersion"},
			{name: "MissingData", body: without("data"), status: 400, path: "data"},
			{name: "ExtraField", body: bytes.Replace(good, []byte(`{"sensor"`), []byte(`{"extra":1,"sensor"`), 1), status: 400, path: "extra"},
			{name: "RepeatedField", body: bytes.Replace(good, []byte(`{"sensor"`), []byte(`{"sensor":"a","sensor"`), 1), status: 400, path: "sensor"},
			{name: "BadSendTime", body: bytes.Replace(good, []byte(`2018-11-15T10:15:00.000Z",`), []byte(`yesterday",`), 1), status: 400, path: "sendTime"},
			{name: "DataNotArray", body: bytes.Replace(good, []byte(`"data":[`+ok+`]`), []byte(`"data":`+ok), 1), status: 400, path: "data"},
			{name: "EmptyData", body: envelope(), status: 400, path: "data"},
			{name: "UnsupportedVersion", body: bytes.Replace(good, []byte("caliper/v1p2\",\"data"), []byte("caliper/v1p3\",\"data"), 1), status: 422, path: "dataVersion"},
			{name: "Caliper1p0", body: bytes.Replace(good, []byte("http://purl.imsglobal.org/ctx/caliper/v1p2\",\"data"), []byte("http://purl.imsglobal.org/ctx/caliper/v1/Context\",\"data"), 1), status: 422},
			{name: "Oversize", body: oversize, status: 413},
			{name: "DeeplyNested", body: nested, status: 400, detail: "nests deeper"},
			{name: "InvalidUTF8", body: invalidUTF8, status: 400, detail: "UTF-8"},
			{name: "ItemNumber", body: envelope(ok, "42"), status: 400, path: "data[1]"},
			{name: "ItemNotIRI", body: envelope(`"not an iri"`), status: 400, path: "data[0]"},
			{name: "EventMissingActor", body: envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc598", "actor", "")), status: 400, path: "data[0].actor"},
			{name: "EventBadID", body: envelope(event("not-a-uuid")), status: 400, path: "data[0].id"},
			{name: "EventBadTime", body: envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc599", "eventTime", `"15/11/2018"`)), status: 400, path: "data[0].eventTime"},
			{name: "EventObjectNoType", body: envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc59a", "object", `{"id":"https://example.edu/x"}`)), status: 400, path: "data[0].object.type"},
			{name: "EntityNoType", body: envelope(ok, `{"id":"https://example.edu/x"}`), status: 400, path: "data[1].type"},
			{name: "ConflictWithinEnvelope", body: envelope(ok, strings.Replace(ok, "201.epub", "202.epub", 1)), status: 409, path: "data[1].id"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				token := tc.token
				if token == "" && tc.name != "NoToken" {
					token = b.token
				}
				ct := tc.contentType
				switch ct {
				case "":
					ct = "application/json"
				case "-":
					ct = ""
				}
				res := b.post(t, token, ct, tc.body)
				checkProblem(t, res, tc.status, tc.path, tc.detail)
				if c := b.counts(t); c != [3]int{} {
					t.Errorf("stored %v (envelopes, events, entities), want nothing", c)
				}
			})
		}
	})
}

func checkProblem(t *testing.T, res *http.Response, status int, path, detail string) problemBody {
	t.Helper()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, raw)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p problemBody
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, raw)
	}
	if p.Status != status || p.Type == "" || p.Detail == "" {
		t.Errorf("problem %+v", p)
	}
	if status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without a Bearer challenge")
	}
	if path != "" {
		found := false
		for _, pr := range p.Problems {
			found = found || pr.Path == path
		}
		if !found {
			t.Errorf("no problem names %q: %s", path, raw)
		}
	}
	if detail != "" && !strings.Contains(p.Detail, detail) {
		t.Errorf("detail %q does not mention %q", p.Detail, detail)
	}
	return p
}

// TestDuplicateAndConflict: an event re-sent unchanged is stored once and
// acknowledged; re-sent with other content it is a 409 naming it, and nothing
// else from that envelope is stored.
func TestDuplicateAndConflict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		first := event("a1b2c3d4-0000-4000-8000-000000000001")
		if res := b.post(t, b.token, "application/json", envelope(first)); res.StatusCode != 200 {
			t.Fatalf("first post: %d", res.StatusCode)
		}
		// The same event, keys reordered and spaced differently: still a duplicate.
		var m map[string]any
		_ = json.Unmarshal([]byte(first), &m)
		reordered, _ := json.MarshalIndent(m, "", "   ")
		if res := b.post(t, b.token, "application/json", envelope(string(reordered))); res.StatusCode != 200 {
			t.Fatalf("duplicate post: %d", res.StatusCode)
		}
		if c := b.counts(t); c[1] != 1 {
			t.Fatalf("events = %d after a duplicate, want 1", c[1])
		}

		changed := strings.Replace(first, "201.epub", "202.epub", 1)
		fresh := event("a1b2c3d4-0000-4000-8000-000000000002")
		res := b.post(t, b.token, "application/json", envelope(fresh, changed, `{"id":"https://example.edu/x","type":"Person"}`))
		p := checkProblem(t, res, http.StatusConflict, "data[1].id", "")
		if !strings.Contains(p.Problems[0].Message, "a1b2c3d4-0000-4000-8000-000000000001") {
			t.Errorf("conflict does not name the id: %+v", p.Problems)
		}
		if c := b.counts(t); c != [3]int{2, 1, 0} {
			t.Errorf("counts %v after conflict, want [2 1 0]: the conflicting envelope must store nothing", c)
		}

		// Another tenant may use the same id: ids are per tenant.
		_, other, err := b.db.CreateKey(context.Background(), "t2", "", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		if res := b.post(t, other, "application/json", envelope(changed)); res.StatusCode != 200 {
			t.Errorf("other tenant, same id: %d", res.StatusCode)
		}
	})
}

func TestOversizeChunked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		body := envelope(event("c51570e4-f8ed-4c18-bb3a-dfe51b2cc5a0", "extensions",
			`{"pad":"`+strings.Repeat("x", int(b.maxBody))+`"}`))
		req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/caliper", io.MultiReader(bytes.NewReader(body))) // no Content-Length
		req.Header.Set("Authorization", "Bearer "+b.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		checkProblem(t, res, http.StatusRequestEntityTooLarge, "", "")
		if c := b.counts(t); c != [3]int{} {
			t.Errorf("stored %v", c)
		}
	})
}

// TestErrorFixturesStoreNothing posts each of the spec's invalid examples
// (wrapped in an envelope) to the strict endpoint: each is refused, and
// nothing is stored. The four judged valid (docs/conformance.md) are the
// exception and are stored.
func TestErrorFixturesStoreNothing(t *testing.T) {
	files := fixture.Glob(t, "caliper/fixtures-v1p2/commonErrorFixtures/*.json")
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		judgedValid := map[string]bool{
			"caliperEntityAggregateMeasure-MalformedMaxMetricValueNotAnInt.json":     true,
			"caliperEntityAggregateMeasure-MalformedMetricValueNotAnInt.json":        true,
			"caliperEntityAssignableDigitalResource-MalformedMaxScoreNotAFloat.json": true,
			"caliperEntityScore-MalformedMaxScoreNotAnInt.json":                      true,
		}
		if len(files) != 279 {
			t.Fatalf("%d error fixtures, want 279", len(files))
		}
		accepted := 0
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := b.post(t, b.token, "application/json", envelope(string(raw)))
			io.Copy(io.Discard, res.Body)
			name := filepath.Base(f)
			switch {
			case judgedValid[name]:
				if res.StatusCode != http.StatusOK {
					t.Errorf("%s: %d, judged valid", name, res.StatusCode)
				}
				accepted++
			case res.StatusCode != http.StatusBadRequest:
				t.Errorf("%s: status %d, want 400", name, res.StatusCode)
			}
		}
		if c := b.counts(t); c[0] != accepted {
			t.Errorf("%d envelopes stored, want only the %d judged valid", c[0], accepted)
		}
	})
}
