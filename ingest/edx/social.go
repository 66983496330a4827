package edx

import (
	"errors"
	"net/url"
)

// socials are the mappings of notes, bookmarks, search, teams, cohorts,
// certificates, course goals and course tools (docs/edx-mapping.md,
// "Documented events"), in the default mode only.
var socials = map[string]mapping{
	"edx.course.student_notes.added":             {"AnnotationProfile", noteAdded},
	"edx.course.student_notes.edited":            {"AnnotationProfile", noteChanged("Modified")},
	"edx.course.student_notes.deleted":           {"AnnotationProfile", noteChanged("Deleted")},
	"edx.course.student_notes.viewed":            {"AnnotationProfile", notesViewed},
	"edx.course.student_notes.notes_page_viewed": {"AnnotationProfile", coursePage("edxnotes", "Notes")},
	"edx.course.student_notes.used_unit_link":    {"AnnotationProfile", blockVisited("component_usage_id")},
	"edx.course.student_notes.searched":          {"SearchProfile", searched("edxnotes", "search_string", "number_of_results")},

	"edx.bookmark.added":    {"AnnotationProfile", bookmarkAdded},
	"edx.bookmark.removed":  {"AnnotationProfile", bookmarkRemoved},
	"edx.bookmark.accessed": {"AnnotationProfile", blockVisited("component_usage_id")},
	"edx.bookmark.listed":   {"AnnotationProfile", coursePage("bookmarks", "Bookmarks")},

	"edx.course.search.results_displayed": {"SearchProfile", searched("search", "search_term", "results_count")},
	"edx.forum.searched":                  {"SearchProfile", searched("discussion/forum", "query", "total_results")},
	"edx.team.searched":                   {"SearchProfile", searched("teams", "search_text", "number_of_results")},
	"textbook.pdf.search.executed":        {"SearchProfile", pdfSearched},

	"edx.team.learner_added":   {"GeneralProfile", membership("team", "Added")},
	"edx.team.learner_removed": {"GeneralProfile", membership("team", "Removed")},
	"edx.cohort.user_added":    {"GeneralProfile", membership("cohort", "Added")},
	"edx.cohort.user_removed":  {"GeneralProfile", membership("cohort", "Removed")},
	"edx.team.created":         {"GeneralProfile", teamChanged("Created")},
	"edx.team.changed":         {"GeneralProfile", teamChanged("Modified")},
	"edx.team.deleted":         {"GeneralProfile", teamChanged("Deleted")},
	"edx.team.page_viewed":     {"GeneralProfile", coursePage("teams", "Teams")},

	"edx.certificate.created":     {"GeneralProfile", credential("certificate", "Created")},
	"edx.certificate.shared":      {"GeneralProfile", credential("certificate", "Shared")},
	"edx.badge.assertion.created": {"GeneralProfile", credential("badge", "Created")},
	"edx.badge.assertion.shared":  {"GeneralProfile", credential("badge", "Shared")},
	"edx.course.goal.added":       {"GeneralProfile", courseGoal("Created")},
	"edx.course.goal.updated":     {"GeneralProfile", courseGoal("Modified")},
	"edx.course.tool.accessed":    {"GeneralProfile", toolAccessed},
	"edx.done.toggled":            {"GeneralProfile", doneToggled},
}

func (b *build) noteID(id string) string { return b.t.lms + "/notes/" + url.PathEscape(id) }

// note is the HighlightAnnotation a note is: the highlighted text of a
// component, with the learner's text and tags.
func (b *build) note() (map[string]any, error) {
	id, block := str(b.e.data["note_id"]), str(b.e.data["component_usage_id"])
	if id == "" || block == "" {
		return nil, errors.New("data.note_id or data.component_usage_id is missing")
	}
	return map[string]any{
		"id": b.noteID(id), "type": "HighlightAnnotation", "annotator": b.actor,
		"annotated":     map[string]any{"id": b.xblock(block), "type": "DigitalResource"},
		"selectionText": str(b.e.data["highlighted_content"]),
		"extensions":    map[string]any{"noteText": b.e.data["note_text"], "tags": b.e.data["tags"]},
	}, nil
}

func noteAdded(b *build) (map[string]any, error) {
	n, err := b.note()
	if err != nil {
		return nil, err
	}
	ev := event("AnnotationEvent", "Highlighted", n["annotated"].(map[string]any))
	ev["generated"] = n
	return ev, nil
}

// noteChanged: AnnotationEvent has no Modified or Deleted: a generic Event
// whose object is the note.
func noteChanged(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		n, err := b.note()
		if err != nil {
			return nil, err
		}
		if action == "Deleted" {
			delete(n, "extensions")
		}
		return event("Event", action, n), nil
	}
}

// notesViewed: the notes visible on a page; the object is the first, the
// extensions list them all.
func notesViewed(b *build) (map[string]any, error) {
	notes, _ := b.e.data["notes"].([]any)
	var ids []any
	for _, n := range notes {
		if m, _ := n.(map[string]any); str(m["note_id"]) != "" {
			id := str(m["note_id"])
			ids = append(ids, b.noteID(id))
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("data.notes names no note")
	}
	ev := event("Event", "Viewed", map[string]any{"id": ids[0], "type": "HighlightAnnotation"})
	ev["extensions"] = map[string]any{"notes": ids}
	return ev, nil
}

// coursePage: a page of the course's tools (notes, bookmarks, teams).
func coursePage(path, name string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		course := b.e.courseID()
		page := b.t.lms + "/" + path
		if course != "" {
			page = b.t.lms + "/courses/" + course + "/" + path
		}
		ext := map[string]any{}
		for _, k := range []string{"view", "page_name", "topic_id", "team_id", "list_type", "page_number"} {
			if v, ok := b.e.data[k]; ok && v != nil {
				ext[k] = v
			}
		}
		return event("NavigationEvent", "NavigatedTo", map[string]any{"id": page, "type": "WebPage", "name": name, "extensions": ext}), nil
	}
}

// blockVisited: the learner followed a link (a bookmark, a note) to a block.
func blockVisited(key string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		block := str(b.e.data[key])
		if block == "" {
			return nil, errors.New("data." + key + " is missing")
		}
		return event("NavigationEvent", "NavigatedTo", b.partOf(map[string]any{"id": b.xblock(block), "type": "DigitalResource",
			"extensions": map[string]any{"componentType": b.e.data["component_type"]}})), nil
	}
}

func (b *build) bookmark() (map[string]any, error) {
	id, block := str(b.e.data["bookmark_id"]), str(b.e.data["component_usage_id"])
	if id == "" || block == "" {
		return nil, errors.New("data.bookmark_id or data.component_usage_id is missing")
	}
	return map[string]any{"id": b.t.lms + "/bookmarks/" + url.PathEscape(id), "type": "BookmarkAnnotation", "annotator": b.actor,
		"annotated": map[string]any{"id": b.xblock(block), "type": "DigitalResource"}}, nil
}

func bookmarkAdded(b *build) (map[string]any, error) {
	bm, err := b.bookmark()
	if err != nil {
		return nil, err
	}
	ev := event("AnnotationEvent", "Bookmarked", bm["annotated"].(map[string]any))
	ev["generated"] = bm
	return ev, nil
}

func bookmarkRemoved(b *build) (map[string]any, error) {
	bm, err := b.bookmark()
	if err != nil {
		return nil, err
	}
	return event("Event", "Deleted", bm), nil
}

// searched: a search of the course (or its forum, teams, notes): the
// SearchResponse names the query and how many results it found.
func searched(target, termKey, countKey string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		terms := str(b.e.data[termKey])
		if terms == "" {
			return nil, errors.New("data." + termKey + " (the query) is missing")
		}
		where := b.t.lms + "/" + target
		if c := b.e.courseID(); c != "" {
			where = b.t.lms + "/courses/" + c + "/" + target
		}
		return b.search(map[string]any{"id": where, "type": "WebPage"}, terms, b.e.data[countKey]), nil
	}
}

func (b *build) search(target map[string]any, terms string, count any) map[string]any {
	query := map[string]any{"id": target["id"].(string) + "?q=" + url.QueryEscape(terms), "type": "Query",
		"searchTerms": terms, "searchTarget": target, "creator": b.actor}
	resp := map[string]any{"id": query["id"].(string) + "&at=" + b.e.time.Format("20060102T150405.000000Z"), "type": "SearchResponse",
		"query": query, "searchTarget": target, "searchProvider": map[string]any{"id": b.t.lms, "type": "SoftwareApplication"}}
	if n, ok := num(count); ok {
		resp["searchResultsItemCount"] = int(n)
	}
	ev := event("SearchEvent", "Searched", target)
	ev["generated"] = resp
	return ev
}

func pdfSearched(b *build) (map[string]any, error) {
	chapter, err := b.pdfDocument()
	if err != nil {
		return nil, err
	}
	terms := str(b.e.data["query"])
	if terms == "" {
		return nil, errors.New("data.query is missing")
	}
	return b.search(map[string]any{"id": chapter, "type": "Document"}, terms, nil), nil
}

// group is a team or a cohort of the event's course.
func (b *build) group(kind string) (map[string]any, error) {
	course := b.t.lms + "/course/" + b.e.courseID()
	switch kind {
	case "team":
		id := str(b.e.data["team_id"])
		if id == "" {
			return nil, errors.New("data.team_id is missing")
		}
		return map[string]any{"id": course + "/teams/" + url.PathEscape(id), "type": "Group",
			"subOrganizationOf": map[string]any{"id": course, "type": "CourseOffering"}}, nil
	}
	id := str(b.e.data["cohort_id"])
	if id == "" {
		return nil, errors.New("data.cohort_id is missing")
	}
	return map[string]any{"id": course + "/cohorts/" + id, "type": "Group", "name": str(b.e.data["cohort_name"]),
		"subOrganizationOf": map[string]any{"id": course, "type": "CourseOffering"}}, nil
}

// membership: a learner (data.user_id, the actor) added to or removed from
// a team or cohort. The object is the Membership, Active or Inactive.
func membership(kind, action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		g, err := b.group(kind)
		if err != nil {
			return nil, err
		}
		status := "Active"
		if action == "Removed" {
			status = "Inactive"
		}
		m := map[string]any{"id": g["id"].(string) + "/members/" + anonOf(b), "type": "Membership",
			"member": b.actor, "organization": g, "roles": []any{"Member"}, "status": status,
			"extensions": map[string]any{"method": firstOf(b.e.data["add_method"], b.e.data["remove_method"])}}
		return event("Event", action, m), nil
	}
}

func firstOf(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// teamChanged: a team created, edited (one event per field) or deleted.
func teamChanged(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		g, err := b.group("team")
		if err != nil {
			return nil, err
		}
		if action == "Modified" {
			g["extensions"] = map[string]any{"field": b.e.data["field"], "old": b.e.data["old"], "new": b.e.data["new"]}
		}
		return event("Event", action, g), nil
	}
}

// credential: a course certificate or badge. Created: the LMS made it
// (actor the LMS, the learner in extensions, as course grades are); Shared:
// the learner shared it on a social network.
func credential(kind, action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		d := b.e.data
		id := str(firstOf(d["certificate_id"], d["assertion_id"]))
		if id == "" {
			return nil, errors.New("data.certificate_id or data.assertion_id is missing")
		}
		obj := map[string]any{"id": b.t.lms + "/" + kind + "s/" + url.PathEscape(id), "type": "DigitalResource",
			"name": map[string]string{"certificate": "Certificate", "badge": "Badge"}[kind],
			"extensions": map[string]any{"url": firstOf(d["certificate_url"], d["assertion_json_url"]), "enrollmentMode": d["enrollment_mode"],
				"generationMode": d["generation_mode"], "socialNetwork": d["social_network"]}}
		if c := b.e.courseID(); c != "" {
			obj["isPartOf"] = map[string]any{"id": b.t.lms + "/course/" + c, "type": "CourseOffering"}
		}
		ev := event("Event", action, obj)
		if action == "Created" {
			ev["actor"] = b.grader()
			extensions(obj)["learner"] = b.actor["id"]
		}
		return ev, nil
	}
}

// courseGoal: the goal a learner set for a course (older releases: a goal
// key; newer: days per week and reminders). Caliper has no goal entity: a
// generic Entity, one per learner and course.
func courseGoal(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		course := b.e.courseID()
		if course == "" {
			course = currentCourseID(str(b.e.data["courserun_key"]))
		}
		if course == "" {
			return nil, errors.New("no course_id or data.courserun_key")
		}
		d := b.e.data
		return event("Event", action, map[string]any{
			"id": b.t.lms + "/course/" + course + "/goals/" + anonOf(b), "type": "Entity", "name": "Course goal",
			"extensions": map[string]any{"goalKey": firstOf(d["goal_key"], d["goal"]), "daysPerWeek": d["days_per_week"],
				"subscribedToReminders": d["subscribed_to_reminders"]},
		}), nil
	}
}

func toolAccessed(b *build) (map[string]any, error) {
	tool := str(b.e.data["tool_name"])
	if tool == "" {
		return nil, errors.New("data.tool_name is missing")
	}
	return event("NavigationEvent", "NavigatedTo", map[string]any{"id": b.t.lms + "/tools/" + url.PathEscape(tool),
		"type": "SoftwareApplication", "name": tool}), nil
}

// doneToggled: the completion toggle of a block, set (Completed) or cleared (Reset).
func doneToggled(b *build) (map[string]any, error) {
	block, err := b.module()
	if err != nil {
		return nil, err
	}
	action := "Reset"
	if done, _ := b.e.data["done"].(bool); done {
		action = "Completed"
	}
	return event("Event", action, b.partOf(map[string]any{"id": b.xblock(block), "type": "DigitalResource"})), nil
}
