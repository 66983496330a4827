package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// countEvents asks the API how many events match q (the sum by type).
func (w *uiWorld) countEvents(t *testing.T, q string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.base+"/api/v1/stats?by=type&limit=10000&"+q, nil)
	req.Header.Set("Authorization", "Bearer "+w.read)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Groups []struct{ Count int } }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range body.Groups {
		n += g.Count
	}
	return n
}

// download waits (10 s at most) for the browser to finish saving name in dir.
func download(t *testing.T, dir, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			if _, err := os.Stat(filepath.Join(dir, name+".crdownload")); os.IsNotExist(err) {
				return b
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("no finished download %s in 10 s; the folder holds %v", name, entries)
	return nil
}

// testExport: the Export view's Download makes the browser itself save the
// file from GET /api/v1/export (a ticket in the link, never the token), in
// both formats, with the filters, every matching event a line.
func testExport(t *testing.T, w *uiWorld) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	all := w.countEvents(t, "")
	w.do(t, "export view", chromedp.Navigate(w.base+"/ui/#/export"), waitText("#export-summary", "matching events, as NDJSON"))
	w.do(t, "download NDJSON", chromedp.Click(chromedp.CSS("#export-filters button[type=submit]")), waitText("#export-started", "started"))
	ndjson := download(t, dir, "events.ndjson")
	if lines := bytes.Split(bytes.TrimSuffix(ndjson, []byte("\n")), []byte("\n")); len(lines) != all {
		t.Errorf("NDJSON download: %d lines, want %d", len(lines), all)
	} else {
		for i, l := range lines {
			var ev struct{ ID string }
			if err := json.Unmarshal(l, &ev); err != nil || !strings.HasPrefix(ev.ID, "urn:uuid:") {
				t.Fatalf("NDJSON line %d: %v %.100s", i+1, err, l)
			}
		}
	}
	w.shot(t, "export")

	viewed := w.countEvents(t, "action=Viewed")
	w.do(t, "CSV of Viewed", chromedp.Navigate(w.base+"/ui/#/export?action=Viewed&format=csv"),
		waitText("#export-summary", "as CSV"), waitText("#export-api", "action=Viewed&format=csv"))
	if summary := text(t, w, "#export-summary"); !strings.HasPrefix(summary, fmt.Sprintf("%d matching", viewed)) || viewed == 0 || viewed == all {
		t.Fatalf("summary %q; %d of %d events are Viewed", summary, viewed, all)
	}
	w.do(t, "download CSV", chromedp.Click(chromedp.CSS("#export-filters button[type=submit]")), waitText("#export-started", "events.csv started"))
	csv := download(t, dir, "events.csv")
	rows := strings.Split(strings.TrimSuffix(string(csv), "\n"), "\n")
	if len(rows) != viewed+1 || !strings.HasPrefix(rows[0], "id,type,action") {
		t.Errorf("CSV download: %d lines (want a header and %d rows), header %q", len(rows), viewed, rows[0])
	}
	for _, r := range rows[1:] {
		if !strings.Contains(r, ",Viewed,") {
			t.Fatalf("CSV of Viewed has %.120s", r)
		}
	}
	for _, u := range w.requested() {
		if strings.Contains(u, w.read) {
			t.Errorf("the token is in a URL: %s", u)
		}
		if strings.Contains(u, "/api/v1/export?") && !strings.Contains(u, "ticket=lrst_") {
			t.Errorf("an export opened without a ticket: %s", u)
		}
	}
}
