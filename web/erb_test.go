package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/internal/fixture"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// erbBatch is a request body as Open edX's event-routing-backends posts it
// with batching on: a JSON array of envelopes, each holding one event.
type erbBatch struct {
	body   []byte
	events map[string]any // id → event as sent
}

// erbBatches reads the reference transformer's expected outputs into ERB
// batches. The reference reuses event ids across its examples, so the n-th
// use of an id goes into batch n: no batch holds an id twice.
func erbBatches(t *testing.T, files []string) []erbBatch {
	t.Helper()
	var batches []erbBatch
	var envelopes [][]string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct{ ID string }
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		n := 0
		for n < len(batches) && batches[n].events[ev.ID] != nil {
			n++
		}
		if n == len(batches) {
			batches = append(batches, erbBatch{events: map[string]any{}})
			envelopes = append(envelopes, nil)
		}
		batches[n].events[ev.ID] = decodeJSON(t, raw)
		envelopes[n] = append(envelopes[n], `{"sensor":"http://localhost:18000","sendTime":"2026-12-03T10:00:00.000Z",`+
			`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[`+string(raw)+`]}`)
	}
	for i := range batches {
		batches[i].body = []byte("[" + strings.Join(envelopes[i], ",") + "]")
	}
	return batches
}

// TestERBBatches: the reference transformer's expected outputs, sent as ERB
// sends them (arrays of one-event envelopes, Bearer and Basic), are stored as
// sent in lenient mode. Strict mode stores the valid ones and names the
// Caliper faults of the five others (docs/edx-mapping.md lists them).
func TestERBBatches(t *testing.T) {
	files := fixture.Glob(t, "edx/erb-fixtures/expected-caliper/*.json")
	batches := erbBatches(t, files)
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		b := setupMode(t, kind, 4<<20, caliper.Lenient)
		for i, batch := range batches {
			tenant := "erb" + strconv.Itoa(i)
			_, token, err := b.db.CreateKey(ctx, tenant, "erb", []string{store.ScopeWrite, store.ScopeRead})
			if err != nil {
				t.Fatal(err)
			}
			basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("erb:"+token))
			for round, auth := range []string{"Bearer " + token, basic} {
				res := b.post(t, "", "application/json", batch.body, "Authorization", auth)
				r := decodeBatch(t, res)
				if res.StatusCode != http.StatusOK || r.Stored != len(batch.events) || r.Refused != 0 {
					t.Fatalf("batch %d round %d (%s): status %d, %+v", i, round, strings.Fields(auth)[0], res.StatusCode, r)
				}
			}
			for id, want := range batch.events {
				status, got := b.get(t, token, "/api/v1/events/"+id)
				if status != http.StatusOK {
					t.Errorf("batch %d: GET %s: %d", i, id, status)
				} else if !caliper.EqualJSON(decodeJSON(t, got), want) {
					t.Errorf("batch %d: %s not stored as sent:\n got %s", i, id, got)
				}
			}
		}
		if got := b.counts(t); got[1] != len(files) {
			t.Errorf("%d events stored, want %d", got[1], len(files))
		}

		strict := setupMode(t, kind, 4<<20, caliper.Strict)
		refused := 0
		for i, batch := range batches {
			_, token, err := strict.db.CreateKey(ctx, "erb"+strconv.Itoa(i), "erb", []string{store.ScopeWrite})
			if err != nil {
				t.Fatal(err)
			}
			res := strict.post(t, token, "application/json", batch.body)
			r := decodeBatch(t, res)
			if r.Refused > 0 && res.StatusCode != http.StatusBadRequest || r.Refused == 0 && res.StatusCode != http.StatusOK {
				t.Errorf("strict batch %d: status %d with %d refused", i, res.StatusCode, r.Refused)
			}
			refused += r.Refused
		}
		if refused != 5 {
			t.Errorf("strict: %d envelopes refused, want the 5 with known Caliper faults", refused)
		}
	})
}
