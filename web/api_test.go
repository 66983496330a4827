package web_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// seedEvent is what the read tests know of each event they post.
type seedEvent struct {
	id, actor, action, typ, object, objectType, course, session, edApp, profile, sensor string
	eventTime                                                                           time.Time
	attempt                                                                             int
}

func (e seedEvent) json() string {
	m := map[string]any{
		"@context":  "http://purl.imsglobal.org/ctx/caliper/v1p2",
		"id":        "urn:uuid:" + e.id,
		"type":      e.typ,
		"profile":   e.profile,
		"actor":     map[string]any{"id": e.actor, "type": "Person"},
		"action":    e.action,
		"object":    map[string]any{"id": e.object, "type": e.objectType},
		"eventTime": e.eventTime.Format("2006-01-02T15:04:05.000Z"),
		"group":     map[string]any{"id": e.course, "type": "CourseSection"},
		"session":   map[string]any{"id": e.session, "type": "Session"},
		"edApp":     e.edApp,
		"extensions": map[string]any{
			"attempt": e.attempt,
		},
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type readBundle struct {
	*bundle
	readToken string
	events    []seedEvent
	other     string // read token of another tenant that has its own events
}

// setupRead posts 240 events for tenant t1 (in envelopes of 20, from two
// sensors) and 10 for tenant t2.
func setupReadOn(t *testing.T, kind string) *readBundle {
	t.Helper()
	b := setupOn(t, kind)
	ctx := context.Background()
	_, readToken, err := b.db.CreateKey(ctx, "t1", "reader", []string{store.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	rb := &readBundle{bundle: b, readToken: readToken}
	kinds := []struct{ typ, action, objType, profile string }{
		{"ViewEvent", "Viewed", "Document", "ReadingProfile"},
		{"NavigationEvent", "NavigatedTo", "WebPage", "GeneralProfile"},
		{"AssessmentEvent", "Started", "Assessment", "AssessmentProfile"},
		{"AssessmentEvent", "Submitted", "Assessment", "AssessmentProfile"},
	}
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 240; i++ {
		k := kinds[i%len(kinds)]
		rb.events = append(rb.events, seedEvent{
			id:         fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			actor:      fmt.Sprintf("https://example.edu/users/%d", i%7),
			action:     k.action,
			typ:        k.typ,
			object:     fmt.Sprintf("https://example.edu/objects/%d", i%11),
			objectType: k.objType,
			course:     fmt.Sprintf("https://example.edu/courses/%d", i%3),
			session:    fmt.Sprintf("https://example.edu/sessions/%d", i%5),
			edApp:      fmt.Sprintf("https://example.edu/apps/%d", i%2),
			profile:    k.profile,
			sensor:     fmt.Sprintf("https://example.edu/sensors/%d", (i/20)%2),
			eventTime:  start.Add(time.Duration(i*7919%240) * 6 * time.Hour),
			attempt:    i % 3,
		})
	}
	for i := 0; i < len(rb.events); i += 20 {
		var items []string
		for _, e := range rb.events[i : i+20] {
			items = append(items, e.json())
		}
		body := strings.Replace(string(envelope(items...)), "https://example.edu/sensors/1", rb.events[i].sensor, 1)
		if res := b.post(t, b.token, "application/json", []byte(body)); res.StatusCode != 200 {
			t.Fatalf("seed: %d", res.StatusCode)
		}
	}
	_, otherWrite, _ := b.db.CreateKey(ctx, "t2", "", []string{store.ScopeWrite})
	_, rb.other, _ = b.db.CreateKey(ctx, "t2", "", []string{store.ScopeRead})
	var items []string
	for i := 0; i < 10; i++ {
		e := rb.events[i]
		e.id = fmt.Sprintf("99999999-0000-4000-8000-%012d", i)
		items = append(items, e.json())
	}
	if res := b.post(t, otherWrite, "application/json", envelope(items...)); res.StatusCode != 200 {
		t.Fatalf("seed t2: %d", res.StatusCode)
	}
	return rb
}

func (rb *readBundle) get(t *testing.T, token, pathAndQuery string) (*http.Response, []byte) {
	t.Helper()
	return rb.getResponse(t, token, pathAndQuery)
}

type pageBody struct {
	Events []map[string]any `json:"events"`
	More   string           `json:"more"`
	Cursor string           `json:"cursor"`
}

// all follows more links from the first page and returns every event id in order.
func (rb *readBundle) all(t *testing.T, token, query string) []string {
	t.Helper()
	var ids []string
	next := "/api/v1/events?" + query
	for pages := 0; next != ""; pages++ {
		if pages > 500 {
			t.Fatal("more links never end")
		}
		res, body := rb.get(t, token, next)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", next, res.StatusCode, body)
		}
		var p pageBody
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			ids = append(ids, strings.TrimPrefix(e["id"].(string), "urn:uuid:"))
		}
		next = p.More
	}
	return ids
}

func (rb *readBundle) want(match func(seedEvent) bool) []string {
	var ids []string
	for _, e := range rb.events {
		if match(e) {
			ids = append(ids, e.id)
		}
	}
	sort.Strings(ids)
	return ids
}

func sorted(ids []string) []string {
	out := slices.Clone(ids)
	sort.Strings(out)
	return out
}

func TestEventFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		mid := time.Date(2025, 9, 20, 0, 0, 0, 0, time.UTC)
		end := time.Date(2025, 10, 10, 0, 0, 0, 0, time.UTC)
		cases := []struct {
			name  string
			query url.Values
			match func(seedEvent) bool
		}{
			{"All", url.Values{}, func(seedEvent) bool { return true }},
			{"Actor", url.Values{"actor": {"https://example.edu/users/3"}}, func(e seedEvent) bool { return e.actor == "https://example.edu/users/3" }},
			{"ActorOR", url.Values{"actor": {"https://example.edu/users/3", "https://example.edu/users/4"}}, func(e seedEvent) bool {
				return e.actor == "https://example.edu/users/3" || e.actor == "https://example.edu/users/4"
			}},
			{"Action", url.Values{"action": {"Submitted"}}, func(e seedEvent) bool { return e.action == "Submitted" }},
			{"Type", url.Values{"type": {"AssessmentEvent"}}, func(e seedEvent) bool { return e.typ == "AssessmentEvent" }},
			{"Object", url.Values{"object": {"https://example.edu/objects/5"}}, func(e seedEvent) bool { return e.object == "https://example.edu/objects/5" }},
			{"ObjectType", url.Values{"object_type": {"WebPage"}}, func(e seedEvent) bool { return e.objectType == "WebPage" }},
			{"Course", url.Values{"course": {"https://example.edu/courses/1"}}, func(e seedEvent) bool { return e.course == "https://example.edu/courses/1" }},
			{"Session", url.Values{"session": {"https://example.edu/sessions/2"}}, func(e seedEvent) bool { return e.session == "https://example.edu/sessions/2" }},
			{"EdApp", url.Values{"edapp": {"https://example.edu/apps/1"}}, func(e seedEvent) bool { return e.edApp == "https://example.edu/apps/1" }},
			{"Profile", url.Values{"profile": {"ReadingProfile"}}, func(e seedEvent) bool { return e.profile == "ReadingProfile" }},
			{"Sensor", url.Values{"sensor": {"https://example.edu/sensors/1"}}, func(e seedEvent) bool { return e.sensor == "https://example.edu/sensors/1" }},
			{"Since", url.Values{"since": {mid.Format(time.RFC3339)}}, func(e seedEvent) bool { return !e.eventTime.Before(mid) }},
			{"SinceUntil", url.Values{"since": {mid.Format(time.RFC3339)}, "until": {end.Format(time.RFC3339)}}, func(e seedEvent) bool {
				return !e.eventTime.Before(mid) && e.eventTime.Before(end)
			}},
			{"StoredSince", url.Values{"stored_since": {"2000-01-01T00:00:00Z"}}, func(seedEvent) bool { return true }},
			{"StoredSinceFuture", url.Values{"stored_since": {"2999-01-01T00:00:00Z"}}, func(seedEvent) bool { return false }},
			{"Contains", url.Values{"contains": {`{"extensions":{"attempt":2}}`}}, func(e seedEvent) bool { return e.attempt == 2 }},
			{"ContainsOR", url.Values{"contains": {`{"extensions":{"attempt":2}}`, `{"action":"Viewed"}`}}, func(e seedEvent) bool { return e.attempt == 2 || e.action == "Viewed" }},
			{"CourseActionTime", url.Values{"course": {"https://example.edu/courses/2"}, "action": {"Started", "Viewed"}, "until": {end.Format(time.RFC3339)}}, func(e seedEvent) bool {
				return e.course == "https://example.edu/courses/2" && (e.action == "Started" || e.action == "Viewed") && e.eventTime.Before(end)
			}},
			{"ActorCourseSensor", url.Values{"actor": {"https://example.edu/users/1"}, "course": {"https://example.edu/courses/0"}, "sensor": {"https://example.edu/sensors/0"}}, func(e seedEvent) bool {
				return e.actor == "https://example.edu/users/1" && e.course == "https://example.edu/courses/0" && e.sensor == "https://example.edu/sensors/0"
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want := rb.want(tc.match)
				for _, asc := range []string{"true", "false"} {
					q := url.Values{}
					for k, v := range tc.query {
						q[k] = v
					}
					q.Set("ascending", asc)
					q.Set("limit", "1000")
					got := rb.all(t, rb.readToken, q.Encode())
					if !reflect.DeepEqual(sorted(got), want) {
						t.Errorf("ascending=%s: got %d events, want %d", asc, len(got), len(want))
					}
				}
			})
		}
	})
}

func TestPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		everything := rb.want(func(seedEvent) bool { return true })
		for _, asc := range []bool{true, false} {
			for _, limit := range []int{1, 7, 100, 240} {
				got := rb.all(t, rb.readToken, fmt.Sprintf("ascending=%t&limit=%d&course=https://example.edu/courses/0&course=https://example.edu/courses/1&course=https://example.edu/courses/2", asc, limit))
				if !reflect.DeepEqual(sorted(got), everything) {
					t.Fatalf("ascending=%t limit=%d: %d events, want %d", asc, limit, len(got), len(everything))
				}
				// Seeded in id order, one transaction per envelope: stored order is id order.
				wantOrder := slices.Clone(everything)
				if !asc {
					slices.Reverse(wantOrder)
				}
				if !reflect.DeepEqual(got, wantOrder) {
					t.Errorf("ascending=%t limit=%d: not in stored order", asc, limit)
				}
			}
		}
		// The first page of a limit-7 descending listing starts with the newest.
		res, body := rb.get(t, rb.readToken, "/api/v1/events?limit=7")
		var p pageBody
		json.Unmarshal(body, &p)
		if res.StatusCode != 200 || len(p.Events) != 7 || p.More == "" || p.Events[0]["id"] != "urn:uuid:"+everything[len(everything)-1] {
			t.Errorf("first page: %d, %d events, more %q", res.StatusCode, len(p.Events), p.More)
		}
	})
}

func TestSingleRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		e := rb.events[42]
		for _, id := range []string{"urn:uuid:" + e.id, e.id} {
			res, body := rb.get(t, rb.readToken, "/api/v1/events/"+id)
			if res.StatusCode != 200 || !reflect.DeepEqual(decodeJSON(t, body), decodeJSON(t, []byte(e.json()))) {
				t.Errorf("GET event %s: %d %s", id, res.StatusCode, body)
			}
		}
		if res, _ := rb.get(t, rb.readToken, "/api/v1/events/urn:uuid:00000000-0000-4000-8000-999999999999"); res.StatusCode != 404 {
			t.Errorf("missing event: %d", res.StatusCode)
		}

		// An envelope comes back as it was received, entities and a re-sent duplicate included.
		body := envelope(rb.events[0].json(), `{"id":"https://example.edu/users/0","type":"Person","name":"Zoe"}`, `"https://example.edu/x"`)
		res := rb.post(t, rb.token, "application/json", body, "Prefer", "return=representation")
		var sum store.SaveResult
		json.NewDecoder(res.Body).Decode(&sum)
		if sum.Duplicates != 1 {
			t.Fatalf("summary %+v", sum)
		}
		got, raw := rb.get(t, rb.readToken, "/api/v1/envelopes/"+sum.EnvelopeID)
		if got.StatusCode != 200 || !reflect.DeepEqual(decodeJSON(t, raw), decodeJSON(t, body)) {
			t.Errorf("envelope: %d\n got %s\nwant %s", got.StatusCode, raw, body)
		}

		res2, raw := rb.get(t, rb.readToken, "/api/v1/entities?id="+url.QueryEscape("https://example.edu/users/0"))
		if res2.StatusCode != 200 || !strings.Contains(string(raw), "Zoe") {
			t.Errorf("entity: %d %s", res2.StatusCode, raw)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		if got := rb.all(t, rb.other, "limit=1000"); len(got) != 10 || !strings.HasPrefix(got[0], "99999999") {
			t.Errorf("t2 sees %d events: %v", len(got), got)
		}
		if got := rb.all(t, rb.readToken, "limit=1000"); len(got) != 240 {
			t.Errorf("t1 sees %d events", len(got))
		}
		for _, path := range []string{
			"/api/v1/events/urn:uuid:" + rb.events[0].id,
			"/api/v1/envelopes/1",
			"/api/v1/entities?id=https://example.edu/users/0",
		} {
			if res, body := rb.get(t, rb.other, path); res.StatusCode != 404 {
				t.Errorf("t2 GET %s: %d %s", path, res.StatusCode, body)
			}
		}
		_, body := rb.get(t, rb.other, "/api/v1/stats?by=action")
		var st struct{ Groups []map[string]any }
		json.Unmarshal(body, &st)
		total := 0.0
		for _, g := range st.Groups {
			total += g["count"].(float64)
		}
		if total != 10 {
			t.Errorf("t2 stats count %v events", total)
		}
		_, body = rb.get(t, rb.other, "/api/v1/export?format=ndjson")
		if n := strings.Count(string(body), "\n"); n != 10 {
			t.Errorf("t2 export has %d lines", n)
		}
		// A write-only key cannot read.
		if res, _ := rb.get(t, rb.token, "/api/v1/events"); res.StatusCode != 401 {
			t.Errorf("write-only key reads: %d", res.StatusCode)
		}
	})
}

func TestStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		res, body := rb.get(t, rb.readToken, "/api/v1/stats?by=course,action&action=Started&action=Submitted")
		if res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		var st struct {
			By     []string
			Groups []map[string]any
		}
		json.Unmarshal(body, &st)
		want := map[string]int{}
		for _, e := range rb.events {
			if e.action == "Started" || e.action == "Submitted" {
				want[e.course+" "+e.action]++
			}
		}
		got := map[string]int{}
		prev := 1 << 30
		for _, g := range st.Groups {
			n := int(g["count"].(float64))
			got[g["course"].(string)+" "+g["action"].(string)] = n
			if n > prev {
				t.Error("groups not sorted by count")
			}
			prev = n
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stats %v, want %v", got, want)
		}

		_, body = rb.get(t, rb.readToken, "/api/v1/stats?by=day&course=https://example.edu/courses/0&limit=5")
		var days struct {
			Groups    []map[string]any
			Truncated bool
		}
		json.Unmarshal(body, &days)
		if len(days.Groups) != 5 || !days.Truncated || days.Groups[0]["day"].(string) > days.Groups[1]["day"].(string) {
			t.Errorf("by day: %s", body)
		}

		// An event with no group counts under a null course.
		if res := rb.post(t, rb.token, "application/json", envelope(event("0c0c0c0c-0000-4000-8000-000000000001"))); res.StatusCode != 200 {
			t.Fatalf("post: %d", res.StatusCode)
		}
		_, body = rb.get(t, rb.readToken, "/api/v1/stats?by=course&action=Viewed")
		var byCourse struct{ Groups []map[string]any }
		json.Unmarshal(body, &byCourse)
		nullCourse := false
		for _, g := range byCourse.Groups {
			if v, present := g["course"]; present && v == nil && g["count"].(float64) == 1 {
				nullCourse = true
			}
		}
		if !nullCourse {
			t.Errorf("no null-course group: %s", body)
		}

		// Once the roll-up worker has run, the same answers come from it.
		for range 10 {
			if n, err := rb.db.Rollup(context.Background()); err != nil || n == 0 {
				break
			}
		}
		var fromRollup struct {
			Source string
			Groups []map[string]any
		}
		_, body = rb.get(t, rb.readToken, "/api/v1/stats?by=action")
		json.Unmarshal(body, &fromRollup)
		wantActions := map[string]float64{"Viewed": 1}
		for _, e := range rb.events {
			wantActions[e.action]++
		}
		gotActions := map[string]float64{}
		for _, g := range fromRollup.Groups {
			gotActions[g["action"].(string)] = g["count"].(float64)
		}
		if fromRollup.Source != "rollup" || !reflect.DeepEqual(gotActions, wantActions) {
			t.Errorf("by action from roll-ups: %s, want %v", body, wantActions)
		}
		var actors struct {
			Count, Source string
			Approximate   bool
			Groups        []map[string]any
		}
		_, body = rb.get(t, rb.readToken, "/api/v1/stats?by=day&count=actors&course=https://example.edu/courses/1")
		json.Unmarshal(body, &actors)
		perDay := map[string]map[string]bool{}
		for _, e := range rb.events {
			if e.course == "https://example.edu/courses/1" {
				d := e.eventTime.Format("2006-01-02")
				if perDay[d] == nil {
					perDay[d] = map[string]bool{}
				}
				perDay[d][e.actor] = true
			}
		}
		if actors.Count != "actors" || actors.Source != "rollup" || !actors.Approximate || len(actors.Groups) != len(perDay) {
			t.Fatalf("distinct actors by day: %s", body)
		}
		for _, g := range actors.Groups {
			if n := len(perDay[g["day"].(string)]); float64(n) != g["count"].(float64) {
				t.Errorf("%s: %v distinct actors, want %d", g["day"], g["count"], n)
			}
		}
	})
}

func TestExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		res, body := rb.get(t, rb.readToken, "/api/v1/export?format=ndjson&action=Viewed")
		want := rb.want(func(e seedEvent) bool { return e.action == "Viewed" })
		var got []string
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimPrefix(ev["id"].(string), "urn:uuid:"))
		}
		if res.Header.Get("Content-Type") != "application/x-ndjson" || !reflect.DeepEqual(sorted(got), want) {
			t.Errorf("ndjson export: %s, %d events, want %d", res.Header.Get("Content-Type"), len(got), len(want))
		}

		res, body = rb.get(t, rb.readToken, "/api/v1/export?format=csv&course=https://example.edu/courses/1")
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("csv export Content-Type %q", ct)
		}
		records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantRows := rb.want(func(e seedEvent) bool { return e.course == "https://example.edu/courses/1" })
		if len(records) != len(wantRows)+1 || records[0][0] != "id" || records[0][13] != "event" {
			t.Fatalf("csv: %d records, header %v", len(records), records[0])
		}
		row := records[1]
		var ev map[string]any
		if err := json.Unmarshal([]byte(row[13]), &ev); err != nil || ev["id"] != row[0] || row[6] != "https://example.edu/courses/1" {
			t.Errorf("csv row %v", row)
		}
	})
}

func TestReadBadParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		_, body := rb.get(t, rb.readToken, "/api/v1/events?limit=3&action=Viewed")
		var p pageBody
		json.Unmarshal(body, &p)
		cases := []struct{ path, param string }{
			{"/api/v1/events?colour=red", "colour"},
			{"/api/v1/events?limit=0", "limit"},
			{"/api/v1/events?limit=1001", "limit"},
			{"/api/v1/events?limit=ten", "limit"},
			{"/api/v1/events?ascending=maybe", "ascending"},
			{"/api/v1/events?since=yesterday", "since"},
			{"/api/v1/events?since=2025-10-01T00:00:00Z&until=2025-09-01T00:00:00Z", "until"},
			{"/api/v1/events?contains=[1]", "contains"},
			{"/api/v1/events?contains=%7Bnope", "contains"},
			{"/api/v1/events?actor=", "actor"},
			{"/api/v1/events?cursor=garbage", "cursor"},
			{"/api/v1/events?limit=3&action=Started&cursor=" + p.Cursor, "cursor"},               // another query's cursor
			{"/api/v1/events?limit=3&action=Viewed&ascending=true&cursor=" + p.Cursor, "cursor"}, // other direction
			{"/api/v1/events/not-a-uuid", "id"},
			{"/api/v1/envelopes/x", "id"},
			{"/api/v1/entities", "id"},
			{"/api/v1/entities?id=a:b&x=1", "x"},
			{"/api/v1/stats", "by"},
			{"/api/v1/stats?by=colour", "by"},
			{"/api/v1/stats?by=action,type,day", "by"},
			{"/api/v1/stats?by=action&limit=100000", "limit"},
			{"/api/v1/stats?by=action&count=sessions", "count"},
			{"/api/v1/export?format=xml", "format"},
			{"/api/v1/export?format=csv&limit=5", "limit"},
			{"/api/v1/events?actor=x%27%3B%20DROP%20TABLE%20events%3B--", ""}, // a value is never SQL
		}
		for _, tc := range cases {
			res, body := rb.get(t, rb.readToken, tc.path)
			if tc.param == "" {
				if res.StatusCode != 200 {
					t.Errorf("%s: %d", tc.path, res.StatusCode)
				}
				continue
			}
			var prob struct {
				Status    int
				Parameter string
			}
			json.Unmarshal(body, &prob)
			if res.StatusCode != 400 || prob.Parameter != tc.param || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d parameter %q, want 400 naming %q: %s", tc.path, res.StatusCode, prob.Parameter, tc.param, body)
			}
		}
		if got := rb.all(t, rb.readToken, "limit=1000"); len(got) != 240 {
			t.Errorf("events after the injection attempt: %d", len(got))
		}
	})
}
