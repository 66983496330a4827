package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/web"
)

// chromiumPath finds the browser for the UI tests: LRS_CHROMIUM, else
// chromium (Debian's package) or Chrome on PATH. Without one the tests
// skip with one line — unless CI=true or LRS_REQUIRE_BROWSER=1, where a
// missing browser is a failure, never a silent skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LRS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("LRS_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found (chromium on PATH, or LRS_CHROMIUM), and CI=true or LRS_REQUIRE_BROWSER=1 requires the browser tests")
	}
	t.Skip("no Chromium found (apt-get install chromium, or set LRS_CHROMIUM): the web UI browser tests are skipped")
	return ""
}

// uiWorld is a server with the live stream over a store holding a mixed
// tenant, and a headless Chromium pointed at it.
type uiWorld struct {
	b           *bundle
	base        string // the server with the stream hub, on a real listener
	read, admin string // tokens of tenant t1
	ctx         context.Context

	mu       sync.Mutex
	problems []string // console errors, exceptions, CSP violations
	urls     []string // every URL the page requested
}

// requested is every URL the page asked for so far.
func (w *uiWorld) requested() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.urls...)
}

// The tenant: 300 events from synth (20 actors, 3 courses, the LMS mix)
// over the last 14 days.
const uiEvents = 300

func newUIWorld(t *testing.T) *uiWorld {
	t.Helper()
	exe := chromiumPath(t)
	b := setupMax(t, "sqlite", 4<<20)
	w := &uiWorld{b: b}
	ctx := context.Background()
	for _, k := range []struct {
		to     *string
		scopes []string
	}{{&w.read, []string{store.ScopeRead}}, {&w.admin, []string{store.ScopeAdmin}}} {
		_, tok, err := b.db.CreateKey(ctx, "t1", "ui test", k.scopes)
		if err != nil {
			t.Fatal(err)
		}
		*k.to = tok
	}
	now := time.Now().UTC().Truncate(time.Hour)
	g := synth.New(synth.Population{Actors: 20, Courses: 3, Objects: 30, Start: now.Add(-14 * 24 * time.Hour), Span: 14 * 24 * time.Hour}, 16)
	for i := 0; i < uiEvents/100; i++ {
		if res := b.post(t, b.token, "application/json", g.Envelope(100)); res.StatusCode != 200 {
			t.Fatalf("storing the UI tenant: %d", res.StatusCode)
		}
	}
	w.base, _ = startStream(t, b, web.Config{}, query.HubConfig{})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// Console starts the browser and gives every console error, uncaught
	// exception and browser log error (a CSP violation, a failed load).
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !w.expected(m.Text) {
				w.problem(fmt.Sprintf("%s %s %s", m, m.Source, m.URL))
			}
		}
	}()
	// Every request the page makes, to check that no token is in a URL.
	requests := chromedp.Events(bctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			w.mu.Lock()
			w.urls = append(w.urls, ev.Request.URL)
			w.mu.Unlock()
		}
	}()
	w.ctx = bctx
	return w
}

// expected are the browser's error lines a test provokes on purpose.
func (w *uiWorld) expected(text string) bool {
	return strings.Contains(text, "401 (Unauthorized)")
}

func (w *uiWorld) problem(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, s)
}

// do runs browser steps with a deadline, failing the test on an error or on
// anything the page reported as an error meanwhile (a CSP violation, an
// exception, a failed request).
func (w *uiWorld) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	time.Sleep(20 * time.Millisecond) // let the console catch up
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.problems {
		t.Errorf("%s: the page reported %s", what, p)
	}
	w.problems = nil
}

// js evaluates a JavaScript expression in the page.
func js[T any](t *testing.T, w *uiWorld, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript expression to be true (10 s at most).
func until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool]("Boolean("+expr+")", chromedp.WithPollingTimeout(10*time.Second))(ctx, tg)
		if err != nil {
			err = fmt.Errorf("waiting for %s: %w", expr, err)
		}
		return chromedp.Void{}, err
	}
}

// waitText waits until sel's text contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return until(fmt.Sprintf(`(document.querySelector(%q)?.textContent || document.querySelector(%q)?.value || "").includes(%q)`, sel, sel, want))
}

// text is the text of the first element sel matches ("" when none).
func text(t *testing.T, w *uiWorld, sel string) string {
	t.Helper()
	return js[string](t, w, fmt.Sprintf(`document.querySelector(%q)?.textContent || ""`, sel))
}

// shot saves a screenshot of the page as NAME.png in LRS_SCREENSHOTS when
// that names a directory (make screenshots).
func (w *uiWorld) shot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("LRS_SCREENSHOTS")
	if dir == "" {
		return
	}
	time.Sleep(300 * time.Millisecond)
	png, err := chromedp.Run(w.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUIBrowser drives the web UI in headless Chromium over a real server
// and store: sign-in with Enter, each view with data, filters, detail and
// back to the same place in the list. One browser for all of it (the
// machine is small); the store is SQLite (the UI sees only the API, which
// both stores answer alike — the API tests run on both).
func TestUIBrowser(t *testing.T) {
	w := newUIWorld(t)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	t.Run("TokenEnter", func(t *testing.T) {
		w.do(t, "open", chromedp.Navigate(w.base+"/ui/#/events"), chromedp.WaitVisible(css("#view-welcome")))
		if welcome := text(t, w, "#view-welcome"); !strings.Contains(welcome, "sessionStorage") {
			t.Errorf("welcome: %q", welcome)
		}
		w.do(t, "token and Enter", chromedp.SendKeys(css("#token"), w.read+"\r"), chromedp.WaitVisible(css("#events-table tbody tr")))
		if stored := js[string](t, w, `sessionStorage.getItem("lrs-token")`); stored != w.read {
			t.Errorf("sessionStorage holds %q", stored)
		}
		if n := js[int](t, w, `localStorage.length`); n != 0 {
			t.Errorf("localStorage has %d items; the token must live in sessionStorage only", n)
		}
	})

	t.Run("EventsFiltersDetail", func(t *testing.T) {
		w.do(t, "list", chromedp.Navigate(w.base+"/ui/#/events"), waitText("#events-summary", "of 300 matching"))
		if rows := js[int](t, w, `document.querySelectorAll("#events-table tbody tr").length`); rows != 100 {
			t.Errorf("first page: %d rows, want 100", rows)
		}
		w.shot(t, "events")

		w.do(t, "filter", chromedp.SetValue(css("#f-action"), "Viewed"), chromedp.Click(css("#event-filters button[type=submit]")),
			waitText("#events-api", "action=Viewed"), waitText("#events-summary", "matching"))
		actions := js[[]string](t, w, `[...document.querySelectorAll("#events-table tbody tr td:nth-child(3)")].map(td => td.textContent)`)
		if len(actions) == 0 {
			t.Fatal("no Viewed events listed")
		}
		for _, a := range actions {
			if a != "Viewed" {
				t.Fatalf("filtered on Viewed, listed %q", a)
			}
		}
		if hash := js[string](t, w, `location.hash`); hash != "#/events?action=Viewed" {
			t.Errorf("filters in the URL: %q", hash)
		}

		// Row 80 of the full list: open it, come back, same place.
		w.do(t, "list again", chromedp.Navigate(w.base+"/ui/#/events"), waitText("#events-summary", "of 300"),
			chromedp.ScrollIntoView(css("#events-table tbody tr:nth-child(80)")))
		before := js[float64](t, w, `window.scrollY`)
		id := js[string](t, w, `document.querySelector("#events-table tbody tr:nth-child(80)").dataset.id`)
		w.do(t, "open row 80", chromedp.Click(css("#events-table tbody tr:nth-child(80) td:nth-child(4)")), waitText("#event-json", id))
		fields := text(t, w, "#event-fields")
		for _, want := range []string{"Actor", "Object", "Event time", "Stored at"} {
			if !strings.Contains(fields, want) {
				t.Errorf("detail fields lack %q: %.300s", want, fields)
			}
		}
		w.shot(t, "event")
		w.do(t, "back", chromedp.Click(css("#event-back")), chromedp.WaitVisible(css("#events-table")), chromedp.Sleep(100*time.Millisecond))
		if after := js[float64](t, w, `window.scrollY`); before < 500 || after != before {
			t.Errorf("scroll position: %v before opening row 80, %v after coming back", before, after)
		}
		if current := js[string](t, w, `document.querySelector("#events-table tbody tr.current")?.dataset.id || ""`); current != id {
			t.Errorf("the row marked on return is %q, want %q", current, id)
		}

		// The envelope the event came in.
		w.do(t, "envelope", chromedp.Navigate(w.base+"/ui/#/event?id="+id), waitText("#event-json", id),
			chromedp.Click(css("#event-links button")), waitText("#event-envelope-json", "sensor"))
		if env := text(t, w, "#event-envelope-json"); !strings.Contains(env, id) {
			t.Errorf("envelope lacks the event: %.200s", env)
		}
	})

	t.Run("Overview", func(t *testing.T) {
		w.do(t, "overview", chromedp.Navigate(w.base+"/ui/#/overview"), waitText("#ov-totals", "events"),
			chromedp.WaitVisible(css("#ov-chart canvas")), waitText("#ov-top-object", "showing"))
		if totals := text(t, w, "#ov-totals"); !strings.Contains(totals, "300events") || !strings.Contains(totals, "20actors") || !strings.Contains(totals, "3courses") {
			t.Errorf("totals: %q", totals)
		}
		// 300 events over 14 days: all of them in the 30-day chart, by event time.
		if title := text(t, w, "#ov-chart-title"); !strings.Contains(title, "300 events in the last 30 days, per day") {
			t.Errorf("chart title: %q", title)
		}
		// As many distinct objects as the API counts (90: 30 per course).
		var objs struct{ Groups []map[string]any }
		req, _ := http.NewRequest(http.MethodGet, w.base+"/api/v1/stats?by=object&limit=1000", nil)
		req.Header.Set("Authorization", "Bearer "+w.read)
		if res, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else {
			json.NewDecoder(res.Body).Decode(&objs)
			res.Body.Close()
		}
		if objects := text(t, w, "#ov-top-object"); len(objs.Groups) <= 20 || !strings.Contains(objects, fmt.Sprintf("showing 20 of %d,", len(objs.Groups))) {
			t.Errorf("top objects: %.200s", objects)
		}
		if wide := js[string](t, w, `[...document.querySelectorAll("#view-overview *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + "." + e.className).slice(0, 5).join(" ")`); wide != "" {
			t.Errorf("the overview is wider than the window: %s", wide)
		}
		w.shot(t, "overview")
		w.do(t, "7 days", chromedp.Click(css(`#view-overview [data-range="7"]`)), waitText("#ov-chart-title", "last 7 days, per hour"))
	})

	t.Run("Course", func(t *testing.T) { testCourse(t, w) })
	t.Run("Export", func(t *testing.T) { testExport(t, w) })

	t.Run("PhoneWidth", func(t *testing.T) {
		w.do(t, "narrow", chromedp.EmulateViewport(390, 844), chromedp.Navigate(w.base+"/ui/#/events"), waitText("#events-summary", "of 300"))
		if js[bool](t, w, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
			t.Error("the events view is wider than a phone screen")
		}
		w.shot(t, "phone")
		w.do(t, "wide again", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("Live", func(t *testing.T) { testLive(t, w) })
}
