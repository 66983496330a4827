package synth

import (
	"encoding/json"
	"fmt"
	"time"
)

// EdxLine returns one Open edX tracking-log line shaped like production
// logs: browser events with their data as a JSON string, server events with
// an object, and a share of page requests (event_type a URL path) that no
// mapping takes.
func (g *Generator) EdxLine() []byte {
	r := g.rng
	user := r.IntN(g.pop.Actors)
	course := r.IntN(g.pop.Courses)
	courseID := fmt.Sprintf("course-v1:Org%d+C%d+2025", course%20, course)
	block := func(kind string) string {
		return fmt.Sprintf("block-v1:Org%d+C%d+2025+type@%s+block@%08x", course%20, course, kind, r.Uint32()%uint32(g.pop.Objects))
	}
	at := g.pop.Start.Add(time.Duration(r.Int64N(int64(g.pop.Span))))
	ctx := map[string]any{
		"course_id": courseID, "org_id": fmt.Sprintf("Org%d", course%20), "user_id": user,
		"username": fmt.Sprintf("learner%d", user), "session": fmt.Sprintf("%032x", r.Uint64()),
		"host": "lms.example.edu", "ip": "10.0.0.1", "agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
		"path": "/event", "referer": "https://lms.example.edu/courses/" + courseID + "/courseware/",
		"page": "https://lms.example.edu/courses/" + courseID + "/courseware/",
	}
	line := map[string]any{"context": ctx, "time": at.Format("2006-01-02T15:04:05.999999+00:00"),
		"username": ctx["username"], "ip": "10.0.0.1", "host": "lms.example.edu", "accept_language": "en"}
	browser := func(name string, data map[string]any) {
		b, _ := json.Marshal(data)
		line["event_type"], line["name"], line["event_source"], line["event"] = name, name, "browser", string(b)
		ctx["event_source"] = "browser"
	}
	server := func(name string, data map[string]any) {
		line["event_type"], line["name"], line["event_source"], line["event"] = name, name, "server", data
		ctx["event_source"] = "server"
	}
	video := fmt.Sprintf("%032x", r.Uint64()%uint64(g.pop.Objects))
	switch w := r.IntN(100); {
	case w < 20:
		line["event_type"], line["event_source"], line["event"] = "/courses/"+courseID+"/courseware/", "server", `{"GET": {}, "POST": {}}`
	case w < 40:
		browser("play_video", map[string]any{"id": video, "code": "html5", "currentTime": r.Float64() * 600, "duration": 600})
	case w < 55:
		browser("pause_video", map[string]any{"id": video, "code": "html5", "currentTime": r.Float64() * 600, "duration": 600})
	case w < 70:
		browser("edx.ui.lms.sequence.next_selected", map[string]any{"id": block("sequential"), "current_tab": 1 + r.IntN(5), "tab_count": 6, "widget_placement": "top"})
	case w < 80:
		browser("edx.ui.lms.link_clicked", map[string]any{"current_url": ctx["page"], "target_url": "https://lms.example.edu/courses/" + courseID + "/jump_to/" + block("sequential")})
	case w < 95:
		attempts := 1 + r.IntN(3)
		grade := r.IntN(2)
		server("problem_check", map[string]any{"problem_id": block("problem"), "attempts": attempts, "grade": grade, "max_grade": 1,
			"success": map[int]string{0: "incorrect", 1: "correct"}[grade], "answers": map[string]any{"q_2_1": "choice_1"},
			"submission": map[string]any{"q_2_1": map[string]any{"answer": "choice_1", "correct": grade == 1, "question": "Which one?", "response_type": "multiplechoiceresponse"}}})
	default:
		server("edx.forum.thread.created", map[string]any{"commentable_id": fmt.Sprintf("topic-%d", course), "id": fmt.Sprintf("%024x", r.Uint64()),
			"title": "A question about week 2", "body": "<p>How does the second exercise work?</p>", "thread_type": "question", "anonymous": false})
	}
	b, err := json.Marshal(line)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return b
}
