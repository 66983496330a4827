package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store/pgtest"
)

// readmeBlock returns the shell block that follows marker in README.md.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	_, after, ok = strings.Cut(after, "```sh\n")
	block, _, ok2 := strings.Cut(after, "```\n")
	if !ok || !ok2 {
		t.Fatal("README.md: no shell block after the marker")
	}
	return block
}

// TestReadmePostgres follows the README's PostgreSQL section line by line in
// one bash shell, against a throwaway PostgreSQL. Three things differ from
// what a reader types, each a plain substitution: the database URL (the
// throwaway database), the port (a free one: LRS_ADDR in the shell's
// environment and in the curl URLs) and where the binary is built.
func TestReadmePostgres(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	const exportLine = "export LRS_DATABASE_URL=postgres://lrs:lrs@localhost:5432/lrs\n"
	script := readmeBlock(t, "<!-- The test cmd/lrs/readme_test.go runs the next block")
	if !strings.Contains(script, exportLine) || !strings.Contains(script, "localhost:8080") {
		t.Fatalf("the PostgreSQL section changed; update this test:\n%s", script)
	}
	dbURL := pgtest.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	bin := filepath.Join(t.TempDir(), "lrs")

	script = strings.Replace(script, exportLine, "export LRS_DATABASE_URL='"+dbURL+"'\n", 1)
	script = strings.ReplaceAll(script, "localhost:8080", "localhost:"+port)
	script = strings.ReplaceAll(script, "bin/lrs", bin)
	path := os.Getenv("PATH")
	if _, err := exec.LookPath("psql"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql"); len(m) > 0 {
			path = filepath.Dir(m[len(m)-1]) + ":" + path
		} else {
			t.Log("no psql: its line is skipped")
			script = strings.ReplaceAll(script, "psql ", ": psql ")
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// -e: stop at the first failing line; the trap stops the server if a line fails.
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"+script)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "LRS_ADDR=127.0.0.1:"+port, "LRS_ADMIN_ADDR=127.0.0.1:0", "PATH="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	out := stdout.String()
	if err != nil {
		t.Fatalf("the README's PostgreSQL section failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	for _, want := range []string{
		"HTTP/1.1 200 OK",                      // the curl stored the event
		"3d2c8b84-9e6a-4f1b-9f44-0c7a6a1e1f01", // and reads it back
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, out, stderr.String())
		}
	}
	if !strings.Contains(script, ": psql") && !strings.Contains(out, "(1 row)") {
		t.Errorf("psql did not show the event:\n%s", out)
	}
	if !strings.Contains(stderr.String(), "store: postgres ") {
		t.Errorf("keys create did not say which store it used:\n%s", stderr.String())
	}
}
