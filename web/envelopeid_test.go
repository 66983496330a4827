package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestOpaqueEnvelopeIDs: envelope ids tell nothing of the sequence, resolve
// only for their tenant, and appear as such in the CSV export; an id handed
// out before (the row number) still resolves for its tenant.
func TestOpaqueEnvelopeIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		ctx := context.Background()
		_, read, err := rb.db.CreateKey(ctx, "t1", "both", []string{store.ScopeWrite, store.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		post := func(token string) (string, string) {
			t.Helper()
			id := uuid.NewString()
			res := rb.post(t, token, "application/json", envelope(event(id)), "Prefer", "return=representation")
			var sum struct{ EnvelopeID any }
			json.NewDecoder(res.Body).Decode(&sum)
			s, ok := sum.EnvelopeID.(string)
			if res.StatusCode != 200 || !ok {
				t.Fatalf("post: %d, envelopeId %#v", res.StatusCode, sum.EnvelopeID)
			}
			return s, id
		}
		a, eventA := post(read)
		b, _ := post(read)
		for _, id := range []string{a, b} {
			if _, err := strconv.ParseInt(id, 10, 64); err == nil || len(id) != 22 || !store.IsEnvelopeID(id) {
				t.Errorf("envelope id %q is not opaque", id)
			}
		}
		if a == b {
			t.Fatal("two envelopes, one id")
		}
		if res, _ := rb.get(t, read, "/api/v1/envelopes/"+a); res.StatusCode != 200 {
			t.Errorf("own envelope: %d", res.StatusCode)
		}
		if res, _ := rb.get(t, rb.other, "/api/v1/envelopes/"+a); res.StatusCode != 404 {
			t.Errorf("another tenant's envelope: %d, want 404", res.StatusCode)
		}
		tampered := []byte(a)
		if tampered[3] = 'A'; a[3] == 'A' {
			tampered[3] = 'B'
		}
		if res, _ := rb.get(t, read, "/api/v1/envelopes/"+string(tampered)); res.StatusCode != 404 {
			t.Errorf("tampered id: %d, want 404", res.StatusCode)
		}
		// Ids handed out before they were opaque: row numbers. Row 1 is t1's first seeded envelope.
		if res, _ := rb.get(t, read, "/api/v1/envelopes/1"); res.StatusCode != 200 {
			t.Errorf("legacy id 1: %d", res.StatusCode)
		}
		if res, _ := rb.get(t, rb.other, "/api/v1/envelopes/1"); res.StatusCode != 404 {
			t.Errorf("legacy id 1 of another tenant: %d, want 404", res.StatusCode)
		}
		res, raw := rb.get(t, read, "/api/v1/export?format=csv&contains="+`%7B%22id%22:%22urn:uuid:`+eventA+`%22%7D`)
		rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
		if res.StatusCode != 200 || err != nil || len(rows) != 2 {
			t.Fatalf("export: %d %v %q", res.StatusCode, err, raw)
		}
		if got := rows[1][12]; got != a {
			t.Errorf("CSV envelope_id %q, want %q", got, a)
		}
	})
}
