package edx

import (
	"errors"
	"strings"
)

// build holds what a mapping needs: the transformer, the raw event, the actor.
type build struct {
	t     *Transformer
	e     *rawEvent
	actor map[string]any
}

// mapping turns one raw event into a Caliper event (without the common
// fields Transform adds); profile is the Caliper 1.2 profile it belongs to.
type mapping struct {
	profile string
	fn      func(b *build) (map[string]any, error)
}

func event(typ, action string, object map[string]any) map[string]any {
	return map[string]any{"type": typ, "action": action, "object": object}
}

// partOf adds the reference's object.extensions.isPartOf: the course, when the
// context names one.
func (b *build) partOf(object map[string]any) map[string]any {
	if c := b.e.contextCourse(); c != "" {
		extensions(object)["isPartOf"] = map[string]any{"id": b.t.lms + "/course/" + c, "type": "CourseOffering"}
	}
	return object
}

// extensions returns m's extensions object, adding an empty one if need be.
func extensions(m map[string]any) map[string]any {
	ext, _ := m["extensions"].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
		m["extensions"] = ext
	}
	return ext
}

// xblock is the IRI of a block; a legacy usage id in its current form, in the default mode.
func (b *build) xblock(id string) string { return b.t.lms + "/xblock/" + b.e.usage(id) }

// enrollment: the course itself, with its name and the enrollment mode.
func enrollment(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		course := b.e.course(str(b.e.data["course_id"]))
		if course == "" {
			course = b.e.courseID()
		}
		obj := map[string]any{
			"id":         b.t.lms + "/course/" + course,
			"type":       "CourseOffering",
			"name":       b.t.cfg.Courses[course],
			"extensions": map[string]any{"mode": str(b.e.data["mode"])},
		}
		return event("Event", action, obj), nil
	}
}

// sequence: navigation between the units of a subsection.
func sequence(target func(e *rawEvent) any) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		obj := b.partOf(map[string]any{
			"id":   b.xblock(str(b.e.data["id"])),
			"type": "DigitalResourceCollection",
			"name": "Unit",
		})
		ext := extensions(obj) // none when the event names no course
		ext["current_tab"] = b.e.data["current_tab"]
		ext["tab_count"] = b.e.data["tab_count"]
		ext["target"] = target(b.e)
		return event("NavigationEvent", "NavigatedTo", obj), nil
	}
}

func constant(v string) func(*rawEvent) any { return func(*rawEvent) any { return v } }

// link: a followed link or outline entry; objectType is the reference's.
func link(objectType string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		typ := objectType
		if typ == "Webpage" && !b.t.cfg.Compat {
			typ = "WebPage" // the reference's "Webpage" is not a Caliper type
		}
		obj := b.partOf(map[string]any{
			"id":   str(b.e.data["target_url"]),
			"type": typ,
			"name": str(b.e.data["target_name"]),
		})
		if obj["id"] == "" && !b.t.cfg.Compat {
			return nil, errors.New("data.target_url is missing")
		}
		return event("NavigationEvent", "NavigatedTo", obj), nil
	}
}

// problemCheck is a server-side grading (GradeEvent) or a browser submission (AssessmentEvent).
func problemCheck(b *build) (map[string]any, error) {
	if b.e.ctx("event_source") == "browser" || b.e.dataRaw != "" || b.e.data["problem_id"] == nil && b.e.data["attempts"] == nil {
		block := b.e.browserProblemBlock()
		if block == "" && !b.t.cfg.Compat {
			return nil, errors.New("problem_check names no problem (no problem_id, module_id, activate_block_id or input key)")
		}
		obj := map[string]any{"type": "Assessment"}
		if block != "" {
			obj["id"] = b.xblock(block)
		}
		return event("AssessmentEvent", "Submitted", b.partOf(obj)), nil
	}
	problem := str(b.e.data["problem_id"])
	attempts := b.e.data["attempts"]
	actorID := str(b.actor["id"])
	attemptID := b.xblock(problem) + "/user/" + strings.TrimPrefix(actorID, b.t.lms+"/user/") + "/attempt/" + str(attempts)
	success := str(b.e.data["success"]) == "correct"
	if b.t.cfg.Compat {
		obj := b.partOf(map[string]any{
			"id":   attemptID,
			"type": "Attempt",
			"extensions": map[string]any{
				"assignee":   map[string]any{"id": actorID, "type": "Person"},
				"assignable": map[string]any{"id": b.xblock(problem), "type": "Assessment"},
				"count":      attempts,
			},
		})
		ev := event("GradeEvent", "Graded", obj)
		ev["generated"] = map[string]any{"score": map[string]any{
			"id":         "_:score",
			"type":       "Score",
			"maxScore":   b.e.data["max_grade"],
			"scoreGiven": b.e.data["grade"],
			"attempts":   attempts,
			"extensions": map[string]any{"success": map[bool]string{true: "True", false: "False"}[success]},
		}}
		return ev, nil
	}
	// Caliper's own properties instead of the reference's extensions, and the
	// Score as the generated entity, with a real id and a boolean success.
	obj := b.partOf(map[string]any{
		"id":         attemptID,
		"type":       "Attempt",
		"assignee":   map[string]any{"id": actorID, "type": "Person"},
		"assignable": map[string]any{"id": b.xblock(problem), "type": "Assessment"},
		"count":      attempts,
	})
	ev := event("GradeEvent", "Graded", obj)
	ev["generated"] = map[string]any{
		"id":         attemptID + "/score",
		"type":       "Score",
		"attempt":    attemptID,
		"maxScore":   b.e.data["max_grade"],
		"scoreGiven": b.e.data["grade"],
		"scoredBy":   b.t.lms,
		"extensions": map[string]any{"success": success},
	}
	return ev, nil
}

func assessment(typ, action, objectType string, idKey string, suffix func(e *rawEvent) string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		id := str(b.e.data[idKey])
		if id == "" && !b.t.cfg.Compat {
			return nil, errors.New("data." + idKey + " is missing")
		}
		obj := map[string]any{"id": b.xblock(id), "type": objectType}
		if suffix != nil {
			s, name := suffix(b.e), ""
			obj["id"] = b.xblock(id) + s
			if strings.HasPrefix(s, "/solution") {
				name = "Solution"
			} else {
				name = "Hint"
			}
			obj["name"] = name
		}
		return event(typ, action, b.partOf(obj)), nil
	}
}

// videoObject is the VideoObject of a video event.
func (b *build) videoObject() map[string]any {
	id := str(b.e.data["id"])
	if m := legacyVideoID.FindStringSubmatch(id); m != nil && b.e.currentKeys {
		id = m[1] // the HTML id of an i4x location: its name is the block's
	}
	if !strings.Contains(id, "@") && !strings.HasPrefix(id, "i4x://") {
		course := b.e.courseID()
		prefix := "block-v1:"
		if strings.HasPrefix(course, "ccx-v1:") {
			prefix = "ccx-block-v1:"
		}
		id = prefix + courseKey(course) + "+type@video+block@" + id
	}
	obj := map[string]any{"id": b.xblock(id), "type": "VideoObject"}
	d, ok := num(b.e.data["duration"])
	if b.t.cfg.Compat {
		obj["duration"] = isoDuration(d) // the reference prints P0D for an unknown duration
	} else if ok && d > 0 {
		obj["duration"] = isoDuration(d)
	}
	return b.partOf(obj)
}

// videoTime reads a position the reference's way: the first key present and
// non-zero (so a position of 0 vanishes in compat mode; not in the default).
func (b *build) videoTime(keys ...string) (string, bool) {
	for _, k := range keys {
		v, ok := num(b.e.data[k])
		if !ok {
			continue
		}
		if v == 0 && b.t.cfg.Compat {
			continue
		}
		if v == 0 {
			return "PT0S", true
		}
		return isoDuration(v), true
	}
	return "", false
}

func video(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		if str(b.e.data["id"]) == "" {
			return nil, errors.New("data.id (the video) is missing")
		}
		ev := event("MediaEvent", action, b.videoObject())
		target := map[string]any{"id": "_:MediaLocation", "type": "MediaLocation"}
		if action == "JumpedTo" {
			if ct, ok := b.videoTime("currentTime", "old_time"); ok {
				target["currentTime"] = ct
			}
			if nt, ok := b.videoTime("new_time"); ok {
				target["extensions"] = map[string]any{"newTime": nt}
			}
		} else if ct, ok := b.videoTime("currentTime", "current_time"); ok {
			target["currentTime"] = ct
		}
		ev["target"] = target
		if action == "ChangedSpeed" {
			ev["extensions"] = map[string]any{"oldSpeed": str(b.e.data["old_speed"]), "newSpeed": str(b.e.data["new_speed"])}
		}
		return ev, nil
	}
}

// mappings are the reference's event table (MAPPING.md §2), by edX name.
var mappings = map[string]mapping{
	"edx.course.enrollment.activated":       {"GeneralProfile", enrollment("Activated")},
	"edx.course.enrollment.deactivated":     {"GeneralProfile", enrollment("Deactivated")},
	"edx.course.grade.passed.first_time":    {"GradingProfile", enrollment("Completed")},
	"edx.ui.lms.sequence.next_selected":     {"GeneralProfile", sequence(constant("next unit"))},
	"edx.ui.lms.sequence.previous_selected": {"GeneralProfile", sequence(constant("previous unit"))},
	"edx.ui.lms.sequence.tab_selected":      {"GeneralProfile", sequence(func(e *rawEvent) any { return e.data["target_tab"] })},
	"edx.ui.lms.sequence.outline.selected":  {"GeneralProfile", sequence(func(e *rawEvent) any { return e.data["target_name"] })},
	"edx.ui.lms.link_clicked":               {"GeneralProfile", link("Webpage")},
	"edx.ui.lms.outline.selected":           {"GeneralProfile", link("DigitalResource")},
	"problem_check":                         {"AssessmentProfile", problemCheck},
	"edx.grades.problem.submitted":          {"AssessmentProfile", assessment("AssessmentEvent", "Submitted", "Assessment", "problem_id", nil)},
	"showanswer": {"AssessmentProfile", assessment("Event", "Viewed", "Annotation", "problem_id",
		func(*rawEvent) string { return "/solution" })},
	"edx.problem.hint.demandhint_displayed": {"AssessmentProfile", assessment("Event", "Viewed", "Annotation", "module_id",
		func(e *rawEvent) string { return "/hint/" + str(e.data["hint_index"]) })},
	"edx.problem.completed": {"AssessmentProfile", assessment("AssessmentItemEvent", "Completed", "AssessmentItem", "problem_id", nil)},
}

func init() {
	for action, names := range map[string][]string{
		"Started":                  {"load_video", "edx.video.loaded"},
		"Resumed":                  {"play_video", "edx.video.played"},
		"Paused":                   {"pause_video", "edx.video.paused"},
		"Ended":                    {"stop_video", "edx.video.stopped", "complete_video", "edx.video.completed"},
		"JumpedTo":                 {"seek_video", "edx.video.position.changed"},
		"DisabledClosedCaptioning": {"hide_transcript", "edx.video.transcript.hidden", "edx.video.closed_captions.hidden", "video_hide_cc_menu"},
		"EnabledClosedCaptioning":  {"show_transcript", "edx.video.transcript.shown", "edx.video.closed_captions.shown", "video_show_cc_menu"},
		"ChangedSpeed":             {"speed_change_video"},
	} {
		for _, n := range names {
			mappings[n] = mapping{"MediaProfile", video(action)}
		}
	}
}
