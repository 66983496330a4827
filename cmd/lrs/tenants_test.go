package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestTenantsCommand: lrs tenants create, list and delete; delete without
// --yes counts and deletes nothing (exit 2), and LRS_YES does not confirm.
func TestTenantsCommand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		getenv := env(map[string]string{"LRS_DATABASE_URL": storetest.URL(t, kind), "LRS_YES": "true"})
		if out, err := runCmd(t, getenv, "tenants", "create", "uni"); err != nil || !strings.Contains(out, `"uni" created`) {
			t.Fatalf("create: %v\n%s", err, out)
		}
		if _, err := runCmd(t, getenv, "tenants", "create", "uni"); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("second create: %v", err)
		}
		if _, err := runCmd(t, getenv, "keys", "create", "--tenant", "uni", "--scopes", "write", "--expires", "30d"); err != nil {
			t.Fatal(err)
		}
		if _, err := runCmd(t, getenv, "keys", "create", "--tenant", "uni", "--scopes", "write", "--expires", "2001-01-01T00:00:00Z"); err == nil {
			t.Fatal("--expires in the past was accepted")
		}
		out, err := runCmd(t, getenv, "tenants", "list")
		if err != nil || !strings.Contains(out, "LIVE KEYS") || !strings.Contains(out, "uni") {
			t.Fatalf("list: %v\n%s", err, out)
		}
		if out, err := runCmd(t, getenv, "keys", "list"); err != nil || !strings.Contains(out, "EXPIRES") || !strings.Contains(out, "LAST USED") {
			t.Fatalf("keys list: %v\n%s", err, out)
		}
		out, err = runCmd(t, getenv, "tenants", "delete", "uni")
		var ec *exitCodeError
		if !errors.As(err, &ec) || ec.code != 2 || !strings.Contains(out, "1 keys; nothing was deleted") {
			t.Fatalf("delete without --yes: %v\n%s", err, out)
		}
		if out, _ := runCmd(t, getenv, "tenants", "list"); !strings.Contains(out, "uni") {
			t.Fatalf("the tenant went without --yes:\n%s", out)
		}
		if out, err := runCmd(t, getenv, "tenants", "delete", "uni", "--yes"); err != nil || !strings.Contains(out, `tenant "uni" deleted`) {
			t.Fatalf("delete --yes: %v\n%s", err, out)
		}
		if out, _ := runCmd(t, getenv, "tenants", "list"); strings.Contains(out, "uni") {
			t.Fatalf("still listed after delete:\n%s", out)
		}
		if _, err := runCmd(t, getenv, "tenants", "delete", "uni", "--yes"); err == nil || !strings.Contains(err.Error(), "no tenant") {
			t.Fatalf("deleting again: %v", err)
		}
	})
}
