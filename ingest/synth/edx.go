package synth

import (
	"encoding/json"
	"fmt"
	"net/url"
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

// EdxLegacyLine returns one tracking-log line as installations older than
// 2015 wrote them: SlashKey course ids (Org<n>/C<n>/2025, the same courses
// EdxLine writes with current keys), i4x:// usage ids, HTML ids in video
// events, legacy problem input keys, session, referer and event source at
// the top level (with, from the years of transition, a referer naming the
// problem in activate_block_id), the time in "time", names of the day that no mapping takes
// (seq_goto, problem_graded, …), anonymous page views, and the odd line cut
// short by log rotation.
func (g *Generator) EdxLegacyLine() []byte {
	r := g.rng
	user := r.IntN(g.pop.Actors)
	course := r.IntN(g.pop.Courses)
	org, num := fmt.Sprintf("Org%d", course%20), fmt.Sprintf("C%d", course)
	courseID := org + "/" + num + "/2025"
	block := fmt.Sprintf("%08x", r.Uint32()%uint32(g.pop.Objects))
	i4x := func(category string) string { return "i4x://" + org + "/" + num + "/" + category + "/" + block }
	at := g.pop.Start.Add(time.Duration(r.Int64N(int64(g.pop.Span))))
	page := "https://lms.example.edu/courses/" + courseID + "/courseware/Week_1/Sequence_" + block + "/"
	line := map[string]any{
		"username": fmt.Sprintf("learner%d", user), "ip": "10.0.0.1", "agent": "Mozilla/5.0 (Windows NT 6.1) Firefox/20.0",
		"host": "lms.example.edu", "time": at.Format("2006-01-02T15:04:05.999999+00:00"), "page": nil,
		"context": map[string]any{"course_id": courseID, "org_id": org, "user_id": user, "path": "/event"},
	}
	browser := func(name string, data any) {
		if m, ok := data.(map[string]any); ok {
			b, _ := json.Marshal(m)
			data = string(b)
		}
		line["event_source"], line["event_type"], line["event"] = "browser", name, data
		line["session"], line["page"], line["referer"] = fmt.Sprintf("%032x", r.Uint64()), page, page
	}
	server := func(name string, data map[string]any) {
		line["event_source"], line["event_type"], line["event"] = "server", name, data
	}
	switch w := r.IntN(1000); {
	case w < 250:
		server("/courses/"+courseID+"/courseware/Week_1/", map[string]any{"GET": map[string]any{}, "POST": map[string]any{}})
	case w < 280: // an anonymous visitor of the course about page
		server("/courses/"+courseID+"/about", map[string]any{"GET": map[string]any{}})
		line["username"] = ""
		delete(line["context"].(map[string]any), "user_id")
	case w < 420:
		browser("play_video", map[string]any{"id": "i4x-" + org + "-" + num + "-video-" + block, "code": "4rpg8Bq6hb4", "currentTime": r.Float64() * 600, "speed": "1.0"})
	case w < 500:
		browser("pause_video", map[string]any{"id": "i4x-" + org + "-" + num + "-video-" + block, "code": "4rpg8Bq6hb4", "currentTime": r.Float64() * 600, "speed": "1.0"})
	case w < 580:
		browser([]string{"seq_goto", "seq_next", "seq_prev"}[r.IntN(3)], map[string]any{"id": i4x("sequential"), "old": 1, "new": 2})
	case w < 680:
		attempts, grade := 1+r.IntN(3), r.IntN(2)
		server("problem_check", map[string]any{"problem_id": i4x("problem"), "attempts": attempts, "grade": grade, "max_grade": 1,
			"success": map[int]string{0: "incorrect", 1: "correct"}[grade], "answers": map[string]any{"i4x-" + org + "-" + num + "-problem-" + block + "_2_1": "choice_1"}})
	case w < 750:
		browser("problem_check", "input_i4x-"+org+"-"+num+"-problem-"+block+"_2_1=choice_1")
	case w < 770: // the block only in the referer's activate_block_id
		browser("problem_check", "")
		line["referer"] = page + "?activate_block_id=" + url.QueryEscape("block-v1:"+org+"+"+num+"+2025+type@problem+block@"+block)
	case w < 775: // a submission whose form names no input: the problem is unknown
		browser("problem_check", "")
	case w < 800:
		browser("problem_graded", []any{"input_i4x-" + org + "-" + num + "-problem-" + block + "_2_1=choice_1", "<p>…</p>"})
	case w < 820:
		browser("problem_show", map[string]any{"problem": i4x("problem")})
	case w < 850:
		server("showanswer", map[string]any{"problem_id": i4x("problem")})
	case w < 880:
		browser("book", map[string]any{"type": "gotopage", "old": 1 + r.IntN(20), "new": 1 + r.IntN(20)})
	case w < 900:
		browser("textbook.pdf.chapter.navigated", map[string]any{"name": "textbook.pdf.chapter.navigated",
			"chapter": "/c4x/" + org + "/" + num + "/asset/Chapter_1.pdf", "chapter_title": "Chapter 1"})
	case w < 915:
		browser("textbook.pdf.page.navigated", map[string]any{"name": "textbook.pdf.page.navigated",
			"chapter": "/c4x/" + org + "/" + num + "/asset/Chapter_1.pdf", "page": 1 + r.IntN(40)})
	case w < 945:
		server("edx.course.enrollment.activated", map[string]any{"course_id": courseID, "user_id": user, "mode": "honor"})
	case w < 995:
		browser("edx.ui.lms.sequence.next_selected", map[string]any{"id": i4x("sequential"), "current_tab": 1 + r.IntN(5), "tab_count": 6})
	default: // cut short by log rotation
		b, _ := json.Marshal(line)
		return b[:len(b)/2]
	}
	b, err := json.Marshal(line)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return b
}

// EdxMixedLine returns a line of a log that spans an installation's history:
// a legacy line (EdxLegacyLine) with probability legacy, else a current one
// (EdxLine).
func (g *Generator) EdxMixedLine(legacy float64) []byte {
	if g.rng.Float64() < legacy {
		return g.EdxLegacyLine()
	}
	return g.EdxLine()
}
