package edx

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

func TestCurrentCourseID(t *testing.T) {
	for in, want := range map[string]string{
		"MITx/6.002x/2012_Fall":           "course-v1:MITx+6.002x+2012_Fall",
		"HarvardX/PH207x/2012_Fall":       "course-v1:HarvardX+PH207x+2012_Fall",
		"course-v1:edX+DemoX+Demo_Course": "course-v1:edX+DemoX+Demo_Course",
		"ccx-v1:edX+DemoX+Demo+ccx@1":     "ccx-v1:edX+DemoX+Demo+ccx@1",
		"MITx/6.002x":                     "MITx/6.002x",
		"a/b/c/d":                         "a/b/c/d",
		"MIT x/6.002x/2012":               "MIT x/6.002x/2012",
		"a//c":                            "a//c",
		"":                                "",
	} {
		if got := currentCourseID(in); got != want {
			t.Errorf("currentCourseID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCurrentUsageID(t *testing.T) {
	const slash, current = "MITx/6.002x/2012_Fall", "course-v1:MITx+6.002x+2012_Fall"
	for _, c := range []struct{ id, course, want string }{
		{"i4x://MITx/6.002x/problem/S1E1", slash, "block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1"},
		{"i4x://MITx/6.002x/problem/S1E1", current, "block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1"},
		{"i4x://MITx/6.002x/sequential/Circuit_Sandbox@draft", slash, "block-v1:MITx+6.002x+2012_Fall+type@sequential+block@Circuit_Sandbox"},
		{"c4x://MITx/6.002x/asset/handout.pdf", slash, "asset-v1:MITx+6.002x+2012_Fall+type@asset+block@handout.pdf"},
		// The run cannot be known: left as it is.
		{"i4x://MITx/6.002x/problem/S1E1", "", "i4x://MITx/6.002x/problem/S1E1"},
		{"i4x://MITx/6.002x/problem/S1E1", "MITx/8.01x/2013_Spring", "i4x://MITx/6.002x/problem/S1E1"},
		{"i4x://MITx/6.002x/problem", slash, "i4x://MITx/6.002x/problem"},
		{"block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1", slash, "block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1"},
	} {
		if got := currentUsageID(c.id, c.course); got != c.want {
			t.Errorf("currentUsageID(%q, %q) = %q, want %q", c.id, c.course, got, c.want)
		}
	}
}

func TestInputBlock(t *testing.T) {
	for _, c := range []struct {
		data    string
		current bool
		want    string
	}{
		{"input_3fc5461f86764ad7bdbdf6cbdde61e66_2_1%5B%5D=choice_0", false, "3fc5461f86764ad7bdbdf6cbdde61e66"},
		{"input_3fc5461f86764ad7bdbdf6cbdde61e66_2_1%5B%5D=choice_0", true, "3fc5461f86764ad7bdbdf6cbdde61e66"},
		{"input_i4x-MITx-6_002x-problem-S1E1_2_1=42", true, "S1E1"},
		{"input_i4x-MITx-6_002x-problem-Sample_Numeric_2_3_2_1=42&input_i4x-MITx-6_002x-problem-Sample_Numeric_2_3_3_1=7", true, "Sample_Numeric_2_3"},
		{"input_S1E1_2_1=42", true, "S1E1"},
		{"input_S1E1_2_1=42", false, ""},
		{"answer=42", true, ""},
	} {
		if got := inputBlock(c.data, c.current); got != c.want {
			t.Errorf("inputBlock(%q, %v) = %q, want %q", c.data, c.current, got, c.want)
		}
	}
}

// Lines of one course, MITx/6.002x/2012_Fall, as a 2013 installation logged
// them (SlashKey course, i4x:// usage ids, legacy input keys, session,
// referer and event source at the top level, time in "time") and as a
// current one does after the course moved to the new keys.
var (
	oldLines = map[string]string{
		"problem_check server": `{"username":"learner1","host":"courses.edx.org","event_source":"server","event_type":"problem_check",` +
			`"context":{"course_id":"MITx/6.002x/2012_Fall","org_id":"MITx","user_id":42,"path":"/courses/MITx/6.002x/2012_Fall/modx/i4x://MITx/6.002x/problem/S1E1/problem_check"},` +
			`"time":"2013-05-14T10:22:33.123456+00:00","ip":"10.0.0.1","page":"x_module","agent":"Mozilla/5.0",` +
			`"event":{"problem_id":"i4x://MITx/6.002x/problem/S1E1","attempts":1,"grade":1,"max_grade":1,"success":"correct","answers":{"i4x-MITx-6_002x-problem-S1E1_2_1":"42"}}}`,
		"problem_check browser": `{"username":"learner1","session":"0af8c2d1e4b3a5968778695a4b3c2d1e","ip":"10.0.0.1","event_source":"browser","event_type":"problem_check",` +
			`"event":"input_i4x-MITx-6_002x-problem-S1E1_2_1=42","agent":"Mozilla/5.0","page":"https://courses.edx.org/courses/MITx/6.002x/2012_Fall/courseware/Week_1/Circuit_Sandbox/",` +
			`"referer":"https://courses.edx.org/courses/MITx/6.002x/2012_Fall/courseware/Week_1/Circuit_Sandbox/",` +
			`"time":"2013-05-14T10:22:32.001+00:00","host":"courses.edx.org","context":{"course_id":"MITx/6.002x/2012_Fall","user_id":42,"org_id":"MITx","path":"/event"}}`,
		"play_video": `{"username":"learner1","session":"0af8c2d1e4b3a5968778695a4b3c2d1e","event_source":"browser","event_type":"play_video",` +
			`"event":"{\"id\":\"i4x-MITx-6_002x-video-S1V1_Motivation\",\"code\":\"4rpg8Bq6hb4\",\"currentTime\":12.5,\"speed\":\"1.0\"}",` +
			`"time":"2013-05-14T10:20:00.5+00:00","page":"https://courses.edx.org/courses/MITx/6.002x/2012_Fall/courseware/Week_1/",` +
			`"context":{"course_id":"MITx/6.002x/2012_Fall","user_id":42,"org_id":"MITx","path":"/event"}}`,
		"seq_next": `{"username":"learner1","session":"0af8c2d1e4b3a5968778695a4b3c2d1e","event_source":"browser","event_type":"edx.ui.lms.sequence.next_selected",` +
			`"event":"{\"id\":\"i4x://MITx/6.002x/sequential/Circuit_Sandbox\",\"current_tab\":1,\"tab_count\":4,\"widget_placement\":\"top\"}",` +
			`"time":"2013-05-14T10:21:00+00:00","context":{"course_id":"MITx/6.002x/2012_Fall","user_id":42,"org_id":"MITx"}}`,
		"enrollment": `{"username":"learner1","event_source":"server","event_type":"edx.course.enrollment.activated","name":"edx.course.enrollment.activated",` +
			`"event":{"course_id":"MITx/6.002x/2012_Fall","user_id":42,"mode":"honor"},"time":"2013-05-01T08:00:00+00:00",` +
			`"context":{"course_id":"MITx/6.002x/2012_Fall","user_id":42,"org_id":"MITx"}}`,
	}
	newLines = map[string]string{
		"problem_check server": `{"name":"problem_check","event_type":"problem_check","event_source":"server",` +
			`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","org_id":"MITx","user_id":42,"username":"learner1","session":"7c1d"},` +
			`"timestamp":"2024-05-14T10:22:33.123456+00:00",` +
			`"event":{"problem_id":"block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1","attempts":2,"grade":1,"max_grade":1,"success":"correct"}}`,
		"problem_check browser": `{"name":"problem_check","event_type":"problem_check","event":"input_S1E1_2_1=42",` +
			`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":42,"username":"learner1","session":"7c1d","event_source":"browser",` +
			`"referer":"https://lms.example.edu/xblock/block-v1:MITx+6.002x+2012_Fall+type@vertical+block@v1?view=student_view"},` +
			`"timestamp":"2024-05-14T10:22:32.001+00:00"}`,
		"play_video": `{"name":"play_video","event_type":"play_video","event":"{\"id\":\"S1V1_Motivation\",\"code\":\"html5\",\"currentTime\":12.5,\"duration\":600}",` +
			`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":42,"username":"learner1","session":"7c1d","event_source":"browser"},` +
			`"timestamp":"2024-05-14T10:20:00.5+00:00"}`,
		"seq_next": `{"name":"edx.ui.lms.sequence.next_selected","event_type":"edx.ui.lms.sequence.next_selected",` +
			`"event":"{\"id\":\"block-v1:MITx+6.002x+2012_Fall+type@sequential+block@Circuit_Sandbox\",\"current_tab\":1,\"tab_count\":4}",` +
			`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":42,"username":"learner1","event_source":"browser"},"timestamp":"2024-05-14T10:21:00+00:00"}`,
		"enrollment": `{"name":"edx.course.enrollment.activated","event_type":"edx.course.enrollment.activated",` +
			`"event":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":42,"mode":"audit"},` +
			`"context":{"course_id":"course-v1:MITx+6.002x+2012_Fall","user_id":42},"timestamp":"2024-05-01T08:00:00+00:00"}`,
	}
)

// transformOne maps line to exactly one event that passes strict validation.
func transformOne(t *testing.T, tr *Transformer, line string) map[string]any {
	t.Helper()
	res := tr.Transform([]byte(line))
	if res.Outcome != Mapped || len(res.Events) != 1 {
		t.Fatalf("outcome %v, %d events, err %v", res.Outcome, len(res.Events), res.Err)
	}
	b, _ := json.Marshal(res.Events[0])
	if _, err := caliper.NewValidator(caliper.Strict).CheckDocument(b); err != nil {
		t.Fatalf("invalid Caliper: %v\n%s", err, b)
	}
	return decode(t, b)
}

func idOf(ev map[string]any, key string) string {
	m, _ := ev[key].(map[string]any)
	return str(m["id"])
}

// TestOldAndNewLogsLandOnOneCourse: an old and a new log of one course give
// the same course (group) and the same objects.
func TestOldAndNewLogsLandOnOneCourse(t *testing.T) {
	tr, err := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s",
		Courses: map[string]string{"MITx/6.002x/2012_Fall": "Circuits and Electronics"}})
	if err != nil {
		t.Fatal(err)
	}
	const course = "https://lms.example.edu/course/course-v1:MITx+6.002x+2012_Fall"
	wantObject := map[string]string{
		"problem_check server":  "https://lms.example.edu/xblock/block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1/user/",
		"problem_check browser": "https://lms.example.edu/xblock/block-v1:MITx+6.002x+2012_Fall+type@problem+block@S1E1",
		"play_video":            "https://lms.example.edu/xblock/block-v1:MITx+6.002x+2012_Fall+type@video+block@S1V1_Motivation",
		"seq_next":              "https://lms.example.edu/xblock/block-v1:MITx+6.002x+2012_Fall+type@sequential+block@Circuit_Sandbox",
		"enrollment":            course,
	}
	for name, want := range wantObject {
		t.Run(name, func(t *testing.T) {
			old := transformOne(t, tr, oldLines[name])
			cur := transformOne(t, tr, newLines[name])
			for _, ev := range []map[string]any{old, cur} {
				if g := idOf(ev, "group"); g != course {
					t.Errorf("group %q, want %q", g, course)
				}
				if o := idOf(ev, "object"); !strings.HasPrefix(o, want) {
					t.Errorf("object %q, want %q", o, want)
				}
			}
			if name == "problem_check server" { // the Assessment the Attempt is of
				a := old["object"].(map[string]any)["assignable"].(map[string]any)["id"]
				b := cur["object"].(map[string]any)["assignable"].(map[string]any)["id"]
				if a != b {
					t.Errorf("assignable %v and %v", a, b)
				}
			}
			if name == "enrollment" {
				if n := old["object"].(map[string]any)["name"]; n != "Circuits and Electronics" {
					t.Errorf("catalog name under the SlashKey not found: %v", n)
				}
			}
		})
	}
	// The old browser event's session is at the top level.
	ev := transformOne(t, tr, oldLines["problem_check browser"])
	if s := idOf(ev, "session"); s != "https://lms.example.edu/sessions/0af8c2d1e4b3a5968778695a4b3c2d1e" {
		t.Errorf("session %q", s)
	}
}

// TestBrowserProblemCheckTopLevel: the block only in a top-level referer's
// activate_block_id, event source and session at the top level.
func TestBrowserProblemCheckTopLevel(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	line := `{"name":"problem_check","event_type":"problem_check","event_source":"browser","session":"5e1f",` +
		`"referer":"https://lms.example.edu/courses/course-v1:edX+DemoX+Demo_Course/courseware/ch1/seq1/?activate_block_id=block-v1%3AedX%2BDemoX%2BDemo_Course%2Btype%40problem%2Bblock%40p1",` +
		`"event":"{\"answer\":\"42\"}","context":{"course_id":"course-v1:edX+DemoX+Demo_Course","user_id":7},"time":"2016-01-02T03:04:05.000006+00:00"}`
	ev := transformOne(t, tr, line)
	if ev["type"] != "AssessmentEvent" {
		t.Fatalf("type %v: the top-level event_source was not read", ev["type"])
	}
	if o := idOf(ev, "object"); o != "https://lms.example.edu/xblock/block-v1:edX+DemoX+Demo_Course+type@problem+block@p1" {
		t.Errorf("object %q", o)
	}
	if s := idOf(ev, "session"); s != "https://lms.example.edu/sessions/5e1f" {
		t.Errorf("session %q", s)
	}
	// A referer naming the unit, not the problem, gives way to the input key.
	unit := strings.Replace(line, `"event":"{\"answer\":\"42\"}"`, `"event":"input_p2_2_1=42"`, 1)
	unit = strings.Replace(unit, "type%40problem%2Bblock%40p1", "type%40sequential%2Bblock%40seq1", 1)
	if o := idOf(transformOne(t, tr, unit), "object"); !strings.HasSuffix(o, "+type@problem+block@p2") {
		t.Errorf("object %q, want the input key's problem", o)
	}
}

func TestPDFChapterNavigated(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	line := `{"name":"textbook.pdf.chapter.navigated","event_type":"textbook.pdf.chapter.navigated","event_source":"browser",` +
		`"event":"{\"name\":\"textbook.pdf.chapter.navigated\",\"chapter\":\"/asset-v1:edX+DemoX+Demo_Course+type@asset+block/ch2.pdf\",\"chapter_title\":\"Chapter 2\"}",` +
		`"context":{"course_id":"course-v1:edX+DemoX+Demo_Course","user_id":7},"time":"2016-01-02T03:04:05+00:00"}`
	ev := transformOne(t, tr, line)
	obj := ev["object"].(map[string]any)
	if obj["type"] != "Document" || obj["name"] != "Chapter 2" || !strings.HasSuffix(str(obj["id"]), "/ch2.pdf") {
		t.Errorf("object %v", obj)
	}
	noChapter := strings.Replace(line, `\"chapter\":`, `\"other\":`, 1)
	if res := tr.Transform([]byte(noChapter)); res.Outcome != Invalid {
		t.Errorf("no chapter: outcome %v", res.Outcome)
	}
}

// TestCompatKeepsLegacyKeys: the reference's mode writes the ids as logged.
func TestCompatKeepsLegacyKeys(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s", Compat: true})
	res := tr.Transform([]byte(oldLines["problem_check server"]))
	if res.Outcome != Mapped {
		t.Fatalf("outcome %v %v", res.Outcome, res.Err)
	}
	b, _ := json.Marshal(res.Events[0])
	if !strings.Contains(string(b), "/xblock/i4x://MITx/6.002x/problem/S1E1") || !strings.Contains(string(b), "/course/MITx/6.002x/2012_Fall") {
		t.Errorf("compat mode rewrote the keys: %s", b)
	}
}

func TestLMSURL(t *testing.T) {
	for _, ok := range []string{"https://lms.example.edu", "http://localhost:18000", "https://example.edu/lms/"} {
		if _, err := New(Config{LMSURL: ok, ActorSecret: "s"}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"lms.example.edu", "ftp://lms.example.edu", "https://", "https:///path", "//lms.example.edu", "https://lms.example.edu?x=1", "https://lms.example.edu/#f", "https://lms.example.edu?", "https://admin:pw@lms.example.edu", "mailto:a@b"} {
		_, err := New(Config{LMSURL: bad, ActorSecret: "s"})
		if err == nil || !strings.Contains(err.Error(), "--lms-url") {
			t.Errorf("%q: err %v, want a --lms-url error", bad, err)
		}
	}
}
