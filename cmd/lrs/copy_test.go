package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
)

// apiView is what the read API shows a tenant: events in stored order,
// envelopes and entities by id, both exports. JSON is decoded, so that key
// order and white space do not count; exports are sorted (PostgreSQL
// exports in physical order).
type apiView struct {
	Events    []any
	Envelopes map[string]any
	Entities  map[string]any
	NDJSON    []string
	CSV       [][]string
}

type copyTenant struct {
	token     string
	envelopes []string
	entities  []string
}

func apiGet(t *testing.T, base, token, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return b
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func readAPI(t *testing.T, base string, ten copyTenant) apiView {
	t.Helper()
	v := apiView{Envelopes: map[string]any{}, Entities: map[string]any{}}
	var page struct{ Events []json.RawMessage }
	if err := json.Unmarshal(apiGet(t, base, ten.token, "/api/v1/events?ascending=true&limit=1000"), &page); err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Events {
		v.Events = append(v.Events, decodeJSON(t, e))
	}
	for _, id := range ten.envelopes {
		v.Envelopes[id] = decodeJSON(t, apiGet(t, base, ten.token, "/api/v1/envelopes/"+id))
	}
	for _, id := range ten.entities {
		v.Entities[id] = decodeJSON(t, apiGet(t, base, ten.token, "/api/v1/entities?id="+url.QueryEscape(id)))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(apiGet(t, base, ten.token, "/api/v1/export"))), "\n") {
		canon, _ := json.Marshal(decodeJSON(t, []byte(line)))
		v.NDJSON = append(v.NDJSON, string(canon))
	}
	sort.Strings(v.NDJSON)
	rows, err := csv.NewReader(bytes.NewReader(apiGet(t, base, ten.token, "/api/v1/export?format=csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	v.CSV = append(v.CSV, rows[0]) // the header
	for _, r := range rows[1:] {
		canon, _ := json.Marshal(decodeJSON(t, []byte(r[len(r)-1]))) // the event column: JSON-equal, not byte-equal
		v.CSV = append(v.CSV, append(r[:len(r)-1:len(r)-1], string(canon)))
	}
	sort.Slice(v.CSV[1:], func(i, j int) bool { return strings.Join(v.CSV[i], ",") < strings.Join(v.CSV[j], ",") })
	return v
}

// fillEmbedded posts envelopes for two tenants to a server on the embedded
// store in dir: events, an entity described twice, a bare IRI, a re-sent
// duplicate; one more key per tenant is revoked.
func fillEmbedded(t *testing.T, dir string) map[string]*copyTenant {
	t.Helper()
	getenv := env(map[string]string{"LRS_DATA_DIR": dir})
	tenants := map[string]*copyTenant{}
	for _, name := range []string{"uni", "school"} {
		out, err := runCmd(t, getenv, "keys", "create", "--tenant", name, "--scopes", "write,read")
		if err != nil {
			t.Fatal(err)
		}
		tenants[name] = &copyTenant{token: lastLine(out)}
		if _, err := runCmd(t, getenv, "keys", "create", "--tenant", name, "--scopes", "read", "--label", "revoked"); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := runCmd(t, getenv, "keys", "list")
	for _, line := range strings.Split(list, "\n") {
		if strings.Contains(line, "revoked") {
			if _, err := runCmd(t, getenv, "keys", "revoke", strings.Fields(line)[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := startServer(t, getenv)
	for name, ten := range tenants {
		var first string
		for i := 0; i < 5; i++ {
			ev := fmt.Sprintf(`{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:%s","type":"ViewEvent",`+
				`"profile":"ReadingProfile","actor":{"id":"https://example.edu/%s/users/%d","type":"Person"},"action":"Viewed",`+
				`"object":{"id":"https://example.edu/etexts/%d.epub","type":"Document"},  "eventTime":"2026-11-26T10:1%d:00.000+01:00"}`,
				uuid.New(), name, i%2, i, i)
			if i == 0 {
				first = ev
			}
			person := fmt.Sprintf(`{"id":"https://example.edu/%s/users/1","type":"Person","name":"v%d"}`, name, i)
			ten.envelopes = append(ten.envelopes, postEnvelope(t, base, ten.token, ev, person, `"https://example.edu/bare"`))
		}
		ten.envelopes = append(ten.envelopes, postEnvelope(t, base, ten.token, first)) // a duplicate only
		ten.entities = []string{fmt.Sprintf("https://example.edu/%s/users/1", name), "https://example.edu/bare"}
	}
	return tenants
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func postEnvelope(t *testing.T, base, token string, items ...string) string {
	t.Helper()
	body := `{"sensor":"https://example.edu/sensors/1","sendTime":"2026-11-26T10:15:00.000Z",` +
		`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` + strings.Join(items, ",") + `]}`
	req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "return=representation")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sum struct{ EnvelopeID string }
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(b, &sum) != nil || sum.EnvelopeID == "" {
		t.Fatalf("POST /caliper: %d %s", res.StatusCode, b)
	}
	return sum.EnvelopeID
}

func viewAll(t *testing.T, getenv func(string) string, tenants map[string]*copyTenant) map[string]apiView {
	t.Helper()
	base, _, stop := startServerOut(t, getenv)
	defer stop()
	out := map[string]apiView{}
	for name, ten := range tenants {
		out[name] = readAPI(t, base, *ten)
	}
	// A revoked key stays revoked.
	list, err := runCmd(t, getenv, "keys", "list")
	if err != nil || strings.Count(list, "revoked") < 2 {
		t.Errorf("keys list on the copy:\n%s (%v)", list, err)
	}
	return out
}

// TestCopyEmbeddedToPostgresAndBack is the way every growing user takes: an
// embedded store with two tenants is copied to PostgreSQL, served there, and
// copied back into a new embedded store; both times the read API and both
// exports give JSON-equal results with the same tokens, envelope ids
// included. Both sides say which store they are; a second run loads nothing.
func TestCopyEmbeddedToPostgresAndBack(t *testing.T) {
	dir := t.TempDir()
	tenants := fillEmbedded(t, dir)
	embedded := env(map[string]string{"LRS_DATA_DIR": dir})
	want := viewAll(t, embedded, tenants)

	pg := pgtest.URL(t)
	_, stderr, err := runErr(env(nil), "copy", "--from", filepath.Join(dir, "lrs.db"), "--to", pg, "--migrate", "--batch", "4")
	if err != nil {
		t.Fatalf("copy to PostgreSQL: %v\n%s", err, stderr)
	}
	for _, s := range []string{"from store: sqlite " + filepath.Join(dir, "lrs.db"), "to store: postgres ",
		"copy: events 10 of 10 (100%), done", "copy: envelopes 12 of 12 (100%), done"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("copy's stderr lacks %q:\n%s", s, stderr)
		}
	}
	onPG := env(map[string]string{"LRS_DATABASE_URL": pg})
	if got := viewAll(t, onPG, tenants); !reflect.DeepEqual(got, want) {
		t.Fatalf("PostgreSQL copy differs:\ngot  %v\nwant %v", got, want)
	}
	out, _, err := runErr(env(nil), "copy", "--from", filepath.Join(dir, "lrs.db"), "--to", pg)
	if err != nil || !strings.Contains(out, "10 events (0 loaded by this run)") {
		t.Errorf("second copy: %v, %q", err, out)
	}

	back := filepath.Join(t.TempDir(), "back.db")
	if out, stderr, err := runErr(env(nil), "copy", "--from", pg, "--to", "sqlite:"+back); err != nil {
		t.Fatalf("copy back: %v\n%s%s", err, out, stderr)
	}
	if got := viewAll(t, env(map[string]string{"LRS_DATABASE_URL": back}), tenants); !reflect.DeepEqual(got, want) {
		t.Fatalf("embedded copy of the PostgreSQL copy differs:\ngot  %v\nwant %v", got, want)
	}
}

// TestCopyRefusals: the wrong calls are refused before anything is written.
func TestCopyRefusals(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"copy", "--to", db}, "want --from URL --to URL"},
		{[]string{"copy", "--from", db, "--to", db}, "the same store"},
		{[]string{"copy", "--from", "postgres//x", "--to", db}, "--from (LRS_FROM)"},
		{[]string{"copy", "--from", filepath.Join(dir, "missing.db"), "--to", db}, "no such file"},
	} {
		_, _, err := runErr(env(nil), tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
		t.Errorf("refused copies created %v", matches)
	}
}

// TestCopyKill9Resume: `kill -9` of a real `lrs copy` while it loads events,
// then the same command again: the target ends with the source's content —
// every event once, in the source's stored order — whatever the kill cut.
func TestCopyKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real lrs copy")
	}
	bin := filepath.Join(t.TempDir(), "lrs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := context.Background()
	srcPath := filepath.Join(t.TempDir(), "src.db")
	src, err := store.Open(ctx, "sqlite:"+srcPath)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := store.MigrateUp(ctx, "sqlite:"+srcPath); err != nil {
		t.Fatal(err)
	}
	var tenants []int64
	for _, name := range []string{"uni", "school"} {
		k, _, err := src.CreateKey(ctx, name, "", []string{"write"})
		if err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, k.TenantID)
		for i := 0; i < 200; i++ {
			env := &store.Envelope{TenantID: k.TenantID, APIKeyID: k.ID, Sensor: "s", SendTime: time.Now(), DataVersion: "v", ItemCount: 10}
			for j := 0; j < 10; j++ {
				id := uuid.New()
				env.Events = append(env.Events, store.Event{ID: id, Type: "ViewEvent", Action: "Viewed", EventTime: time.Now(),
					Data: fmt.Appendf(nil, `{"id":"urn:uuid:%s","n":%d}`, id, i*10+j)})
			}
			if _, err := src.SaveEnvelope(ctx, env); err != nil {
				t.Fatal(err)
			}
		}
	}
	dstURL := pgtest.URL(t)

	cmd := exec.Command(bin, "copy", "--from", srcPath, "--to", dstURL, "--batch", "2")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), "copy: events "); {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no events progress:\n%s", stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	dst, err := store.Open(ctx, dstURL)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	want, _ := src.TableCounts(ctx)
	cut, _ := dst.TableCounts(ctx)
	if cut.Events == 0 || cut.Events >= want.Events {
		t.Fatalf("the kill did not land while events were loading: %d of %d events copied\n%s", cut.Events, want.Events, stderr)
	}
	t.Logf("killed with %d of %d events copied", cut.Events, want.Events)

	if out, errOut, err := runErr(env(nil), "copy", "--from", srcPath, "--to", dstURL, "--batch", "50"); err != nil {
		t.Fatalf("resume: %v\n%s%s", err, out, errOut)
	}
	if got, _ := dst.TableCounts(ctx); got != want {
		t.Errorf("after the resumed copy: %+v, source %+v", got, want)
	}
	for _, tenant := range tenants {
		ids := func(db store.Backend) []string {
			var out []string
			var after *store.Position
			for {
				evs, err := db.ListEvents(ctx, store.EventFilter{TenantID: tenant}, after, true, 1000)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) == 0 {
					return out
				}
				for _, e := range evs {
					out = append(out, e.ID.String()+" "+e.EnvelopeID)
				}
				after = &evs[len(evs)-1].Position
			}
		}
		if a, b := ids(src), ids(dst); !reflect.DeepEqual(a, b) {
			t.Errorf("tenant %d: %d events in the copy, %d in the source, or another order or envelope", tenant, len(b), len(a))
		}
	}
}
