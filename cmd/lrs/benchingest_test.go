package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/pgtest"
)

// TestBenchIngestCheck runs a short load against a real 'lrs serve' on each
// store and checks the ledger against the export: every acknowledged event
// stored once. A ledger id that was never sent must make --check fail.
func TestBenchIngestCheck(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"postgres": func(t *testing.T) string { return pgtest.URL(t) },
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "lrs.db") },
	}
	for name, dbURL := range stores {
		t.Run(name, func(t *testing.T) {
			getenv := env(map[string]string{"LRS_DATABASE_URL": dbURL(t), "LRS_DATA_DIR": t.TempDir()})
			out, err := runCmd(t, getenv, "keys", "create", "--tenant", "bench", "--scopes", "write,read")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			token := lines[len(lines)-1]
			base := startServer(t, getenv)
			ledger := filepath.Join(t.TempDir(), "acked.txt")
			args := []string{"bench", "ingest", "--url", base + "/caliper", "--token", token,
				"--clients", "4", "--batch", "5", "--requests", "40", "--duration", "30s", "--ledger", ledger, "--check"}

			out, err = runCmd(t, getenv, args...)
			if err != nil {
				t.Fatalf("bench ingest: %v\n%s", err, out)
			}
			if !strings.Contains(out, "check: 200 acknowledged events, 0 missing, 0 stored more than once") {
				t.Errorf("output lacks a passing check of 200 events:\n%s", out)
			}
			if !strings.Contains(out, "statuses: 200 ×40;") {
				t.Errorf("output does not count 40 answers with status 200:\n%s", out)
			}

			// A ledger id that was never stored must fail the check.
			f, err := os.OpenFile(ledger, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("00000000-0000-4000-8000-000000000000\n")
			f.Close()
			var report bytes.Buffer
			l := ingestLoad{url: base + "/caliper", token: token, ledger: ledger}
			err = l.verify(context.Background(), http.DefaultClient, &report)
			if err == nil || !strings.Contains(report.String(), "201 acknowledged events, 1 missing") {
				t.Errorf("check with a foreign id: %v\n%s", err, report.String())
			}
		})
	}
}

func TestEventIDOf(t *testing.T) {
	for line, want := range map[string]string{
		`{"id":"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594","actor":{"id":"urn:uuid:00000000-0000-4000-8000-000000000001"}}`:     "c51570e4-f8ed-4c18-bb3a-dfe51b2cc594",
		`{"actor": {"id": "urn:uuid:00000000-0000-4000-8000-000000000001"}, "id": "urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594"}`: "c51570e4-f8ed-4c18-bb3a-dfe51b2cc594",
		`not json`: "",
	} {
		if got := eventIDOf([]byte(line)); got != want {
			t.Errorf("eventIDOf(%s) = %q, want %q", line, got, want)
		}
	}
}
