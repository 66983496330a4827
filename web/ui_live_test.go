package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lrs-dev/lrs/ingest/synth"
)

// postTo stores an envelope through the server of the UI (the one with the
// stream hub) and returns the ids of its events.
func (w *uiWorld) postTo(t *testing.T, env []byte) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base+"/caliper", bytes.NewReader(env))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.b.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /caliper: %d", res.StatusCode)
	}
	var parsed struct{ Data []struct{ ID, Action string } }
	if err := json.Unmarshal(env, &parsed); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(parsed.Data))
	for i, e := range parsed.Data {
		ids[i] = e.ID
	}
	return ids
}

// liveRow is the JavaScript test for a live row of event id.
func liveRow(id string) string {
	return fmt.Sprintf(`document.querySelector('#live-table tbody tr[data-id=%q]')`, id)
}

// testLive: a freshly stored event shows within 2 s; pause holds events back
// and resume shows them; the filters apply; the rows stay bounded. The
// events go through the UI's own server, as a sensor would send them.
func testLive(t *testing.T, w *uiWorld) {
	g := synth.New(synth.Population{Actors: 5, Courses: 2, Objects: 5, Start: time.Now().Add(-time.Hour), Span: time.Hour}, 99)
	w.do(t, "open live", chromedp.Navigate(w.base+"/ui/#/live"), waitText("#live-state", "Live: 0 events"))
	if rows := js[int](t, w, `document.querySelectorAll("#live-table tbody tr").length`); rows != 0 {
		t.Fatalf("live starts with %d rows; it shows what is stored from now on", rows)
	}
	// The page got a ticket and never put the token in a URL.
	streams := 0
	for _, u := range w.requested() {
		if strings.Contains(u, w.read) {
			t.Errorf("the token is in a URL: %s", u)
		}
		if strings.Contains(u, "/api/v1/stream?") {
			streams++
			if !strings.Contains(u, "ticket=lrst_") {
				t.Errorf("a stream opened without a ticket: %s", u)
			}
		}
	}
	if streams == 0 {
		t.Error("no stream opened")
	}

	// A fresh event, on screen within 2 s of its POST being answered.
	id := w.postTo(t, g.Envelope(1))[0]
	start := time.Now()
	w.do(t, "a fresh event within 2 s", untilWithin(liveRow(id), 2*time.Second))
	t.Logf("a posted event was on screen %v after its POST was answered", time.Since(start).Round(time.Millisecond))
	if state := text(t, w, "#live-state"); !strings.Contains(state, "Live: 1 event received") {
		t.Errorf("state: %q", state)
	}
	w.shot(t, "live")

	// Paused: held back and counted; resumed: shown, newest on top.
	w.do(t, "pause", chromedp.Click(chromedp.CSS("#live-pause")), waitText("#live-state", "Paused"))
	held := w.postTo(t, g.Envelope(3))
	w.do(t, "held while paused", waitText("#live-state", "3 new events waiting"))
	if js[bool](t, w, liveRow(held[0])+` !== null`) {
		t.Error("an event received while paused is on screen")
	}
	w.do(t, "resume", chromedp.Click(chromedp.CSS("#live-pause")), until(liveRow(held[2])), waitText("#live-state", "Live: 4 events"))
	if top := js[string](t, w, `document.querySelector("#live-table tbody tr").dataset.id`); top != held[2] {
		t.Errorf("top row %q, want the newest %q", top, held[2])
	}

	// Filtered on one action: only its events arrive.
	w.do(t, "filter", chromedp.Navigate(w.base+"/ui/#/live?action=Submitted"), waitText("#live-state", "Live: 0 events"),
		waitText("#live-api", "/api/v1/stream?action=Submitted"))
	var submitted []string
	for range 20 { // bounded: synth's mix has Submitted events in a few envelopes
		env := g.Envelope(10)
		ids := w.postTo(t, env)
		var parsed struct{ Data []struct{ Action string } }
		json.Unmarshal(env, &parsed)
		for i, e := range parsed.Data {
			if e.Action == "Submitted" {
				submitted = append(submitted, ids[i])
			}
		}
		if len(submitted) > 0 {
			break
		}
	}
	if len(submitted) == 0 {
		t.Fatal("no Submitted events generated")
	}
	w.do(t, "filtered events", until(liveRow(submitted[len(submitted)-1])))
	time.Sleep(300 * time.Millisecond) // time for anything else to (wrongly) arrive
	if actions := js[[]string](t, w, `[...document.querySelectorAll("#live-table tbody td:nth-child(3)")].map(td => td.textContent)`); len(actions) != len(submitted) {
		t.Errorf("filtered on Submitted: rows %v, want %d", actions, len(submitted))
	} else {
		for _, a := range actions {
			if a != "Submitted" {
				t.Errorf("filtered on Submitted, shown %q", a)
			}
		}
	}

	// Bounded: 250 events arrive, the page keeps the latest 200.
	w.do(t, "unfiltered", chromedp.Navigate(w.base+"/ui/#/live"), waitText("#live-state", "Live: 0 events"))
	var last string
	for range 5 {
		ids := w.postTo(t, g.Envelope(50))
		last = ids[len(ids)-1]
	}
	w.do(t, "250 events", waitText("#live-state", "250 events received"), until(liveRow(last)))
	if rows := js[int](t, w, `document.querySelectorAll("#live-table tbody tr").length`); rows != 200 {
		t.Errorf("%d rows after 250 events; the page keeps 200", rows)
	}
	w.do(t, "leave live", chromedp.Navigate(w.base+"/ui/#/overview"), waitText("#ov-totals", "events"))
}

// untilWithin waits for a JavaScript expression to be true, for d at most.
func untilWithin(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool]("Boolean("+expr+")", chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(20*time.Millisecond))(ctx, tg)
		if err != nil {
			err = fmt.Errorf("waiting %v for %s: %w", d, expr, err)
		}
		return chromedp.Void{}, err
	}
}
