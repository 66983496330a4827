package edx

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/internal/fixture"
)

// fixtures is the Open edX reference fixtures folder; t is skipped without it.
func fixtures(t testing.TB) string { t.Helper(); return fixture.Path(t, "edx/erb-fixtures") }

// erbConfig is the reference's setup for its expected files (SOURCE.txt):
// every user's anonymous id is the same.
func erbConfig(t *testing.T) Config {
	users := map[string]string{}
	raws, _ := filepath.Glob(filepath.Join(fixtures(t), "raw", "*.json"))
	for _, f := range raws {
		b, _ := os.ReadFile(f)
		e, err := parseRaw(b)
		if err != nil {
			continue
		}
		for _, s := range e.userCandidates() {
			users[s] = "32e08e30-f8ae-4ce2-94a8-c2bfe38a70cb"
		}
	}
	return Config{
		LMSURL:             "http://localhost:18000",
		ActorMap:           users,
		Courses:            map[string]string{"course-v1:edX+DemoX+Demo_Course": "Demonstration Course"},
		TransformerVersion: "event-routing-backends@1.1.1",
		Compat:             true,
	}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func dropIDs(m map[string]any) {
	delete(m, "id")
	if ext, ok := m["extensions"].(map[string]any); ok {
		delete(ext, "transformerVersion")
		if len(ext) == 0 {
			delete(m, "extensions")
		}
	}
}

// TestReferenceFixtures: in --compat erb mode each of the reference's expected
// files is reproduced exactly (ids and transformerVersion aside), and the
// anonymous one is refused.
func TestReferenceFixtures(t *testing.T) {
	tr, err := New(erbConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	expected, _ := filepath.Glob(filepath.Join(fixtures(t), "expected-caliper", "*.json"))
	if len(expected) != 35 {
		t.Fatalf("%d expected files, want 35 (are LRS_FIXTURES the reference fixtures? README: Reference fixtures)", len(expected))
	}
	reproduced := 0
	for _, f := range expected {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(fixtures(t), "raw", name))
			if err != nil {
				t.Fatal(err)
			}
			res := tr.Transform(raw)
			if strings.Contains(name, "anonymous") {
				if res.Outcome != AnonymousSkipped {
					t.Fatalf("anonymous event: outcome %v, want refused", res.Outcome)
				}
				return
			}
			if res.Outcome != Mapped || len(res.Events) != 1 {
				t.Fatalf("outcome %v, %d events, err %v", res.Outcome, len(res.Events), res.Err)
			}
			wantBytes, _ := os.ReadFile(f)
			want := decode(t, wantBytes)
			gotBytes, _ := json.Marshal(res.Events[0])
			got := decode(t, gotBytes)
			dropIDs(want)
			dropIDs(got)
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("differs\n got %s\nwant %s", g, w)
				return
			}
			reproduced++
		})
	}
	if reproduced != 34 {
		t.Errorf("reproduced %d of 34", reproduced)
	}
}

// TestDefaultModeIsValidCaliper: every raw fixture, in the default mode,
// yields events that pass strict validation, or is reported unmapped.
func TestDefaultModeIsValidCaliper(t *testing.T) {
	cfg := erbConfig(t)
	cfg.Compat = false
	cfg.ActorMap = nil
	cfg.ActorSecret = "test secret"
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	svc := caliper.NewValidator(caliper.Strict)
	raws, _ := filepath.Glob(filepath.Join(fixtures(t), "raw", "*.json"))
	counts := map[Outcome]int{}
	for _, f := range raws {
		raw, _ := os.ReadFile(f)
		res := tr.Transform(raw)
		counts[res.Outcome]++
		switch res.Outcome {
		case Mapped:
			for _, ev := range res.Events {
				b, _ := json.Marshal(ev)
				if _, err := svc.CheckDocument(b); err != nil {
					t.Errorf("%s: invalid Caliper: %v\n%s", filepath.Base(f), err, b)
				}
			}
		case Invalid:
			t.Logf("%s: refused: %v", filepath.Base(f), res.Err)
		}
	}
	t.Logf("outcomes of %d raw fixtures: %v", len(raws), counts)
}

func TestDeterministicIDsAndPseudonyms(t *testing.T) {
	cfg := Config{LMSURL: "https://lms.example.edu", ActorSecret: "s1"}
	tr, _ := New(cfg)
	raw, _ := os.ReadFile(filepath.Join(fixtures(t), "raw", "play_video.json"))
	a, b := tr.Transform(raw), tr.Transform(raw)
	if a.Events[0]["id"] != b.Events[0]["id"] {
		t.Error("the same raw event gave two ids")
	}
	actor := a.Events[0]["actor"].(map[string]any)["id"].(string)
	if strings.Contains(actor, "/user/3") || strings.Contains(actor, "edx") {
		t.Errorf("actor id leaks the user: %s", actor)
	}
	cfg.ActorSecret = "s2"
	tr2, _ := New(cfg)
	if other := tr2.Transform(raw).Events[0]["actor"].(map[string]any)["id"]; other == actor {
		t.Error("the actor id does not depend on the secret")
	}
	seek, _ := os.ReadFile(filepath.Join(fixtures(t), "raw", "seek_video.json"))
	if tr.Transform(seek).Events[0]["id"] == a.Events[0]["id"] {
		t.Error("two events share an id")
	}
	if _, err := New(Config{LMSURL: "x"}); err == nil {
		t.Error("no secret and no actor map accepted")
	}
}

func TestISODuration(t *testing.T) {
	for in, want := range map[float64]string{195: "PT3M15S", 0.03278805340576172: "PT0.032788S", 0: "P0D",
		194.381: "PT3M14.381S", 3.093662: "PT3.093662S", 3600: "PT1H", 90061: "P1DT1H1M1S"} {
		if got := isoDuration(in); got != want {
			t.Errorf("isoDuration(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestAdditionsWithoutFixtures covers added mappings the reference has no raw
// fixture for, with events shaped as the Open edX tracking-log docs give them.
func TestAdditionsWithoutFixtures(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	svc := caliper.NewValidator(caliper.Strict)
	ctx := `"context":{"course_id":"course-v1:edX+DemoX+Demo_Course","user_id":7,"session":"abc",` +
		`"module":{"usage_key":"block-v1:edX+DemoX+Demo_Course+type@openassessment+block@ora1"}},"timestamp":"2024-03-01T10:00:00.123456+00:00"`
	cases := map[string]string{
		"pdf page":       `{"event_type":"textbook.pdf.page.navigated","event":"{\"chapter\":\"/asset-v1:edX+DemoX+Demo_Course+type@asset+block/ch1.pdf\",\"page\":4,\"name\":\"textbook.pdf.page.navigated\"}",` + ctx + `}`,
		"book":           `{"event_type":"book","event":{"type":"gotopage","old":3,"new":4},` + ctx + `}`,
		"ora submission": `{"name":"openassessmentblock.create_submission","event":{"submission_uuid":"0a1b2c","attempt_number":1,"answer":{"parts":[{"text":"x"}]}},` + ctx + `}`,
		"subscribed":     `{"name":"edx.forum.thread.subscribed","data":{"commentable_id":"topic-1","id":"t1"},` + ctx + `}`,
	}
	for name, line := range cases {
		res := tr.Transform([]byte(line))
		if res.Outcome != Mapped {
			t.Errorf("%s: outcome %v (%v)", name, res.Outcome, res.Err)
			continue
		}
		b, _ := json.Marshal(res.Events[0])
		if _, err := svc.CheckDocument(b); err != nil {
			t.Errorf("%s: invalid Caliper: %v\n%s", name, err, b)
		}
	}
	// The reference maps none of these: in compat mode they stay unmapped.
	cfg := erbConfig(t)
	compat, _ := New(cfg)
	raw, _ := os.ReadFile(filepath.Join(fixtures(t), "raw", "edx.forum.thread.created.json"))
	if res := compat.Transform(raw); res.Outcome != Unmapped {
		t.Errorf("compat mode maps an addition: %v", res.Outcome)
	}
}
