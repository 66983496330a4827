package synth

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// docShape is one event of the Open edX tracking-log documentation ("Events
// in the Tracking Logs": its event member fields), with how often it shows
// in a log of a running course: a weight per 10,000 lines.
type docShape struct {
	name   string
	source string // "browser": data as a JSON string; "server": an object
	module string // the block type of context.module.usage_key, or ""
	weight int
	data   func(d *docLine) any
}

// docLine is what a shape draws its values from.
type docLine struct {
	g               *Generator
	user            int
	courseID, block string // block: a block id, the same within the line
}

func (d *docLine) id(kind string) string {
	return fmt.Sprintf("block-v1:%s+type@%s+block@%s", d.courseID[len("course-v1:"):], kind, d.block)
}

func (d *docLine) n(max int) int { return d.g.rng.IntN(max) }

func (d *docLine) hex() string { return fmt.Sprintf("%032x", d.g.rng.Uint64()) }

// videoData is the member fields the video events share.
func (d *docLine) videoData(extra map[string]any) map[string]any {
	m := map[string]any{"id": d.block, "code": "html5", "currentTime": d.n(600), "duration": 600}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (d *docLine) exam(status string) map[string]any {
	return map[string]any{"attempt_id": d.n(5000), "attempt_code": d.hex(), "attempt_status": status,
		"attempt_user_id": d.user, "attempt_started_at": "2025-09-02T10:00:00+00:00", "attempt_completed_at": nil,
		"attempt_allowed_time_limit_mins": 60, "attempt_event_elapsed_time_secs": d.n(3600),
		"exam_id": d.n(40), "exam_content_id": d.id("sequential"), "exam_name": "Midterm", "exam_default_time_limit_mins": 60,
		"exam_is_active": true, "exam_is_practice_exam": false, "exam_is_proctored": true}
}

func (d *docLine) ora(extra map[string]any) map[string]any {
	m := map[string]any{"submission_uuid": d.hex(), "scorer_id": d.hex(), "score_type": "PE", "scored_at": "2025-09-03T12:00:00+00:00",
		"feedback": "Clear argument.", "rubric": map[string]any{"contenthash": d.hex()},
		"parts": []any{map[string]any{"criterion": map[string]any{"name": "Ideas", "points_possible": 3},
			"option": map[string]any{"name": "Good", "points": 2}, "feedback": ""}}}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func init() {
	// Events documented as sharing another's member fields (their weights are
	// the rarity of the variant).
	for from, names := range map[string][]string{
		"problem_check":                            {"save_problem_check"},
		"edx.special_exam.timed.attempt.created":   {"edx.special_exam.practice.attempt.created", "edx.special_exam.proctored.attempt.created"},
		"edx.special_exam.timed.attempt.started":   {"edx.special_exam.practice.attempt.started", "edx.special_exam.proctored.attempt.started"},
		"edx.special_exam.timed.attempt.submitted": {"edx.special_exam.practice.attempt.submitted", "edx.special_exam.proctored.attempt.submitted"},
		"edx.special_exam.proctored.attempt.review_received": {"edx.special_exam.proctored.attempt.verified",
			"edx.special_exam.proctored.attempt.rejected"},
		"edx.special_exam.proctored.attempt.ready_to_start": {"edx.special_exam.proctored.attempt.declined"},
		"edx.googlecomponent.document.displayed":            {"edx.googlecomponent.calendar.displayed"},
		"microsoft.office.mix.played":                       {"microsoft.office.mix.loaded", "microsoft.office.mix.paused", "microsoft.office.mix.stopped"},
		"edx.certificate.created":                           {"edx.badge.assertion.created"},
		"edx.certificate.shared":                            {"edx.badge.assertion.shared"},
		"edx.certificate.evidence_visited":                  {"edx.badge.assertion.evidence_visited"},
		"edx.forum.thread.reported":                         {"edx.forum.thread.unreported"},
		"edx.course.enrollment.upgrade.clicked":             {"edx.course.enrollment.upgrade.succeeded"},
		"problem_check_fail":                                {"save_problem_fail", "reset_problem_fail"},
		"textbook.pdf.zoom.menu.changed":                    {"textbook.pdf.display.scaled"},
	} {
		i := slices.IndexFunc(docShapes, func(s docShape) bool { return s.name == from })
		for _, n := range names {
			s := docShapes[i]
			s.name, s.weight = n, 1
			docShapes = append(docShapes, s)
		}
	}
}

// pageRequestWeight is the share of implicit page-request events (event_type
// a URL path), per 10,000 lines, in the documented mix.
const pageRequestWeight = 2000

// EdxDocumentedNames lists the event names EdxDocumentedEvent can build, sorted.
func EdxDocumentedNames() []string {
	names := make([]string, 0, len(docShapes))
	for _, s := range docShapes {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// EdxDocumentedEvent returns one tracking-log line for the named event in
// the shape the Open edX documentation gives it; nil for a name it lacks.
func (g *Generator) EdxDocumentedEvent(name string) []byte {
	i := slices.IndexFunc(docShapes, func(s docShape) bool { return s.name == name })
	if i < 0 {
		return nil
	}
	return g.docLine(docShapes[i])
}

// EdxDocumentedLine returns one line of a realistic mix of every documented
// event shape (EdxDocumentedNames) and page requests, in the proportions of
// a running course: video, problems and navigation first.
func (g *Generator) EdxDocumentedLine() []byte {
	total := pageRequestWeight
	for _, s := range docShapes {
		total += s.weight
	}
	w := g.rng.IntN(total)
	for _, s := range docShapes {
		if w < s.weight {
			return g.docLine(s)
		}
		w -= s.weight
	}
	course := g.rng.IntN(g.pop.Courses)
	courseID := fmt.Sprintf("course-v1:Org%d+C%d+2025", course%20, course)
	b, _ := json.Marshal(map[string]any{"event_type": "/courses/" + courseID + "/courseware/", "event_source": "server",
		"event": `{"GET": {}, "POST": {}}`, "time": g.when(), "username": fmt.Sprintf("learner%d", g.rng.IntN(g.pop.Actors)),
		"context": map[string]any{"course_id": courseID, "path": "/courses/" + courseID + "/courseware/"}})
	return b
}

func (g *Generator) when() string {
	return g.pop.Start.Add(time.Duration(g.rng.Int64N(int64(g.pop.Span)))).Format("2006-01-02T15:04:05.999999+00:00")
}

// docLine builds the line of shape s: the common fields of the
// documentation's examples around the shape's member fields.
func (g *Generator) docLine(s docShape) []byte {
	user := g.rng.IntN(g.pop.Actors)
	course := g.rng.IntN(g.pop.Courses)
	d := &docLine{g: g, user: user, courseID: fmt.Sprintf("course-v1:Org%d+C%d+2025", course%20, course),
		block: fmt.Sprintf("%032x", g.rng.Uint32()%uint32(max(g.pop.Objects, 1)))}
	ctx := map[string]any{"course_id": d.courseID, "org_id": fmt.Sprintf("Org%d", course%20), "user_id": user,
		"path": "/event", "event_source": s.source, "session": fmt.Sprintf("%032x", g.rng.Uint64())}
	if s.module != "" {
		ctx["module"] = map[string]any{"usage_key": d.id(s.module), "display_name": "A " + s.module}
	}
	data := s.data(d)
	if s.source != "server" {
		b, _ := json.Marshal(data)
		data = string(b) // the browser and the mobile app log their data as a JSON string
	}
	line := map[string]any{"name": s.name, "event_type": s.name, "event_source": s.source, "event": data,
		"time": g.when(), "username": fmt.Sprintf("learner%d", user), "host": "lms.example.edu", "ip": "10.0.0.1",
		"agent": "Mozilla/5.0", "page": "https://lms.example.edu/courses/" + d.courseID + "/courseware/", "context": ctx}
	b, err := json.Marshal(line)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return b
}
