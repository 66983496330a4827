package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestEraseEdxUser: lrs erase --edx-user finds the learner's events by the
// transformer's own derivation of the actor id (here the keyed hash), the
// dry run changes nothing, and only that learner's events go.
func TestEraseEdxUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		url := storetest.URL(t, kind)
		getenv := env(map[string]string{"LRS_DATABASE_URL": url, "LRS_LMS_URL": "https://lms.example.edu", "LRS_ACTOR_SECRET": "s3cret"})
		line := func(user string) string {
			return `{"username":"learner` + user + `","event_source":"server","event_type":"edx.course.enrollment.activated","name":"edx.course.enrollment.activated",` +
				`"event":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":` + user + `,"mode":"honor"},"time":"2013-05-01T08:00:00+00:00",` +
				`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":` + user + `,"org_id":"MITx"}}`
		}
		log := filepath.Join(t.TempDir(), "tracking.log")
		if err := os.WriteFile(log, []byte(line("42")+"\n"+line("43")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := runCmd(t, getenv, "import", "--tenant", "uni", log); err != nil {
			t.Fatalf("import: %v\n%s", err, out)
		}
		tr, err := edx.New(edx.Config{LMSURL: "https://lms.example.edu", ActorSecret: "s3cret"})
		if err != nil {
			t.Fatal(err)
		}
		actorOf := func(u string) string { id, _ := tr.ActorID(u); return id }
		events := func(actor string) int {
			t.Helper()
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tenants, _ := db.Tenants(context.Background())
			evs, err := db.ListEvents(context.Background(), store.EventFilter{TenantID: tenants[0].ID, Actors: []string{actor}}, nil, true, 100)
			if err != nil {
				t.Fatal(err)
			}
			return len(evs)
		}
		if events(actorOf("42")) != 1 || events(actorOf("43")) != 1 {
			t.Fatalf("fixture: %d and %d events", events(actorOf("42")), events(actorOf("43")))
		}
		out, err := runCmd(t, getenv, "erase", "--tenant", "uni", "--edx-user", "42", "--dry-run")
		if err != nil || !strings.Contains(out, "events 1 deleted") || events(actorOf("42")) != 1 {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		if out, err = runCmd(t, getenv, "erase", "--tenant", "uni", "--edx-user", "42"); err != nil || !strings.Contains(out, "events 1 deleted") {
			t.Fatalf("erase: %v\n%s", err, out)
		}
		if events(actorOf("42")) != 0 || events(actorOf("43")) != 1 {
			t.Fatalf("after: %d and %d events", events(actorOf("42")), events(actorOf("43")))
		}
		for _, bad := range [][]string{
			{"erase", "--tenant", "uni"},
			{"erase", "--edx-user", "42"},
			{"erase", "--tenant", "uni", "--actor", "not an iri"},
			{"erase", "--tenant", "nobody", "--actor", "https://example.edu/u/1"},
		} {
			if _, err := runCmd(t, getenv, bad...); err == nil {
				t.Errorf("%v: accepted", bad)
			}
		}
		noEdx := env(map[string]string{"LRS_DATABASE_URL": url})
		if _, err := runCmd(t, noEdx, "erase", "--tenant", "uni", "--edx-user", "42"); err == nil || !strings.Contains(err.Error(), "--actor-secret") {
			t.Errorf("--edx-user without the transformer's settings: %v", err)
		}
	})
}
