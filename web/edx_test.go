package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/internal/fixture"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// edxLog is the reference's raw fixtures as one NDJSON tracking log.
func edxLog(t *testing.T) []byte {
	t.Helper()
	files := fixture.Glob(t, "edx/erb-fixtures/raw/*.json")
	var buf bytes.Buffer
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // two fixtures are deliberately not JSON
		}
		line, _ := json.Marshal(v)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	buf.WriteString("{not json}\n")
	return buf.Bytes()
}

func TestPostEdx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		tr, err := edx.New(edx.Config{LMSURL: "https://lms.example.edu", ActorSecret: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 5 << 20},
			slog.New(slog.NewTextHandler(io.Discard, nil)), web.Deps{
				Ingest: ingest.NewService(b.db, caliper.NewValidator(caliper.Strict)), Keys: b.db, Health: b.db,
				Query: query.NewService(b.db), Lookups: b.db, Edx: tr,
			}))
		defer srv.Close()
		post := func(body []byte, ct string) (int, map[string]any) {
			req, _ := http.NewRequest("POST", srv.URL+"/edx", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+b.token)
			req.Header.Set("Content-Type", ct)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var m map[string]any
			json.NewDecoder(res.Body).Decode(&m)
			return res.StatusCode, m
		}
		log := edxLog(t)
		code, sum := post(log, "application/x-ndjson")
		if code != 200 {
			t.Fatalf("POST /edx: %d %v", code, sum)
		}
		// Two browser problem_check fixtures are one submission seen from two
		// pages: the same event, stored once.
		mapped, stored := int(sum["mapped"].(float64)), int(sum["stored"].(float64))
		if stored+int(sum["duplicates"].(float64)) != mapped || stored < mapped-1 || mapped < 40 || sum["unknown"].(map[string]any)["edx.forum.thread.reported"] == nil ||
			int(sum["skippedAnonymous"].(float64)) != 1 || int(sum["errorCount"].(float64)) < 2 {
			t.Errorf("summary %v", sum)
		}
		// The same log again: every event is a duplicate, nothing stored twice.
		code, again := post(log, "application/x-ndjson")
		if code != 200 || int(again["stored"].(float64)) != 0 || int(again["duplicates"].(float64)) != mapped {
			t.Errorf("second post: %d %v", code, again)
		}
		if c := b.counts(t); c[1] != stored {
			t.Errorf("%d events stored, want %d", c[1], stored)
		}
		// One event as a JSON object, and a wrong content type.
		one := fixture.Read(t, "edx/erb-fixtures/raw/play_video.json")
		if code, s := post(one, "application/json"); code != 200 || s["duplicates"].(float64) != 1 {
			t.Errorf("single event: %d %v", code, s)
		}
		// Blank and # comment lines are skipped as lrs import skips them, not refused.
		var compact bytes.Buffer
		json.Compact(&compact, one)
		commented := "# exported by hand\n\n" + compact.String() + "\n   \n# end\n"
		if code, s := post([]byte(commented), "application/x-ndjson"); code != 200 || s["duplicates"].(float64) != 1 ||
			s["lines"].(float64) != 1 || s["errorCount"].(float64) != 0 {
			t.Errorf("commented NDJSON: %d %v", code, s)
		}
		// A body that is neither NDJSON nor one JSON document: 400, nothing stored.
		if code, s := post([]byte("[\n"+compact.String()+",\n"), "application/json"); code != 400 || s["type"] == nil {
			t.Errorf("broken array: %d %v", code, s)
		}
		if code, _ := post(one, "text/plain"); code != 415 {
			t.Errorf("text/plain: %d", code)
		}
		if !strings.Contains(string(log), "play_video") {
			t.Fatal("fixture log lacks play_video")
		}
	})
}
