package edx

import (
	"errors"
	"net/url"
	"strconv"
)

// additions are the mappings lrs adds to the reference's (MAPPING.md §4),
// used in the default mode only: forum, grading, exam attempts, open
// responses, reading, enrollment mode changes and completion. Each is
// documented in docs/edx-mapping.md and its output passes strict validation.
var additions = map[string]mapping{
	"edx.forum.thread.created":      {"ForumProfile", forumPost},
	"edx.forum.response.created":    {"ForumProfile", forumPost},
	"edx.forum.comment.created":     {"ForumProfile", forumPost},
	"edx.forum.thread.edited":       {"ForumProfile", forumManage("Modified")},
	"edx.forum.response.edited":     {"ForumProfile", forumManage("Modified")},
	"edx.forum.comment.edited":      {"ForumProfile", forumManage("Modified")},
	"edx.forum.thread.deleted":      {"ForumProfile", forumManage("Deleted")},
	"edx.forum.response.deleted":    {"ForumProfile", forumManage("Deleted")},
	"edx.forum.comment.deleted":     {"ForumProfile", forumManage("Deleted")},
	"edx.forum.thread.viewed":       {"ForumProfile", forumThreadViewed},
	"edx.forum.thread.voted":        {"ForumProfile", forumVoted},
	"edx.forum.response.voted":      {"ForumProfile", forumVoted},
	"edx.forum.thread.subscribed":   {"ForumProfile", forumSubscribe("Subscribed")},
	"edx.forum.thread.unsubscribed": {"ForumProfile", forumSubscribe("Unsubscribed")},

	"edx.grades.subsection.grade_calculated": {"GradingProfile", subsectionGrade},
	"edx.grades.course.grade_calculated":     {"GradingProfile", courseGrade},
	"edx.course.grade.now_passed":            {"GradingProfile", coursePassed(true)},
	"edx.course.grade.now_failed":            {"GradingProfile", coursePassed(false)},

	"edx.course.enrollment.mode_changed":      {"GeneralProfile", enrollment("Modified")},
	"edx.completion.block_completion.changed": {"GeneralProfile", blockCompletion},

	"edx.special_exam.timed.attempt.created":       {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.timed.attempt.submitted":     {"AssignableProfile", examAttempt("Submitted")},
	"edx.special_exam.practice.attempt.created":    {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.practice.attempt.submitted":  {"AssignableProfile", examAttempt("Submitted")},
	"edx.special_exam.proctored.attempt.created":   {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.proctored.attempt.submitted": {"AssignableProfile", examAttempt("Submitted")},
	"openassessmentblock.create_submission":        {"AssignableProfile", oraSubmission},

	"textbook.pdf.page.navigated":      {"ReadingProfile", pdfPage},
	"textbook.pdf.thumbnail.navigated": {"ReadingProfile", pdfPage},
	"textbook.pdf.outline.navigated":   {"ReadingProfile", pdfPage},
	"textbook.pdf.chapter.navigated":   {"ReadingProfile", pdfChapter},
	"book":                             {"ReadingProfile", bookViewed},

	// The names of installations older than 2015 for what the reference maps.
	"seq_next":     {"GeneralProfile", legacySequence(constant("next unit"))},
	"seq_prev":     {"GeneralProfile", legacySequence(constant("previous unit"))},
	"seq_goto":     {"GeneralProfile", legacySequence(func(e *rawEvent) any { return e.data["new"] })},
	"problem_show": {"AssessmentProfile", assessment("Event", "Viewed", "Annotation", "problem", func(*rawEvent) string { return "/solution" })},
}

// legacySequence: seq_next, seq_prev and seq_goto, which carry the sequence
// as data.id and the units as data.old and data.new, mapped as the
// edx.ui.lms.sequence events that replaced them.
func legacySequence(target func(e *rawEvent) any) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		if str(b.e.data["id"]) == "" {
			return nil, errors.New("data.id (the sequence) is missing")
		}
		obj := b.partOf(map[string]any{
			"id":   b.xblock(str(b.e.data["id"])),
			"type": "DigitalResourceCollection",
			"name": "Unit",
		})
		ext := extensions(obj)
		ext["current_tab"] = b.e.data["old"]
		ext["target"] = target(b.e)
		return event("NavigationEvent", "NavigatedTo", obj), nil
	}
}

func (b *build) forumID(kind, id string) string { return b.t.lms + "/forum/" + kind + "/" + id }

// forumMessage is the Message a forum event is about, in its thread and topic.
func (b *build) forumMessage() (map[string]any, error) {
	d := b.e.data
	id := str(d["id"])
	if id == "" {
		return nil, errors.New("data.id (the post) is missing")
	}
	msg := map[string]any{"type": "Message", "body": d["body"]}
	topic := map[string]any{"id": b.forumID("topic", str(d["commentable_id"])), "type": "Forum"}
	if str(d["commentable_id"]) == "" {
		topic = nil
	}
	thread := str(nested(d, "discussion", "id"))
	if thread == "" { // the event is about a thread itself: its opening post
		msg["name"] = d["title"]
		if topic != nil {
			msg["isPartOf"] = map[string]any{"id": b.forumID("thread", id), "type": "Thread", "isPartOf": topic}
		}
		msg["id"] = b.forumID("thread", id) + "/post"
		return msg, nil
	}
	msg["id"] = b.forumID("comment", id)
	msg["isPartOf"] = map[string]any{"id": b.forumID("thread", thread), "type": "Thread"}
	if r := str(nested(d, "response", "id")); r != "" {
		msg["replyTo"] = map[string]any{"id": b.forumID("comment", r), "type": "Message"}
	} else {
		msg["replyTo"] = map[string]any{"id": b.forumID("thread", thread) + "/post", "type": "Message"}
	}
	return msg, nil
}

func nested(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func forumPost(b *build) (map[string]any, error) {
	msg, err := b.forumMessage()
	if err != nil {
		return nil, err
	}
	return event("MessageEvent", "Posted", msg), nil
}

func forumManage(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		msg, err := b.forumMessage()
		if err != nil {
			return nil, err
		}
		delete(msg, "body") // the event's body is the old text, not what the post now is
		return event("ResourceManagementEvent", action, msg), nil
	}
}

func forumThreadViewed(b *build) (map[string]any, error) {
	id := str(b.e.data["id"])
	if id == "" {
		return nil, errors.New("data.id (the thread) is missing")
	}
	return event("ViewEvent", "Viewed", map[string]any{"id": b.forumID("thread", id), "type": "Thread", "name": b.e.data["title"]}), nil
}

// forumVoted: an up-vote is Liked, a down-vote Disliked; withdrawing a vote is not mapped.
func forumVoted(b *build) (map[string]any, error) {
	if undo, _ := b.e.data["undo_vote"].(bool); undo {
		return nil, errNoMapping
	}
	action := "Liked"
	if str(b.e.data["vote_value"]) == "down" {
		action = "Disliked"
	}
	msg, err := b.forumMessage()
	if err != nil {
		return nil, err
	}
	delete(msg, "body")
	return event("Event", action, msg), nil
}

func forumSubscribe(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		topic := str(b.e.data["commentable_id"])
		if topic == "" {
			return nil, errors.New("data.commentable_id (the topic) is missing")
		}
		return event("ForumEvent", action, map[string]any{"id": b.forumID("topic", topic), "type": "Forum"}), nil
	}
}

// grader is the actor of grade events: the LMS grades, the learner is the assignee.
func (b *build) grader() map[string]any {
	return map[string]any{"id": b.t.lms, "type": "SoftwareApplication"}
}

func subsectionGrade(b *build) (map[string]any, error) {
	block := str(b.e.data["block_id"])
	if block == "" {
		return nil, errors.New("data.block_id is missing")
	}
	attempt := b.xblock(block) + "/user/" + anonOf(b) + "/grade"
	obj := map[string]any{
		"id":         attempt,
		"type":       "Attempt",
		"assignee":   b.actor,
		"assignable": map[string]any{"id": b.xblock(block), "type": "AssignableDigitalResource"},
	}
	ev := event("GradeEvent", "Graded", obj)
	ev["actor"] = b.grader()
	score := map[string]any{"id": attempt + "/score", "type": "Score", "attempt": attempt, "scoredBy": b.t.lms}
	if v, ok := num(b.e.data["weighted_total_earned"]); ok {
		score["scoreGiven"] = v
	}
	if v, ok := num(b.e.data["weighted_total_possible"]); ok {
		score["maxScore"] = v
	}
	ev["generated"] = score
	return ev, nil
}

func anonOf(b *build) string {
	id := str(b.actor["id"])
	if i := len(b.t.lms + "/user/"); len(id) > i {
		return id[i:]
	}
	return "anonymous"
}

func courseGrade(b *build) (map[string]any, error) {
	course := b.e.courseID()
	if course == "" {
		return nil, errors.New("no course_id")
	}
	courseIRI := b.t.lms + "/course/" + course
	ev := event("Event", "Graded", map[string]any{"id": courseIRI, "type": "CourseOffering", "name": b.t.cfg.Courses[course]})
	ev["actor"] = b.grader()
	score := map[string]any{"id": courseIRI + "/user/" + anonOf(b) + "/grade", "type": "Score", "maxScore": 1.0, "scoredBy": b.t.lms,
		"extensions": map[string]any{"learner": b.actor["id"], "letterGrade": b.e.data["letter_grade"]}}
	if v, ok := num(b.e.data["percent_grade"]); ok {
		score["scoreGiven"] = v
	}
	ev["generated"] = score
	return ev, nil
}

func coursePassed(passed bool) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		ev, err := enrollment("Completed")(b)
		if err != nil {
			return nil, err
		}
		if !passed {
			ev["action"] = "Reset" // the learner no longer meets the passing grade
		}
		obj := ev["object"].(map[string]any)
		obj["extensions"] = map[string]any{"passed": passed}
		return ev, nil
	}
}

func blockCompletion(b *build) (map[string]any, error) {
	if c, ok := num(b.e.data["completion"]); !ok || c < 1 {
		return nil, errNoMapping // partial progress is not a Caliper event
	}
	block := str(b.e.data["block_id"])
	if block == "" {
		return nil, errors.New("data.block_id is missing")
	}
	return event("Event", "Completed", map[string]any{"id": b.xblock(block), "type": "DigitalResource",
		"extensions": map[string]any{"blockType": b.e.data["block_type"]}}), nil
}

func examAttempt(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		d := b.e.data
		block := str(d["exam_content_id"])
		if block == "" {
			return nil, errors.New("data.exam_content_id is missing")
		}
		obj := map[string]any{"id": b.xblock(block), "type": "AssignableDigitalResource", "name": d["exam_name"]}
		if mins, ok := num(d["exam_default_time_limit_mins"]); ok && mins > 0 {
			obj["extensions"] = map[string]any{"timeLimit": isoDuration(mins * 60), "proctored": d["exam_is_proctored"], "practice": d["exam_is_practice_exam"]}
		}
		ev := event("AssignableEvent", action, obj)
		attempt := map[string]any{"id": b.t.lms + "/exam-attempt/" + str(d["attempt_id"]), "type": "Attempt",
			"assignee": b.actor, "assignable": b.xblock(block)}
		for key, prop := range map[string]string{"attempt_started_at": "startedAtTime", "attempt_completed_at": "endedAtTime"} {
			if t, err := parseTime(str(d[key])); err == nil {
				attempt[prop] = caliperTime(t)
			}
		}
		ev["generated"] = attempt
		return ev, nil
	}
}

func oraSubmission(b *build) (map[string]any, error) {
	block := b.e.ctx("module.usage_key")
	sub := str(b.e.data["submission_uuid"])
	if block == "" || sub == "" {
		return nil, errors.New("context.module.usage_key or data.submission_uuid is missing")
	}
	ev := event("AssignableEvent", "Submitted", map[string]any{"id": b.xblock(block), "type": "AssignableDigitalResource"})
	attempt := map[string]any{"id": b.t.lms + "/ora-submission/" + sub, "type": "Attempt", "assignee": b.actor, "assignable": b.xblock(block)}
	if n, ok := num(b.e.data["attempt_number"]); ok {
		attempt["count"] = int(n)
	}
	ev["generated"] = attempt
	return ev, nil
}

// pdfDocument is the IRI of a PDF textbook chapter: data.chapter, under
// the LMS when it is a relative URL.
func (b *build) pdfDocument() (string, error) {
	chapter := str(b.e.data["chapter"])
	if chapter == "" {
		return "", errors.New("data.chapter is missing")
	}
	if doc, err := url.Parse(chapter); err != nil || !doc.IsAbs() {
		chapter = b.t.lms + "/" + chapter
	}
	return chapter, nil
}

// pdfChapter: a chapter of a PDF textbook, opened from the viewer's chapter
// list. The event names no page, so its object is the chapter's Document.
func pdfChapter(b *build) (map[string]any, error) {
	chapter, err := b.pdfDocument()
	if err != nil {
		return nil, err
	}
	return event("NavigationEvent", "NavigatedTo", map[string]any{
		"id": chapter, "type": "Document", "name": str(b.e.data["chapter_title"]),
	}), nil
}

// pdfPage: a page of a PDF textbook, reached by the viewer's navigation.
func pdfPage(b *build) (map[string]any, error) {
	chapter, err := b.pdfDocument()
	if err != nil {
		return nil, err
	}
	page := str(b.e.data["page"])
	if page == "" {
		return nil, errors.New("data.page is missing")
	}
	return event("NavigationEvent", "NavigatedTo", map[string]any{
		"id": chapter + "#page=" + page, "type": "Page", "name": "Page " + page,
		"isPartOf": map[string]any{"id": chapter, "type": "Document"},
	}), nil
}

// bookViewed: the legacy textbook viewer's "book" event, on a page of the course's book.
func bookViewed(b *build) (map[string]any, error) {
	page, ok := num(b.e.data["new"])
	if !ok {
		return nil, errNoMapping // other book event types carry no page
	}
	course := b.e.courseID()
	book := b.t.lms + "/course/" + course + "/book"
	p := strconv.Itoa(int(page))
	return event("ViewEvent", "Viewed", map[string]any{
		"id": book + "#page=" + p, "type": "Page", "name": "Page " + p,
		"isPartOf": map[string]any{"id": book, "type": "Document"},
	}), nil
}
