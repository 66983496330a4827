package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestForwardersCLI: add prints the id last; list, show, pause, resume and
// delete work on it; credentials are never printed; bad flags are named.
func TestForwardersCLI(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "lrs.db")
	e := env(map[string]string{"LRS_DATABASE_URL": db, "LRS_TOKEN": "not-for-forwarders"})
	if _, stderr, err := runErr(e, "migrate", "up"); err != nil {
		t.Fatal(err, stderr)
	}
	if _, stderr, err := runErr(e, "tenants", "create", "uni"); err != nil {
		t.Fatal(err, stderr)
	}
	out, stderr, err := runErr(e, "forwarders", "add", "--tenant", "uni", "--url", "https://lrs.example.edu/caliper", "--kind", "caliper",
		"--token", "s3cret-token", "--filter", "action=Viewed", "--from", "beginning", "--batch", "50", "--max-wait", "2s")
	if err != nil {
		t.Fatal(err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]
	if id != "1" {
		t.Fatalf("add printed %q last:\n%s", id, out)
	}
	out, _, err = runErr(e, "forwarders", "list")
	if err != nil || !strings.Contains(out, "https://lrs.example.edu/caliper") || !strings.Contains(out, "waiting") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = runErr(e, "forwarders", "show", id)
	if err != nil || !strings.Contains(out, "bearer token") || strings.Contains(out, "s3cret-token") || !strings.Contains(out, "action=Viewed") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	for _, sub := range []string{"pause", "resume"} {
		if out, _, err := runErr(e, "forwarders", sub, id); err != nil || !strings.Contains(out, sub[:5]) {
			t.Fatalf("%s: %v %s", sub, err, out)
		}
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--tenant", "uni", "--url", "https://x.example", "--kind", "smtp"}, "--kind"},
		{[]string{"add", "--tenant", "uni", "--url", "https://x.example", "--kind", "webhook"}, "--secret"},
		{[]string{"add", "--tenant", "uni", "--url", "https://x.example", "--kind", "caliper", "--filter", "colour=red"}, "--filter"},
		{[]string{"add", "--tenant", "nobody", "--url", "https://x.example", "--kind", "caliper"}, "no tenant"},
		{[]string{"show", "x"}, "not an id"},
		{[]string{"show", "99"}, "no forwarder 99"},
	} {
		if _, _, err := runErr(e, append([]string{"forwarders"}, bad.args...)...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: %v, want %q", bad.args, err, bad.want)
		}
	}
	if out, _, err := runErr(e, "forwarders", "delete", id); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %v %s", err, out)
	}
	if out, _, _ := runErr(e, "forwarders", "list"); strings.Contains(out, "lrs.example.edu") {
		t.Fatalf("deleted forwarder listed:\n%s", out)
	}
}
