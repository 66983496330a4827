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
