package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/internal/fixture"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

const testLMS = "https://lms.example.edu"

// smallWorld makes the legacy and current logs share their few courses.
var smallWorld = synth.Population{Actors: 40, Courses: 3, Objects: 30,
	Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Span: 30 * 24 * time.Hour}

// mappable draws n lines from next that the transformer maps, and adds the
// ids of the events they give to ids; lines it would refuse are left out,
// lines skipped by policy (unmapped names, page requests) are kept.
func mappable(t *testing.T, tr *edx.Transformer, n int, next func() []byte, ids map[string]bool) [][]byte {
	t.Helper()
	var out [][]byte
	for len(out) < n {
		line := next()
		res := tr.Transform(line)
		if res.Outcome == edx.Invalid {
			continue
		}
		for _, ev := range res.Events {
			ids[ev["id"].(string)] = true
		}
		out = append(out, line)
	}
	return out
}

func writeFile(t *testing.T, path, head string, lines [][]byte, gz bool) {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(head)
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	b := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		b = z.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// summaryCount reads "<n> <what>" from an import summary.
func summaryCount(t *testing.T, out, what string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) ` + regexp.QuoteMeta(what)).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in summary:\n%s", what, out)
	}
	return atoi(m[1])
}

// TestImportDirectory: a directory holding a log whose first lines are
// comments, a log of 2013 with legacy keys and a gzipped current log, on
// both stores. Every mappable line is stored, the run exits 0, the legacy
// and current events of each course land on one course, and a re-import
// stores nothing.
func TestImportDirectory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		logs := filepath.Join(dir, "logs")
		os.MkdirAll(filepath.Join(logs, "2013"), 0o755)
		tr, err := edx.New(edx.Config{LMSURL: testLMS, ActorSecret: "s"})
		if err != nil {
			t.Fatal(err)
		}
		g := synth.New(smallWorld, 11)
		ids := map[string]bool{}
		writeFile(t, filepath.Join(logs, "a-commented.log"), "# exported by hand from the 2024 archive\n# one event per line\n\n",
			mappable(t, tr, 60, g.EdxLine, ids), false)
		writeFile(t, filepath.Join(logs, "2013", "tracking.log"), "", mappable(t, tr, 120, g.EdxLegacyLine, ids), false)
		writeFile(t, filepath.Join(logs, "tracking.log-20250901.gz"), "", mappable(t, tr, 60, g.EdxLine, ids), true)

		url := storetest.URL(t, kind)
		args := []string{"import", "--database-url", url, "--lms-url", testLMS, "--actor-secret", "s", "--batch", "25", logs}
		out, err := runCmd(t, env(nil), args...)
		if err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		if got := summaryCount(t, out, "stored"); got != len(ids) {
			t.Errorf("stored %d, want every mappable line's event: %d\n%s", got, len(ids), out)
		}
		if summaryCount(t, out, "files") != 3 || summaryCount(t, out, "lines") != 3+60+120+60 || summaryCount(t, out, "comment lines") != 2 || summaryCount(t, out, "blank lines") != 1 ||
			!strings.Contains(out, "refused: 0 lines or items, 0 files") || summaryCount(t, out, "unmapped") == 0 {
			t.Errorf("summary:\n%s", out)
		}

		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		tenant, _ := db.EnsureTenant(context.Background(), "default")
		ans, err := db.Stats(context.Background(), store.StatsQuery{Filter: store.EventFilter{TenantID: tenant}, By: []string{"course"}, Limit: 100})
		rows := ans.Rows
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, r := range rows {
			total += int(r.Count)
			if c := r.Keys[0]; c != nil && !regexp.MustCompile(`^https://lms.example.edu/course/course-v1:Org\d+\+C\d+\+2025$`).MatchString(*c) {
				t.Errorf("course %q is not in its current form", *c)
			}
		}
		if len(rows) > smallWorld.Courses || total != len(ids) {
			t.Errorf("%d courses (want at most %d: legacy and current logs on one course each), %d events (want %d)", len(rows), smallWorld.Courses, total, len(ids))
		}

		// The legacy shapes are among what was stored: PDF chapters (no page)
		// and browser submissions, whose problem is in its current form.
		for _, f := range []store.EventFilter{{ObjectTypes: []string{"Document"}}, {Types: []string{"AssessmentEvent"}}} {
			f.TenantID = tenant
			evs, err := db.ListEvents(context.Background(), f, nil, false, 500)
			if err != nil || len(evs) == 0 {
				t.Fatalf("no %v events stored (%v)", f, err)
			}
			for _, ev := range evs {
				if strings.Contains(ev.ObjectID, "i4x") {
					t.Errorf("object %s kept a legacy key", ev.ObjectID)
				}
			}
		}

		out, err = runCmd(t, env(nil), args...)
		if err != nil {
			t.Fatalf("re-import: %v\n%s", err, out)
		}
		if summaryCount(t, out, "stored") != 0 || summaryCount(t, out, "already stored") != len(ids) {
			t.Errorf("re-import stored again:\n%s", out)
		}
	})
}

// TestImportRefusals: broken lines, an item refused inside a pretty-printed
// envelope, a missing file and a truncated .gz each fail the run with exit
// status 1, are counted and named at file:line (and the field); the rest is
// stored.
func TestImportRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		dir := t.TempDir()
		tr, _ := edx.New(edx.Config{LMSURL: testLMS, ActorSecret: "s"})
		g := synth.New(smallWorld, 5)
		ids := map[string]bool{}
		good := mappable(t, tr, 8, g.EdxLine, ids)

		broken := filepath.Join(dir, "broken.log")
		writeFile(t, broken, "", [][]byte{good[0], []byte(`{"event_type": "play_video", "cut": `), good[1]}, false)

		// A pretty-printed envelope of three events, the third without an actor.
		var event map[string]any
		json.Unmarshal(readFixture(t, "caliperEventNavigationNavigatedToWebPage.json"), &event)
		var data []any
		for i := range 3 {
			ev := map[string]any{}
			for k, v := range event {
				ev[k] = v
			}
			ev["id"] = fmt.Sprintf("urn:uuid:3a648e68-f00d-4c08-aa59-8738e1884f2%d", i)
			if i == 2 {
				delete(ev, "actor")
			}
			data = append(data, ev)
		}
		envJSON, _ := json.MarshalIndent(map[string]any{"sensor": "https://example.edu/sensor", "sendTime": "2024-01-01T00:00:00.000Z",
			"dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": data}, "", "  ")
		envPath := filepath.Join(dir, "envelope.json")
		os.WriteFile(envPath, envJSON, 0o644)

		truncated := filepath.Join(dir, "cut.log.gz")
		writeFile(t, truncated, "", good[2:], true)
		b, _ := os.ReadFile(truncated)
		os.WriteFile(truncated, b[:len(b)-12], 0o644) // the gzip trailer and some data lost

		missing := filepath.Join(dir, "no-such.log")
		args := []string{"import", "--database-url", storetest.URL(t, kind), "--lms-url", testLMS, "--actor-secret", "s",
			"--batch", "2", broken, envPath, missing, truncated}
		out, err := runCmd(t, env(nil), args...)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "2 lines or items and 2 files refused") {
			t.Fatalf("exit %d (%v), want 1\n%s", exitCode(err), err, out)
		}
		for _, want := range []string{
			"refused: 2 lines or items, 2 files",
			"broken.log:2: not JSON",
			"envelope.json:1: data[2].actor", // the envelope's own position, not the import's batch
			"no-such.log: file refused",
			"cut.log.gz: file refused",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "data[0].actor") || strings.Contains(out, "data[1].actor") {
			t.Errorf("an error names a position in the import's own batch:\n%s", out)
		}
		if got := summaryCount(t, out, "stored"); got < 4 {
			t.Errorf("stored %d: the lines around the refusals were lost\n%s", got, out)
		}
	})
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransformReadsWhatImportReads: a pretty-printed event (the
// reference's fixture files are) and a log that starts with a comment.
func TestTransformReadsWhatImportReads(t *testing.T) {
	dir := t.TempDir()
	pretty := filepath.Join(dir, "play_video.json")
	raw := readEdxFixture(t, "play_video.json")
	if !bytes.Contains(raw, []byte("\n    ")) {
		t.Fatal("the fixture is not pretty-printed")
	}
	os.WriteFile(pretty, raw, 0o644)
	var compact bytes.Buffer
	json.Compact(&compact, raw)
	commented := filepath.Join(dir, "commented.log")
	os.WriteFile(commented, []byte("# by hand\n"+compact.String()+"\n"), 0o644)

	for _, path := range []string{pretty, commented} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"transform", "--lms-url", testLMS, "--actor-secret", "s", path}, env(nil), &stdout, &stderr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], `"MediaEvent"`) || !strings.Contains(stderr.String(), "1 lines: 1 mapped") {
			t.Errorf("%s: stdout %q, stderr %q", filepath.Base(path), stdout.String(), stderr.String())
		}
	}
}

func readEdxFixture(t *testing.T, name string) []byte {
	t.Helper()
	files := fixture.Glob(t, "edx/erb-fixtures/raw/"+name)
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLMSURLMustBeAbsolute: every command that takes --lms-url refuses one
// without an http(s) scheme and a host before doing anything, even creating
// the store.
func TestLMSURLMustBeAbsolute(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "empty.log")
	os.WriteFile(log, nil, 0o644)
	for _, args := range [][]string{
		{"transform", "--lms-url", "lms.example.edu", "--actor-secret", "s", log},
		{"import", "--data-dir", filepath.Join(dir, "data"), "--lms-url", "lms.example.edu", "--actor-secret", "s", log},
		{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"), "--lms-url", "ftp://lms.example.edu", "--actor-secret", "s"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, args, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "--lms-url (LRS_LMS_URL) must be an absolute http or https URL") {
			t.Errorf("%s: %v", args[0], err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a bad --lms-url was found only after the store was created")
	}
}
