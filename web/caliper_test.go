package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/internal/fixture"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

type bundle struct {
	kind    string
	db      store.Backend
	srv     *httptest.Server
	token   string // write scope, tenant "t1"
	tenant  int64
	maxBody int64
	mode    caliper.Mode
}

// deps are the services a server over b's store needs.
func (b *bundle) deps() web.Deps {
	return web.Deps{
		Ingest:  ingest.NewService(b.db, caliper.NewValidator(b.mode)),
		Keys:    b.db,
		Health:  b.db,
		Query:   query.NewService(b.db),
		Lookups: b.db,
		Admin:   b.db,
	}
}

// setupOn starts a server over a fresh store of kind ("postgres" or "sqlite").
func setupOn(t testing.TB, kind string) *bundle { t.Helper(); return setupMax(t, kind, 64<<10) }

func setupMax(t testing.TB, kind string, maxBody int64) *bundle {
	t.Helper()
	return setupMode(t, kind, maxBody, caliper.Strict)
}

func setupMode(t testing.TB, kind string, maxBody int64, mode caliper.Mode) *bundle {
	t.Helper()
	return setupWith(t, kind, web.Config{CaliperPath: "/caliper", MaxBody: maxBody}, mode)
}

// setupWith starts a server with cfg over a fresh store of kind.
func setupWith(t testing.TB, kind string, cfg web.Config, mode caliper.Mode) *bundle {
	t.Helper()
	maxBody := cfg.MaxBody
	ctx := context.Background()
	db := storetest.Open(t, kind)
	key, token, err := db.CreateKey(ctx, "t1", "test", []string{store.ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{kind: kind, db: db, token: token, tenant: key.TenantID, maxBody: maxBody}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.mode = mode
	srv := web.NewServer(cfg, log, b.deps())
	b.srv = httptest.NewServer(srv)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *bundle) post(t testing.TB, token, contentType string, body []byte, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/caliper", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// counts returns how many envelopes, events and entities the database holds.
func (b *bundle) counts(t *testing.T) [3]int {
	t.Helper()
	n, err := b.db.TableCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return [3]int{int(n.Envelopes), int(n.Events), int(n.Entities)}
}

func envelope(items ...string) []byte {
	return []byte(`{"sensor":"https://example.edu/sensors/1","sendTime":"2018-11-15T10:15:00.000Z",` +
		`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` + strings.Join(items, ",") + `]}`)
}

func event(id string, extra ...string) string {
	fields := map[string]string{
		"@context":  `"http://purl.imsglobal.org/ctx/caliper/v1p2"`,
		"id":        `"urn:uuid:` + id + `"`,
		"type":      `"ViewEvent"`,
		"actor":     `{"id":"https://example.edu/users/554433","type":"Person"}`,
		"action":    `"Viewed"`,
		"object":    `{"id":"https://example.edu/etexts/201.epub","type":"Document"}`,
		"eventTime": `"2018-11-15T10:15:00.000Z"`,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(fields, extra[i])
		} else {
			fields[extra[i]] = extra[i+1]
		}
	}
	var parts []string
	for _, k := range []string{"@context", "id", "type", "actor", "action", "object", "eventTime", "group", "session", "edApp"} {
		if v, ok := fields[k]; ok {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
			delete(fields, k)
		}
	}
	for k, v := range fields {
		parts = append(parts, fmt.Sprintf("%q:%s", k, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestFixturesStoredVerbatim posts every spec example: envelope fixtures as
// they are, single events and entities wrapped in an envelope. Each is
// accepted, and every item reads back JSON-equal to what was sent.
func TestFixturesStoredVerbatim(t *testing.T) {
	files := fixture.Glob(t, "caliper/fixtures-v1p2/*.json")
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		ctx := context.Background()
		posted := 0
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			name := filepath.Base(f)
			body := raw
			if _, isEnvelope := doc["dataVersion"]; !isEnvelope {
				if _, hasID := doc["id"]; !hasID {
					continue // the endpoint config and id-less fragments: not standalone items
				}
				body = envelope(string(raw))
			}
			posted++
			t.Run(name, func(t *testing.T) {
				// A tenant per fixture: the spec reuses event ids across examples.
				key, token, err := b.db.CreateKey(ctx, name, "", []string{store.ScopeWrite})
				if err != nil {
					t.Fatal(err)
				}
				res := b.post(t, token, "application/json", body)
				if res.StatusCode != http.StatusOK {
					msg, _ := io.ReadAll(res.Body)
					t.Fatalf("status %d: %s", res.StatusCode, msg)
				}
				if n, _ := io.Copy(io.Discard, res.Body); n != 0 {
					t.Errorf("200 body has %d bytes, want none", n)
				}
				var env struct{ Data []json.RawMessage }
				if err := json.Unmarshal(body, &env); err != nil {
					t.Fatal(err)
				}
				// Entities are upserted: the last description of an id wins.
				wantEntity := map[string]any{}
				var events []map[string]any
				for _, item := range env.Data {
					v := decodeJSON(t, item)
					switch x := v.(type) {
					case string:
						if _, ok := wantEntity[x]; !ok {
							wantEntity[x] = x
						}
					case map[string]any:
						if typ, _ := x["type"].(string); strings.HasSuffix(typ, "Event") {
							events = append(events, x)
						} else {
							wantEntity[x["id"].(string)] = x
						}
					}
				}
				for _, want := range events {
					ev, err := b.db.EventByID(ctx, key.TenantID, uuid.MustParse(strings.TrimPrefix(want["id"].(string), "urn:uuid:")))
					if err != nil {
						t.Fatalf("event %s: %v", want["id"], err)
					}
					got := ev.Data
					if !reflect.DeepEqual(decodeJSON(t, got), want) {
						t.Errorf("event %s read back differs:\n got %s", want["id"], got)
					}
				}
				for id, want := range wantEntity {
					got, err := b.db.EntityByID(ctx, key.TenantID, id)
					if err != nil {
						t.Fatalf("entity %s: %v", id, err)
					}
					if !reflect.DeepEqual(decodeJSON(t, got), want) {
						t.Errorf("entity %s read back differs:\n got %s", id, got)
					}
				}
			})
		}
		if posted < 140 {
			t.Errorf("posted %d fixtures, expected at least 140", posted)
		}
	})
}

func TestPostCaliperStoresColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		item := event("0b3fca49-6c45-4bda-9fb4-1bd7f1cdc2bc",
			"eventTime", `"2018-11-15T12:15:00.000+02:00"`,
			"group", `{"id":"https://example.edu/terms/201801/courses/7/sections/1","type":"CourseSection"}`,
			"session", `"https://example.edu/sessions/1"`,
			"edApp", `{"id":"https://example.edu","type":"SoftwareApplication"}`,
			"profile", `"ReadingProfile"`)
		res := b.post(t, b.token, "application/json; charset=utf-8", envelope(item))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		ev, err := b.db.EventByID(context.Background(), b.tenant, uuid.MustParse("0b3fca49-6c45-4bda-9fb4-1bd7f1cdc2bc"))
		if err != nil {
			t.Fatal(err)
		}
		env, err := b.db.EnvelopeByID(context.Background(), b.tenant, ev.EnvelopeID)
		if err != nil {
			t.Fatal(err)
		}
		var envelopeSensor struct{ Sensor string }
		json.Unmarshal(env, &envelopeSensor)
		typ, action, actor, object, objectType := ev.Type, ev.Action, ev.ActorID, ev.ObjectID, ev.ObjectType
		group, session, edApp, profile := ev.GroupID, ev.SessionID, ev.EdAppID, ev.Profile
		eventTime := ev.EventTime.UTC().Format("2006-01-02T15:04:05")
		got := []string{typ, action, actor, object, objectType, group, session, edApp, profile, eventTime, envelopeSensor.Sensor}
		want := []string{"ViewEvent", "Viewed", "https://example.edu/users/554433", "https://example.edu/etexts/201.epub",
			"Document", "https://example.edu/terms/201801/courses/7/sections/1", "https://example.edu/sessions/1",
			"https://example.edu", "ReadingProfile", "2018-11-15T10:15:00", "https://example.edu/sensors/1"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("columns\n got %q\nwant %q", got, want)
		}
	})
}

func TestPreferReturnRepresentation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		body := envelope(
			event("6b3fca49-6c45-4bda-9fb4-1bd7f1cdc2b1"),
			event("6b3fca49-6c45-4bda-9fb4-1bd7f1cdc2b2"),
			event("6b3fca49-6c45-4bda-9fb4-1bd7f1cdc2b2"), // repeated within the envelope
			`{"id":"https://example.edu/users/1","type":"Person"}`,
			`"https://example.edu/users/2"`)
		res := b.post(t, b.token, "application/json", body, "Prefer", "return=representation")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		var sum store.SaveResult
		if err := json.NewDecoder(res.Body).Decode(&sum); err != nil {
			t.Fatal(err)
		}
		if sum.EventsStored != 2 || sum.Duplicates != 1 || sum.Entities != 2 || sum.EnvelopeID == "" {
			t.Errorf("summary %+v", sum)
		}
		res = b.post(t, b.token, "application/json", body, "Prefer", "return=representation")
		sum = store.SaveResult{}
		if err := json.NewDecoder(res.Body).Decode(&sum); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || sum.EventsStored != 0 || sum.Duplicates != 3 {
			t.Errorf("resend: status %d summary %+v", res.StatusCode, sum)
		}
		if c := b.counts(t); c != [3]int{2, 2, 2} {
			t.Errorf("counts (envelopes, events, entities) = %v, want [2 2 2]", c)
		}
	})
}

func TestEntityUpsert(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		post := func(item string) {
			t.Helper()
			if res := b.post(t, b.token, "application/json", envelope(item)); res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
		}
		post(`{"id":"https://example.edu/users/1","type":"Person","name":"Ann"}`)
		post(`{"id":"https://example.edu/users/1","type":"Person","name":"Anne"}`)
		post(`"https://example.edu/users/1"`) // a bare IRI must not erase the description
		data, err := b.db.EntityByID(context.Background(), b.tenant, "https://example.edu/users/1")
		if err != nil {
			t.Fatal(err)
		}
		var entity struct{ Name string }
		json.Unmarshal(data, &entity)
		name := entity.Name
		if name != "Anne" {
			t.Errorf("name = %q, want the latest description, Anne", name)
		}
	})
}

func TestGetCaliperConfig(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		res, err := http.Get(b.srv.URL + "/caliper")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var cfg struct {
			Versions []string `json:"caliperSupportedVersions"`
			Max      int64    `json:"caliperMaximumPayloadSize"`
		}
		if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || len(cfg.Versions) != 2 || cfg.Max != b.maxBody/1024 {
			t.Errorf("status %d config %+v", res.StatusCode, cfg)
		}
	})
}
