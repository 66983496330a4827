package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/forward"
	"github.com/lrs-dev/lrs/store/storetest"
)

// fwdEvent is one Caliper 1.2 event with id and action.
func fwdEvent(id, action string) string {
	typ := "ViewEvent"
	if action == "NavigatedTo" {
		typ = "NavigationEvent"
	}
	return fmt.Sprintf(`{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:%s","type":%q,"action":%q,`+
		`"profile":"ReadingProfile","actor":{"id":"https://example.edu/users/1","type":"Person"},`+
		`"object":{"id":"https://example.edu/docs/1","type":"Document"},"eventTime":"2026-12-05T10:00:00.000Z"}`, id, typ, action)
}

// postFwd posts one envelope of new events with action to base and returns their ids.
func postFwd(t *testing.T, base, token, action string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	evs := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
		evs[i] = fwdEvent(ids[i], action)
	}
	body := `{"sensor":"https://example.edu/s","sendTime":"2026-12-05T10:00:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` +
		strings.Join(evs, ",") + `]}`
	req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("post: %d %s", res.StatusCode, b)
	}
	return ids
}

// apiJSON calls the API of base with token and decodes the answer into out.
func apiJSON(t *testing.T, method, url, token string, body string, out any) int {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if v, ok := out.(*fwdView); ok {
			*v = fwdView{} // omitted members must not keep old values
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	return res.StatusCode
}

// eventIDs reads every event id of the tenant behind token at base, in stored order.
func eventIDs(t *testing.T, base, token string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 100 {
		var page struct {
			Events []struct{ ID string } `json:"events"`
			Cursor string                `json:"cursor"`
		}
		url := base + "/api/v1/events?ascending=true&limit=1000"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		if status := apiJSON(t, "GET", url, token, "", &page); status != 200 {
			t.Fatalf("list events: %d", status)
		}
		for _, e := range page.Events {
			ids = append(ids, strings.TrimPrefix(e.ID, "urn:uuid:"))
		}
		if len(page.Events) < 1000 || page.Cursor == "" {
			return ids
		}
		cursor = page.Cursor
	}
	t.Fatal("too many pages")
	return nil
}

// waitFor polls cond every 50 ms for up to within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool, show ...any) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within %v: %s %s", within, what, fmt.Sprintf(strings.Repeat("%+v ", len(show)), show...))
}

// newKey creates a key of tenant with scopes in the store at db and returns its token.
func newKey(t *testing.T, db, tenant, scopes string) string {
	t.Helper()
	out, stderr, err := runErr(env(map[string]string{"LRS_DATABASE_URL": db, "LRS_FORWARD_LEASE": "3s"}), "keys", "create", "--tenant", tenant, "--scopes", scopes)
	if err != nil {
		t.Fatal(err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// addForwarder runs lrs forwarders add on db and returns the id it prints last.
func addForwarder(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, stderr, err := runErr(env(map[string]string{"LRS_DATABASE_URL": db, "LRS_FORWARD_LEASE": "3s"}), append([]string{"forwarders", "add"}, args...)...)
	if err != nil {
		t.Fatal(err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

type fwdView struct {
	Paused bool
	Status struct {
		State        string
		Delivered    int64
		EventsBehind int64
		DeadLetters  int64
		Node         string
		LastError    string
	}
}

// TestForwardToLRS: a caliper forwarder to a second real lrs delivers every
// event once, in stored order, from the beginning and live; a webhook
// forwarder with a filter delivers only what it selects, signed; paused, a
// forwarder delivers nothing until resumed. Both stores as the sender.
func TestForwardToLRS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		recvDB := storetest.URL(t, "sqlite")
		recvToken := newKey(t, recvDB, "warehouse", "write,read")
		recv := startServer(t, env(map[string]string{"LRS_DATABASE_URL": recvDB, "LRS_MIGRATE": "true"}))

		db := storetest.URL(t, kind)
		token := newKey(t, db, "uni", "write,read")
		admin := newKey(t, db, "uni", "admin")
		base, _, logs, stopBase := startServerIO(t, env(map[string]string{"LRS_DATABASE_URL": db, "LRS_FORWARD_LEASE": "3s"}))
		t.Cleanup(stopBase)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(logs.String())
			}
		})

		var sent []string
		for range 3 {
			sent = append(sent, postFwd(t, base, token, "Viewed", 40)...)
		}
		hook := newHookReceiver(t, "0123456789abcdef-secret")
		all := addForwarder(t, db, "--tenant", "uni", "--url", recv+"/caliper", "--kind", "caliper", "--token", recvToken,
			"--from", "beginning", "--batch", "25", "--max-wait", "50ms")
		addForwarder(t, db, "--tenant", "uni", "--url", hook.url, "--kind", "webhook", "--secret", "0123456789abcdef-secret",
			"--filter", "action=Viewed", "--from", "now", "--batch", "10", "--max-wait", "50ms")
		var viewed []string
		for i := range 10 {
			action := "Viewed"
			if i%2 == 1 {
				action = "NavigatedTo"
			}
			ids := postFwd(t, base, token, action, 7)
			sent = append(sent, ids...)
			if action == "Viewed" {
				viewed = append(viewed, ids...)
			}
		}
		waitFor(t, 30*time.Second, "receiver holds every event", func() bool { return len(eventIDs(t, recv, recvToken)) >= len(sent) })
		if got := eventIDs(t, recv, recvToken); !slices.Equal(got, sent) {
			t.Fatalf("receiver holds %d events, want the %d sent in stored order", len(got), len(sent))
		}
		waitFor(t, 30*time.Second, "webhook gets the Viewed events", func() bool { return len(hook.ids()) >= len(viewed) })
		if got := hook.ids(); !slices.Equal(got, viewed) {
			t.Fatalf("webhook got %d events, want the %d Viewed ones after it was made", len(got), len(viewed))
		}
		if bad := hook.badSignatures(); bad > 0 {
			t.Fatalf("%d webhook requests with a wrong signature", bad)
		}
		var v fwdView
		waitFor(t, 10*time.Second, "status shows everything delivered", func() bool {
			apiJSON(t, "GET", base+"/api/v1/forwarders/"+all, admin, "", &v)
			return v.Status.Delivered == int64(len(sent)) && v.Status.EventsBehind == 0
		})
		if v.Status.State != "delivering" || v.Status.Node == "" {
			t.Fatalf("status %+v, want delivering with a node", v.Status)
		}

		// Paused: nothing goes; resumed: the rest goes.
		if status := apiJSON(t, "PATCH", base+"/api/v1/forwarders/"+all, admin, `{"paused":true}`, &v); status != 200 {
			t.Fatalf("pause: %d", status)
		}
		waitFor(t, 20*time.Second, "the node lets the paused forwarder go", func() bool {
			apiJSON(t, "GET", base+"/api/v1/forwarders/"+all, admin, "", &v)
			return v.Status.State == "paused" && v.Status.Node == ""
		}, &v)
		more := postFwd(t, base, token, "Viewed", 5)
		time.Sleep(500 * time.Millisecond)
		if got := len(eventIDs(t, recv, recvToken)); got != len(sent) {
			t.Fatalf("paused forwarder delivered: receiver holds %d, want %d", got, len(sent))
		}
		apiJSON(t, "PATCH", base+"/api/v1/forwarders/"+all, admin, `{"paused":false}`, &v)
		sent = append(sent, more...)
		waitFor(t, 30*time.Second, "resumed forwarder delivers", func() bool { return len(eventIDs(t, recv, recvToken)) >= len(sent) })
		if got := eventIDs(t, recv, recvToken); !slices.Equal(got, sent) {
			t.Fatalf("after resume the receiver holds %d events, want %d", len(got), len(sent))
		}
	})
}

// hookReceiver is a webhook receiver over loopback checking signatures.
type hookReceiver struct {
	url    string
	secret string
	got    chan []string
	bad    chan int
	all    []string
	nbad   int
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	h := &hookReceiver{secret: secret, got: make(chan []string, 1000), bad: make(chan int, 1000)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get(forward.HeaderTimestamp)
		if r.Header.Get(forward.HeaderSignature) != forward.Sign(secret, ts, body) {
			h.bad <- 1
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var batch struct{ Events []struct{ ID string } }
		if err := json.Unmarshal(body, &batch); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var ids []string
		for _, e := range batch.Events {
			ids = append(ids, strings.TrimPrefix(e.ID, "urn:uuid:"))
		}
		h.got <- ids
	})
	srv := startLoopback(t, mux)
	h.url = srv + "/hook"
	return h
}

func (h *hookReceiver) drain() {
	for {
		select {
		case ids := <-h.got:
			for _, id := range ids {
				if !slices.Contains(h.all, id) { // receivers dedupe by id
					h.all = append(h.all, id)
				}
			}
		case <-h.bad:
			h.nbad++
		default:
			return
		}
	}
}

func (h *hookReceiver) ids() []string      { h.drain(); return h.all }
func (h *hookReceiver) badSignatures() int { h.drain(); return h.nbad }

// startLoopback serves h on a free loopback port until the test ends.
func startLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	addr := freeAddr(t)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ListenAndServe() }()
	t.Cleanup(func() { srv.Close(); <-done })
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if res, err := http.Get("http://" + addr + "/"); err == nil {
			res.Body.Close()
			return "http://" + addr
		}
	}
	t.Fatal("loopback server did not start")
	return ""
}

// flakyReceiver is a Caliper receiver over loopback that fails on a
// script: two 503s, a 429 with Retry-After, an answer slower than the
// forwarder's timeout, a slow one; and refuses (400) any envelope holding
// the poison event until told to accept it.
type flakyReceiver struct {
	mu       sync.Mutex
	n        int
	poison   string
	accept   bool
	received []string
	statuses map[int]int
}

func (f *flakyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.n++
	n, accept := f.n, f.accept
	f.mu.Unlock()
	status := func(s int) {
		f.mu.Lock()
		f.statuses[s]++
		f.mu.Unlock()
	}
	switch n {
	case 1, 2:
		status(503)
		http.Error(w, "down for a moment", http.StatusServiceUnavailable)
		return
	case 3:
		status(429)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case 4:
		time.Sleep(700 * time.Millisecond) // past the forwarder's timeout: it gives up, the events are stored anyway
	case 5:
		time.Sleep(150 * time.Millisecond)
	}
	var env struct {
		Sensor, DataVersion string
		Data                []struct{ ID string }
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Sensor == "" || env.DataVersion == "" || r.Header.Get("Authorization") != "Bearer recv-token" {
		status(422)
		http.Error(w, "not an envelope with a token", http.StatusUnprocessableEntity)
		return
	}
	var ids []string
	for _, e := range env.Data {
		id := strings.TrimPrefix(e.ID, "urn:uuid:")
		if id == f.poison && !accept {
			status(400)
			http.Error(w, "poison refused: "+id, http.StatusBadRequest)
			return
		}
		ids = append(ids, id)
	}
	f.mu.Lock()
	for _, id := range ids {
		if !slices.Contains(f.received, id) { // dedupe by id, as lrs does
			f.received = append(f.received, id)
		}
	}
	f.mu.Unlock()
	status(200)
}

func (f *flakyReceiver) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.received)
}

type deadLetterView struct {
	ID       int64
	Events   int
	Status   int
	Response string
	State    string
}

// TestForwardFlakyReceiver: against 503s, a 429 with Retry-After, a
// timeout, a slow answer and one refused event inside a batch, a forwarder
// ends with every other event delivered once in stored order and the
// refused one parked as a dead letter with the receiver's status and body;
// replayed once the receiver takes it, it is delivered. Both stores.
func TestForwardFlakyReceiver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.URL(t, kind)
		token := newKey(t, db, "uni", "write,read")
		admin := newKey(t, db, "uni", "admin")
		base := startServer(t, env(map[string]string{"LRS_DATABASE_URL": db, "LRS_FORWARD_LEASE": "3s", "LRS_FORWARD_TIMEOUT": "300ms"}))
		ids := postFwd(t, base, token, "Viewed", 100)
		recv := &flakyReceiver{poison: ids[37], statuses: map[int]int{}}
		url := startLoopback(t, recv)
		id := addForwarder(t, db, "--tenant", "uni", "--url", url+"/caliper", "--kind", "caliper", "--token", "recv-token",
			"--from", "beginning", "--batch", "20", "--max-wait", "50ms")
		want := slices.Delete(slices.Clone(ids), 37, 38)
		waitFor(t, 60*time.Second, "every event but the refused one delivered", func() bool { return len(recv.got()) >= len(want) })
		if got := recv.got(); !slices.Equal(got, want) {
			t.Fatalf("receiver got %d events, want the %d others in stored order", len(got), len(want))
		}
		var v fwdView
		waitFor(t, 10*time.Second, "status: delivered, one dead letter", func() bool {
			apiJSON(t, "GET", base+"/api/v1/forwarders/"+id, admin, "", &v)
			return v.Status.Delivered == int64(len(want)) && v.Status.DeadLetters == 1 && v.Status.EventsBehind == 0
		}, &v)
		if !strings.Contains(v.Status.LastError, "503") && !strings.Contains(v.Status.LastError, "429") && !strings.Contains(v.Status.LastError, "no answer") {
			t.Errorf("lastError %q names none of the failures", v.Status.LastError)
		}
		var page struct{ DeadLetters []deadLetterView }
		apiJSON(t, "GET", base+"/api/v1/forwarders/"+id+"/dead-letters", admin, "", &page)
		dls := page.DeadLetters
		if len(dls) != 1 || dls[0].Events != 1 || dls[0].Status != 400 || !strings.Contains(dls[0].Response, "poison refused: "+ids[37]) || dls[0].State != "parked" {
			t.Fatalf("dead letters %+v, want the poison event parked with the 400 and its body", dls)
		}
		recv.mu.Lock()
		t.Logf("receiver answers %v", recv.statuses)
		if recv.statuses[503] != 2 || recv.statuses[429] != 1 {
			t.Errorf("answers %v: the script did not run", recv.statuses)
		}
		recv.accept = true
		recv.mu.Unlock()
		if status := apiJSON(t, "POST", fmt.Sprintf("%s/api/v1/forwarders/%s/dead-letters/%d/replay", base, id, dls[0].ID), admin, "", nil); status != 202 {
			t.Fatalf("replay: %d", status)
		}
		waitFor(t, 20*time.Second, "the replayed event delivered", func() bool {
			page.DeadLetters = nil
			apiJSON(t, "GET", base+"/api/v1/forwarders/"+id+"/dead-letters", admin, "", &page)
			dls = page.DeadLetters
			return len(dls) == 1 && dls[0].State == "replayed"
		}, &dls)
		if got := recv.got(); len(got) != len(ids) || got[len(got)-1] != ids[37] {
			t.Fatalf("after the replay the receiver holds %d events, the last %s; want %d, the last %s", len(got), got[len(got)-1], len(ids), ids[37])
		}
	})
}
