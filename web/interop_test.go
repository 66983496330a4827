package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// get fetches path with token and returns the status and body.
func (b *bundle) get(t *testing.T, token, path string) (int, []byte) {
	t.Helper()
	res, body := b.getResponse(t, token, path)
	return res.StatusCode, body
}

// getResponse fetches path with token; the body is read and closed.
func (b *bundle) getResponse(t *testing.T, token, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func (b *bundle) readToken(t *testing.T) string {
	t.Helper()
	_, token, err := b.db.CreateKey(context.Background(), "t1", "reader", []string{store.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

type batchReply struct {
	Envelopes []struct {
		Index   int
		Status  int
		Problem *struct{ Detail string }
	}
	Stored, Refused int
}

func decodeBatch(t *testing.T, res *http.Response) batchReply {
	t.Helper()
	var r batchReply
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("batch reply: %v", err)
	}
	return r
}

// TestEnvelopeArray posts what Open edX's event-routing-backends sends with
// batching on: a JSON array of one-event envelopes.
func TestEnvelopeArray(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		good := func(id string) string { return string(envelope(event(id))) }
		bad := string(envelope(event("6b5a1a52-9a4e-4cd6-9c84-7f3b9f0a0003", "eventTime", `"yesterday"`)))
		ids := []string{"6b5a1a52-9a4e-4cd6-9c84-7f3b9f0a0001", "6b5a1a52-9a4e-4cd6-9c84-7f3b9f0a0002"}

		res := b.post(t, b.token, "application/json", []byte("["+good(ids[0])+","+good(ids[1])+"]"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("all good: status %d", res.StatusCode)
		}
		if r := decodeBatch(t, res); r.Stored != 2 || r.Refused != 0 || len(r.Envelopes) != 2 {
			t.Fatalf("all good: %+v", r)
		}

		// One bad envelope refuses only itself; the status says not all were stored.
		mixed := []byte("[" + good("6b5a1a52-9a4e-4cd6-9c84-7f3b9f0a0004") + "," + bad + "," + good(ids[0]) + "]")
		for round := 0; round < 2; round++ { // resending after a partial refusal is safe
			res = b.post(t, b.token, "application/json", mixed)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("mixed round %d: status %d, want 400", round, res.StatusCode)
			}
			r := decodeBatch(t, res)
			if r.Stored != 2 || r.Refused != 1 || r.Envelopes[1].Status != 400 || r.Envelopes[0].Status != 200 ||
				r.Envelopes[1].Problem == nil || !strings.Contains(r.Envelopes[1].Problem.Detail, "envelope 1") {
				t.Fatalf("mixed round %d: %+v", round, r)
			}
			if got := b.counts(t); got[1] != 3 {
				t.Fatalf("round %d: %d events stored, want 3", round, got[1])
			}
		}
		for _, body := range []string{"[]", "[1,", "  [ ]"} {
			if res := b.post(t, b.token, "application/json", []byte(body)); res.StatusCode != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400", body, res.StatusCode)
			}
		}
	})
}

func TestBasicAuth(t *testing.T) {
	b := setupOn(t, "sqlite")
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	cases := []struct {
		header string
		want   int
	}{
		{basic("erb", b.token), http.StatusOK},
		{basic("", b.token), http.StatusOK},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte(b.token)), http.StatusOK},
		{basic("erb", "wrong"), http.StatusUnauthorized},
		{"Basic !!notbase64", http.StatusUnauthorized},
		{basic("erb", ""), http.StatusUnauthorized},
	}
	for i, tc := range cases {
		id := "7c5a1a52-9a4e-4cd6-9c84-7f3b9f0a00" + string(rune('a'+i)) + "0"
		res := b.post(t, "", "application/json", envelope(event(id)), "Authorization", tc.header)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.header, res.StatusCode, tc.want)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzipBodies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupMax(t, kind, 64<<10)
		body := envelope(event("8d5a1a52-9a4e-4cd6-9c84-7f3b9f0a0001"))
		res := b.post(t, b.token, "application/json", gzipped(t, body), "Content-Encoding", "gzip")
		if res.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(res.Body)
			t.Fatalf("gzip: status %d: %s", res.StatusCode, msg)
		}
		// A bomb: 64 MiB of spaces compress to ~64 KiB... keep it small but over the limit.
		bomb := gzipped(t, append(bytes.Repeat([]byte(" "), 8<<20), body...))
		if len(bomb) > 64<<10 {
			t.Fatalf("bomb is %d bytes compressed; the test wants it under the limit", len(bomb))
		}
		if res := b.post(t, b.token, "application/json", bomb, "Content-Encoding", "gzip"); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("bomb: status %d, want 413", res.StatusCode)
		}
		res = b.post(t, b.token, "application/json", body, "Content-Encoding", "br")
		msg, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(msg), "br") {
			t.Errorf("br: status %d %s, want 415 naming br", res.StatusCode, msg)
		}
		if res := b.post(t, b.token, "application/json", body, "Content-Encoding", "gzip"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("plain body labelled gzip: status %d, want 400", res.StatusCode)
		}
		if got := b.counts(t); got[1] != 1 {
			t.Errorf("%d events stored, want 1", got[1])
		}
	})
}

// TestLenientBareUUID: a sensor that sends bare UUIDs as event ids is stored
// in lenient mode with the id as sent, found by either form, deduplicated.
func TestLenientBareUUID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		const id = "9e5a1a52-9a4e-4cd6-9c84-7f3b9f0a0001"
		body := envelope(strings.Replace(event(id), `"urn:uuid:`+id+`"`, `"`+id+`"`, 1))
		strict := setupOn(t, kind)
		if res := strict.post(t, strict.token, "application/json", body); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("strict: status %d, want 400", res.StatusCode)
		}
		b := setupMode(t, kind, 64<<10, caliper.Lenient)
		for round := 0; round < 2; round++ {
			res := b.post(t, b.token, "application/json", body, "Prefer", "return=representation")
			var r store.SaveResult
			if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("round %d: status %d, %v", round, res.StatusCode, err)
			}
			if r.EventsStored != 1-round || r.Duplicates != round {
				t.Errorf("round %d: %+v", round, r)
			}
		}
		read := b.readToken(t)
		for _, form := range []string{id, "urn:uuid:" + id, "urn%3Auuid%3A" + id, strings.ToUpper(id)} {
			status, got := b.get(t, read, "/api/v1/events/"+form)
			if status != http.StatusOK {
				t.Errorf("GET %s: status %d: %s", form, status, got)
				continue
			}
			var ev struct{ ID string }
			json.Unmarshal(got, &ev)
			if ev.ID != id {
				t.Errorf("GET %s: id %q, want it as sent (%q)", form, ev.ID, id)
			}
		}
	})
}

// TestPercentEncodedPathIDs: what many HTTP libraries send for urn:uuid ids.
func TestPercentEncodedPathIDs(t *testing.T) {
	b := setupOn(t, "sqlite")
	const id = "ab5a1a52-9a4e-4cd6-9c84-7f3b9f0a0001"
	if res := b.post(t, b.token, "application/json", envelope(event(id))); res.StatusCode != http.StatusOK {
		t.Fatalf("post: %d", res.StatusCode)
	}
	read := b.readToken(t)
	if status, body := b.get(t, read, "/api/v1/events/urn%3Auuid%3A"+id); status != http.StatusOK {
		t.Errorf("percent-encoded id: status %d: %s", status, body)
	}
}
