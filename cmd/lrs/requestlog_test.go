package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// logLines returns the JSON log records with message msg.
func logLines(t *testing.T, logs, msg string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			recs = append(recs, rec)
		}
	}
	return recs
}

// TestRequestLogNamesTheRefusal: a refused request's log line says why (the
// problem type), with the key and tenant when the token was known and the
// user agent; health probes log at DEBUG.
func TestRequestLogNamesTheRefusal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	getenv := env(map[string]string{"LRS_DATA_DIR": dir})
	out, _, err := runErr(getenv, "keys", "create", "--tenant", "uni", "--scopes", "read")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	readToken := lines[len(lines)-1]

	for _, level := range []string{"info", "debug"} {
		base, _, logs, stop := startServerIO(t, getenv, "--log-level", level)
		do := func(path, token string) {
			req, _ := http.NewRequest("POST", base+path, strings.NewReader(`{}`))
			if path == "/healthz" {
				req.Method = "GET"
			}
			req.Header.Set("User-Agent", "sensor-test/1.0")
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		do("/caliper", "lrs_unknown")
		do("/caliper", readToken)
		do("/healthz", "")
		stop()

		var unknown, scope, probe map[string]any
		for _, rec := range logLines(t, logs.String(), "request") {
			switch {
			case rec["path"] == "/healthz":
				probe = rec
			case rec["key_id"] != nil:
				scope = rec
			default:
				unknown = rec
			}
		}
		if unknown == nil || unknown["status"] != 401.0 || unknown["problem"] != "unauthorized" || unknown["user_agent"] != "sensor-test/1.0" || unknown["level"] != "INFO" {
			t.Errorf("%s: unknown token logged as %v", level, unknown)
		}
		if scope == nil || scope["tenant"] != "uni" || scope["key_id"] != 1.0 || !strings.Contains(scope["detail"].(string), "write scope") {
			t.Errorf("%s: missing scope logged as %v", level, scope)
		}
		if level == "info" && probe != nil {
			t.Errorf("probe logged at INFO: %v", probe)
		}
		if level == "debug" && (probe == nil || probe["level"] != "DEBUG") {
			t.Errorf("probe at debug level: %v", probe)
		}
	}
}
