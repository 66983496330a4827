package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHelpDefaultsAreHuman: every command's help gives sizes in KiB, MiB or
// GiB (no "394940544 B"), and names each flag's LRS_* variable (or says it
// has none, as keys create --rate-limit, whose variable is serve's).
func TestHelpDefaultsAreHuman(t *testing.T) {
	bytesDefault := regexp.MustCompile(`\(default (\d+) B\)`)
	for _, args := range [][]string{{"serve"}, {"copy"}, {"import"}, {"backup"}, {"keys", "create"}, {"migrate", "up"}, {"bench", "query"}, {"bench", "ingest"}} {
		out, errOut, _ := runErr(env(nil), append(args, "-h")...)
		help := out + errOut
		if !strings.Contains(help, "Flags (each can also be set as its LRS_* variable") {
			t.Errorf("%v: no flag list:\n%s", args, help)
			continue
		}
		for _, m := range bytesDefault.FindAllStringSubmatch(help, -1) {
			if n, _ := strconv.Atoi(m[1]); n >= 1024 {
				t.Errorf("%v: %s is not a size people read", args, m[0])
			}
		}
		for _, line := range strings.Split(help, "\n") {
			if strings.HasPrefix(line, "  --") && !strings.Contains(line, " LRS_") && !strings.Contains(line, "(no variable)") {
				t.Errorf("%v: %q names no variable", args, line)
			}
		}
	}
}

// TestHelpNamesValues: every flag's value is named for what it holds, never
// a bare VALUE (erase --actor and --edx-user said SIZE, as if sizes).
func TestHelpNamesValues(t *testing.T) {
	for name := range synopses {
		_, help, _ := runErr(env(nil), append(strings.Fields(name), "-h")...)
		for _, line := range strings.Split(help, "\n") {
			f := strings.Fields(line)
			if !strings.HasPrefix(line, "  --") || len(f) < 3 {
				continue
			}
			if f[1] == "VALUE" {
				t.Errorf("lrs %s: %s names its value VALUE", name, f[0])
			}
		}
	}
	_, help, _ := runErr(env(nil), "erase", "-h")
	for _, want := range []string{"--actor IRI ", "--edx-user ID_OR_USERNAME "} {
		if !strings.Contains(help, want) {
			t.Errorf("erase help lacks %q:\n%s", want, help)
		}
	}
}
