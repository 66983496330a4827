package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestEraseActorAPI: DELETE /api/v1/actors erases one learner of the admin
// key's tenant, after a dry run that changes nothing; the other learners
// and the other tenant keep their events; bad parameters are refused.
func TestEraseActorAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		ctx := context.Background()
		_, admin, err := rb.db.CreateKey(ctx, "t1", "ops", []string{store.ScopeAdmin})
		if err != nil {
			t.Fatal(err)
		}
		victim := "https://example.edu/users/3"
		count := func(token, actor string) int {
			t.Helper()
			return len(rb.all(t, token, "actor="+url.QueryEscape(actor)))
		}
		mine, others, theirs := count(rb.readToken, victim), count(rb.readToken, "https://example.edu/users/4"), count(rb.other, victim)
		if mine == 0 || theirs == 0 {
			t.Fatalf("fixture: %d and %d events of the victim", mine, theirs)
		}
		erase := func(query string) (int, store.ActorErasure, string) {
			t.Helper()
			status, body := rb.call(t, "DELETE", "/api/v1/actors?"+query, admin, "")
			var res store.ActorErasure
			if status == 200 {
				if err := json.Unmarshal(body, &res); err != nil {
					t.Fatal(err)
				}
			}
			return status, res, string(body)
		}
		status, dry, body := erase("id=" + url.QueryEscape(victim) + "&dry_run=true")
		if status != 200 || !dry.DryRun || dry.EventsDeleted != int64(mine) {
			t.Fatalf("dry run: %d %s, want %d events", status, body, mine)
		}
		if n := count(rb.readToken, victim); n != mine {
			t.Fatalf("the dry run deleted: %d events left of %d", n, mine)
		}
		status, res, body := erase("id=" + url.QueryEscape(victim))
		if status != 200 || res.DryRun || !res.Complete || res.ID == 0 || res.EventsDeleted != int64(mine) || res.Subject != dry.Subject {
			t.Fatalf("erase: %d %s (a small store's sweep ends before the answer)", status, body)
		}
		// The record: listed, and by id, with what the answer said.
		status, body2 := rb.call(t, "GET", "/api/v1/erasures", admin, "")
		var list struct{ Erasures []store.ErasureRecord }
		if err := json.Unmarshal(body2, &list); status != 200 || err != nil || len(list.Erasures) != 1 || list.Erasures[0].ActorErasure != res ||
			list.Erasures[0].CompletedAt == nil || list.Erasures[0].KeyID == 0 || strings.Contains(string(body2), victim) {
			t.Fatalf("GET /api/v1/erasures: %d %s", status, body2)
		}
		status, body2 = rb.call(t, "GET", "/api/v1/erasures/"+strconv.FormatInt(res.ID, 10), admin, "")
		var one store.ErasureRecord
		if err := json.Unmarshal(body2, &one); status != 200 || err != nil || one.ActorErasure != res {
			t.Fatalf("GET /api/v1/erasures/%d: %d %s", res.ID, status, body2)
		}
		for _, path := range []string{"/api/v1/erasures/999", "/api/v1/erasures/x", "/api/v1/erasures/0"} {
			if status, body := rb.call(t, "GET", path, admin, ""); status != 404 {
				t.Errorf("GET %s: %d %s, want 404", path, status, body)
			}
		}
		if status, _ := rb.call(t, "GET", "/api/v1/erasures?x=1", admin, ""); status != 400 {
			t.Errorf("GET /api/v1/erasures?x=1: %d, want 400", status)
		}
		if status, _ := rb.call(t, "GET", "/api/v1/erasures", rb.readToken, ""); status != 401 {
			t.Errorf("a read key lists erasures: %d", status)
		}
		if n := count(rb.readToken, victim); n != 0 {
			t.Fatalf("%d events of the erased actor left", n)
		}
		if n := count(rb.readToken, "https://example.edu/users/4"); n != others {
			t.Fatalf("another learner has %d events, had %d", n, others)
		}
		if n := count(rb.other, victim); n != theirs {
			t.Fatalf("the other tenant has %d events of the IRI, had %d", n, theirs)
		}
		_, export := rb.get(t, rb.readToken, "/api/v1/export")
		if strings.Contains(string(export), `"`+victim+`"`) {
			t.Fatal("the export still holds the erased IRI")
		}
		for _, bad := range []string{"", "id=", "id=not-an-iri", "id=" + url.QueryEscape(victim) + "&dry_run=yes", "id=a:b&id=c:d", "actor=x:y"} {
			if status, _, body := erase(bad); status != 400 {
				t.Errorf("DELETE /api/v1/actors?%s: %d %s, want 400", bad, status, body)
			}
		}
		if status, _ := rb.call(t, "DELETE", "/api/v1/actors?id=x:y", rb.readToken, ""); status != 401 {
			t.Errorf("a read key erases: %d", status)
		}
	})
}
