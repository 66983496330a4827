package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
)

// fixtures is the Caliper spec examples folder; t is skipped without it.
func fixtures(t testing.TB) string { t.Helper(); return fixture.Path(t, "caliper/fixtures-v1p2") }

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(fixtures(t), "caliperEventSessionLoggedIn.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(good, []byte(`"LoggedIn"`), []byte(`"Viewed"`), 1)
	compact := func(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }
	ndjson := filepath.Join(dir, "events.ndjson")
	os.WriteFile(ndjson, []byte(compact(good)+"\n\n"+compact(bad)+"\n"), 0o644)

	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"validate", filepath.Join(fixtures(t), "caliperEnvelopeMixedBatch.json"),
		filepath.Join(fixtures(t), "caliperEventSessionLoggedIn.json")}, env(nil), &out, &errOut)
	if err != nil || out.Len() != 0 {
		t.Fatalf("valid files: %v\n%s", err, out.String())
	}

	out.Reset()
	err = run(context.Background(), []string{"validate", ndjson}, env(nil), &out, &errOut)
	var ec *exitCodeError
	if !errors.As(err, &ec) || ec.code != 1 {
		t.Fatalf("invalid file: err %v", err)
	}
	want := ndjson + ":3: data[0].action: action \"Viewed\" is not allowed for SessionEvent"
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("output %q, want it to start with %q", out.String(), want)
	}

	// Lenient mode lets the wrong action through.
	out.Reset()
	if err := run(context.Background(), []string{"validate", "--validation", "lenient", ndjson}, env(nil), &out, &errOut); err != nil {
		t.Errorf("lenient: %v\n%s", err, out.String())
	}
}
