package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// startStream serves the read API and the live stream over rb's store, with
// a hub of its own, on a real listener with the server's own limits and
// timeouts (web.Server.Serve); the hub stops (cancel) before the server.
func startStream(t testing.TB, rb *bundle, cfg web.Config, hcfg query.HubConfig) (string, context.CancelFunc) {
	t.Helper()
	cfg.CaliperPath, cfg.MaxBody = "/caliper", 64<<10
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := query.NewHub(rb.db, hcfg, log)
	d := rb.deps()
	d.Stream, d.Tickets = hub, rb.db
	srv := web.NewServer(cfg, log, d)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServe := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		stopServe()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), cancel
}

// sseEvent is one message of an event stream.
type sseEvent struct{ id, event, data string }

// sseStream is a client connection to /api/v1/stream.
type sseStream struct {
	res      *http.Response
	events   chan sseEvent // closed when the connection ends
	comments atomic.Int64
}

// openStream connects; lastID, if any, goes in Last-Event-ID.
func openStream(t testing.TB, base, token, query, lastID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("GET /api/v1/stream?%s: %d %s", query, res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sseStream{res: res, events: make(chan sseEvent, 100000)}
	go s.read()
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.res.Body)
	sc.Buffer(nil, 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.data != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			s.comments.Add(1)
		case strings.HasPrefix(line, "id: "):
			ev.id = line[len("id: "):]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[len("data: "):]
		}
	}
}

func (s *sseStream) close() { s.res.Body.Close() }

// next returns the next message, failing after wait.
func (s *sseStream) next(t testing.TB, wait time.Duration) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(wait):
		t.Fatalf("no message within %v", wait)
	}
	return sseEvent{}
}

// eventID is the Caliper id of a message's event, without urn:uuid:.
func eventID(t testing.TB, ev sseEvent) string {
	t.Helper()
	var e struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(ev.data), &e); err != nil || e.ID == "" {
		t.Fatalf("message data %q: %v", ev.data, err)
	}
	return strings.TrimPrefix(e.ID, "urn:uuid:")
}

func streamGet(t *testing.T, base, token, query string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream?"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestStreamRefusals: bad parameters are 400 naming the parameter, before
// any event is sent; a token without the read scope is 401.
func TestStreamRefusals(t *testing.T) {
	rb := setupReadOn(t, "sqlite")
	base, _ := startStream(t, rb.bundle, web.Config{}, query.HubConfig{})
	var p pageBody
	_, body := rb.get(t, rb.readToken, "/api/v1/events?limit=1") // a descending cursor
	json.Unmarshal(body, &p)
	var asc pageBody
	_, body = rb.get(t, rb.readToken, "/api/v1/events?ascending=true&limit=1&action=Started")
	json.Unmarshal(body, &asc)
	for _, tc := range []struct {
		name, query string
		hdr         []string
		param       string
	}{
		{"Unknown", "limit=5", nil, "limit"},
		{"BadFrom", "from=yesterday", nil, "from"},
		{"CursorAndFrom", "from=now&cursor=" + asc.Cursor, nil, "from"},
		{"Descending", "cursor=" + p.Cursor, nil, "cursor"},
		{"OtherFilters", "cursor=" + asc.Cursor, nil, "cursor"},
		{"BadLastEventID", "", []string{"Last-Event-ID", "nope"}, "Last-Event-ID"},
		{"BadFilter", "since=yesterday", nil, "since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := streamGet(t, base, rb.readToken, tc.query, tc.hdr...)
			if res.StatusCode != 400 {
				t.Fatalf("%d", res.StatusCode)
			}
			if got := problemOf(t, res).Parameter; got != tc.param {
				t.Errorf("parameter %v, want %s", got, tc.param)
			}
		})
	}
	t.Run("ErrWriteOnlyKey", func(t *testing.T) {
		if res := streamGet(t, base, rb.token, ""); res.StatusCode != 401 {
			t.Errorf("%d", res.StatusCode)
		}
	})
	t.Run("OKCursorOfSameFilters", func(t *testing.T) {
		s := openStream(t, base, rb.readToken, "action=Started&cursor="+asc.Cursor, "")
		if got, want := eventID(t, s.next(t, 10*time.Second)), rb.all(t, rb.readToken, "ascending=true&action=Started")[1]; got != want {
			t.Errorf("first event %s, want %s (the one after the cursor)", got, want)
		}
	})
}

// TestStreamMaxStreams: a key holds at most --max-streams streams; one
// more is 429 naming the limit, and closing one makes room.
func TestStreamMaxStreams(t *testing.T) {
	rb := setupReadOn(t, "sqlite")
	base, _ := startStream(t, rb.bundle, web.Config{MaxStreams: 2}, query.HubConfig{})
	a := openStream(t, base, rb.readToken, "", "")
	openStream(t, base, rb.readToken, "", "")
	res := streamGet(t, base, rb.readToken, "")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "1" {
		t.Fatalf("third stream: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if got := problemOf(t, res).Limit; got != "streams" {
		t.Errorf("limit %v", got)
	}
	openStream(t, base, rb.other, "", "").close() // another key has its own count
	a.close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		res := streamGet(t, base, rb.readToken, "")
		res.Body.Close()
		if res.StatusCode == 200 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("after a close: %d", res.StatusCode)
		}
	}
}

// TestStreamHeartbeatAndShutdown: an idle stream gets comment lines and
// outlives the server's read timeout; when the server stops, the stream
// ends with a closed message holding the cursor of the last event.
func TestStreamHeartbeatAndShutdown(t *testing.T) {
	rb := setupReadOn(t, "sqlite")
	cfg := web.Config{StreamHeartbeat: 50 * time.Millisecond, Limits: web.Limits{ReadTimeout: 500 * time.Millisecond}}
	base, stop := startStream(t, rb.bundle, cfg, query.HubConfig{})
	s := openStream(t, base, rb.readToken, "from=beginning", "")
	var last sseEvent
	for range len(rb.events) {
		last = s.next(t, 10*time.Second)
	}
	time.Sleep(time.Second) // past the read timeout
	if n := s.comments.Load(); n < 5 {
		t.Errorf("%d comment lines in a second, want heartbeats every 50ms", n)
	}
	ev := rb.events[0]
	ev.id = "cccccccc-0000-4000-8000-000000000001"
	if res := rb.post(t, rb.token, "application/json", envelope(ev.json())); res.StatusCode != 200 {
		t.Fatalf("post: %d", res.StatusCode)
	}
	last = s.next(t, 10*time.Second)
	if got := eventID(t, last); got != ev.id {
		t.Fatalf("got %s", got)
	}
	stop()
	closed := s.next(t, 10*time.Second)
	var m struct{ Reason, Cursor string }
	if err := json.Unmarshal([]byte(closed.data), &m); err != nil || closed.event != "closed" || m.Reason != "shutdown" || m.Cursor != last.id {
		t.Errorf("last message %+v (%+v), want closed with reason shutdown and cursor %s", closed, m, last.id)
	}
	if _, ok := <-s.events; ok {
		t.Error("stream goes on after closed")
	}
}

// TestStreamFilters: events arriving live go to each stream whose filters
// select them — exactly what /api/v1/events answers for the same filters,
// in the same order — and a stream's ids are cursors of that query.
func TestStreamFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		base, _ := startStream(t, rb.bundle, web.Config{}, query.HubConfig{})
		filters := []string{
			"action=Started",
			"course=https://example.edu/courses/1&profile=AssessmentProfile",
			"sensor=https://example.edu/sensors/1",
			`contains={"extensions":{"attempt":2}}`,
			"since=2025-09-20T00:00:00Z&until=2025-10-20T00:00:00Z",
			"actor=https://example.edu/users/3&actor=https://example.edu/users/4",
			"object_type=Document&edapp=https://example.edu/apps/0",
			"stored_since=2000-01-01T00:00:00Z",
		}
		streams := make([]*sseStream, len(filters))
		for i, f := range filters {
			streams[i] = openStream(t, base, rb.readToken, escapeQuery(f), "")
		}
		// The same events again under new ids, live; and another tenant's.
		for i := 0; i < len(rb.events); i += 20 {
			var items []string
			for _, e := range rb.events[i : i+20] {
				e.id = "bbbbbbbb" + e.id[8:]
				items = append(items, e.json())
			}
			body := strings.Replace(string(envelope(items...)), "https://example.edu/sensors/1", rb.events[i].sensor, 1)
			if res := rb.post(t, rb.token, "application/json", []byte(body)); res.StatusCode != 200 {
				t.Fatalf("post: %d", res.StatusCode)
			}
		}
		for i, f := range filters {
			var want []string
			for _, id := range rb.all(t, rb.readToken, "ascending=true&limit=1000&"+escapeQuery(f)) {
				if strings.HasPrefix(id, "bbbbbbbb") {
					want = append(want, id)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s selects nothing: a test that cannot fail", f)
			}
			var got []sseEvent
			for range want {
				got = append(got, streams[i].next(t, 10*time.Second))
			}
			select {
			case ev := <-streams[i].events:
				t.Errorf("%s: an event more than the read API has: %s", f, ev.data)
			case <-time.After(100 * time.Millisecond):
			}
			for j := range want {
				if id := eventID(t, got[j]); id != want[j] {
					t.Fatalf("%s: event %d is %s, want %s", f, j, id, want[j])
				}
			}
			// The id of a message is the read API's cursor after it.
			k := len(want) / 2
			rest := rb.all(t, rb.readToken, "ascending=true&limit=1000&"+escapeQuery(f)+"&cursor="+got[k].id)
			if len(rest) != len(want)-k-1 || (len(rest) > 0 && rest[0] != want[k+1]) {
				t.Errorf("%s: after the id of message %d the read API has %d events, want %d", f, k, len(rest), len(want)-k-1)
			}
		}
	})
}

// escapeQuery percent-encodes the values of a query written plainly.
func escapeQuery(q string) string {
	v := url.Values{}
	for _, kv := range strings.Split(q, "&") {
		k, val, _ := strings.Cut(kv, "=")
		v.Add(k, val)
	}
	return v.Encode()
}

// TestStreamTicket: a read key gets a ticket that opens streams of its
// tenant without an Authorization header, until it expires; a forged or
// expired ticket is 401, and a ticket opens nothing but the stream.
func TestStreamTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		base, _ := startStream(t, rb.bundle, web.Config{StreamTicketTTL: 500 * time.Millisecond}, query.HubConfig{})
		ticketFor := func(token string) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/stream/tickets", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body struct{ Ticket, ExpiresAt, URL string }
			json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode == 201 && (body.URL != "/api/v1/stream?ticket="+body.Ticket || body.ExpiresAt == "") {
				t.Errorf("ticket answer %+v", body)
			}
			return res.StatusCode, body.Ticket
		}
		if status, _ := ticketFor(rb.token); status != 401 {
			t.Errorf("ticket for a write-only key: %d", status)
		}
		status, ticket := ticketFor(rb.other)
		if status != 201 || !strings.HasPrefix(ticket, "lrst_") || strings.Contains(ticket, rb.other) {
			t.Fatalf("ticket: %d %q", status, ticket)
		}
		res, err := http.Get(base + "/api/v1/stream?from=beginning&ticket=" + ticket)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("stream with a ticket: %d", res.StatusCode)
		}
		s := &sseStream{res: res, events: make(chan sseEvent, 1000)}
		go s.read()
		defer s.close()
		for range 10 { // tenant t2's ten events, and no others
			if id := eventID(t, s.next(t, 10*time.Second)); !strings.HasPrefix(id, "99999999") {
				t.Fatalf("event %s of another tenant", id)
			}
		}
		if res := streamGet(t, base, "", "ticket=lrst_"+strings.Repeat("A", 55)); res.StatusCode != 401 {
			t.Errorf("forged ticket: %d", res.StatusCode)
		}
		// The same ticket downloads the export (a browser's download link),
		// in both formats, of the tenant's ten events only.
		for format, lines := range map[string]int{"ndjson": 10, "csv": 11} {
			res, err := http.Get(base + "/api/v1/export?format=" + format + "&ticket=" + ticket)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Content-Disposition") != `attachment; filename="events.`+format+`"` {
				t.Fatalf("export %s with a ticket: %d %q", format, res.StatusCode, res.Header.Get("Content-Disposition"))
			}
			if n := bytes.Count(body, []byte("\n")); n != lines || !bytes.Contains(body, []byte("urn:uuid:99999999")) {
				t.Errorf("export %s with a ticket: %d lines, want %d: %.200s", format, n, lines, body)
			}
		}
		if res, _ := rb.get(t, "", "/api/v1/export?ticket=lrst_"+strings.Repeat("A", 55)); res.StatusCode != 401 {
			t.Errorf("export with a forged ticket: %d", res.StatusCode)
		}
		if res, _ := rb.get(t, "", "/api/v1/events?ticket="+ticket); res.StatusCode != 401 {
			t.Errorf("ticket on /api/v1/events: %d", res.StatusCode)
		}
		time.Sleep(600 * time.Millisecond)
		if res := streamGet(t, base, "", "ticket="+ticket); res.StatusCode != 401 {
			t.Errorf("expired ticket: %d", res.StatusCode)
		}
	})
}
