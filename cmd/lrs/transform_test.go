package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/edx"
)

// transformLog is a log with a comment, a mapped event, a page request, an
// unknown name and, when broken, a line cut short.
func transformLog(t *testing.T, broken bool) string {
	t.Helper()
	var compact bytes.Buffer
	json.Compact(&compact, readEdxFixture(t, "play_video.json"))
	play := compact.String()
	lines := []string{"# exported by hand", play, "",
		`{"event_type":"/courses/x/courseware","time":"2025-09-01T10:00:00Z","username":"a","event":"{}"}`,
		`{"name":"something.new","time":"2025-09-01T10:00:00Z","username":"a","event":{}}`}
	if broken {
		lines = append(lines, play[:len(play)/2])
	}
	path := filepath.Join(t.TempDir(), "tracking.log")
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return path
}

// TestTransformExitStatus: 0 when nothing was refused (unmapped names and
// page requests are skipped by policy), 1 when a line was, 2 for a usage error.
func TestTransformExitStatus(t *testing.T) {
	for _, c := range []struct {
		name   string
		broken bool
		args   []string
		want   int
	}{
		{"OK", false, nil, 0},
		{"ErrRefusedLine", true, nil, 1},
		{"ErrBadReport", false, []string{"--report=xml"}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"transform", "--lms-url", testLMS, "--actor-secret", "s", transformLog(t, c.broken)}, c.args...)
			err := run(context.Background(), args, env(nil), &stdout, &stderr)
			if got := exitCode(err); err != nil && got != c.want || err == nil && c.want != 0 {
				t.Fatalf("exit %d (%v), want %d; stderr %s", got, err, c.want, stderr.String())
			}
			if c.want == 2 {
				return
			}
			if n := strings.Count(stdout.String(), "\n"); n != 1 {
				t.Errorf("%d events on stdout, want 1 (the refused line costs no other)", n)
			}
		})
	}
}

// TestTransformReport: --report prints a row per event name with what
// became of its lines and the share of learning events mapped;
// --report=json the same as one JSON document.
func TestTransformReport(t *testing.T) {
	log := transformLog(t, true)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"transform", "--report", "--lms-url", testLMS, "--actor-secret", "s", log}, env(nil), &stdout, &stderr)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	text := stderr.String()
	for _, want := range []string{
		"4 lines: 1 mapped, 2 unmapped, 1 refused, 0 anonymous skipped",
		"learning events mapped: 1 of 2 (50.0 %)", // play_video mapped; something.new unknown
		"       1        0        0         0  learning     play_video",
		"       0        1        0         0  unknown      something.new",
		"       0        1        0         0  not learning " + edx.PageRequest,
		"       0        0        1         0  not learning " + edx.Unreadable,
		"tracking.log:6: not JSON",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}

	stderr.Reset()
	err = run(context.Background(), []string{"transform", "--report=json", "--lms-url", testLMS, "--actor-secret", "s", log}, env(nil), &bytes.Buffer{}, &stderr)
	// The exit status says a line was refused; main adds no line to the JSON on stderr.
	if ec, ok := err.(*exitCodeError); !ok || ec.code != 1 || !ec.quiet {
		t.Errorf("--report=json: %#v, want a quiet exit 1", err)
	}
	var r edx.Report
	if err := json.Unmarshal(stderr.Bytes(), &r); err != nil {
		t.Fatalf("--report=json: %v\n%s", err, stderr.String())
	}
	if r.Lines != 4 || r.Mapped != 1 || r.Refused != 1 || r.Learning != 2 || r.LearningMapped != 1 || len(r.Names) != 4 || len(r.Errors) != 1 {
		t.Errorf("--report=json: %+v", r)
	}
}

// TestTransformReportOnDocumentedMix: the coverage report of a realistic
// mix of every documented event (bench edx-log --documented) shows at
// least 95 % of the learning events mapped, and none refused.
func TestTransformReportOnDocumentedMix(t *testing.T) {
	log := filepath.Join(t.TempDir(), "doc.log")
	if err := run(context.Background(), []string{"bench", "edx-log", "--documented", "--size", "512KiB", "--out", log}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"transform", "--report=json", "--lms-url", testLMS, "--actor-secret", "s", log}, env(nil), &bytes.Buffer{}, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var r edx.Report
	if err := json.Unmarshal(stderr.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Lines < 500 || r.Coverage < 0.95 || r.Refused != 0 {
		t.Errorf("%d lines, coverage %.3f, %d refused", r.Lines, r.Coverage, r.Refused)
	}
}
