package edx

import (
	"errors"
	"strconv"
)

// contents are the mappings of third-party content, textbook scrolling,
// special exam steps and the video names the reference lacks
// (docs/edx-mapping.md, "Documented events"), in the default mode only.
var contents = map[string]mapping{
	"edx.googlecomponent.calendar.displayed": {"GeneralProfile", embedViewed("Google Calendar")},
	"edx.googlecomponent.document.displayed": {"GeneralProfile", embedViewed("Google Drive file")},

	"oppia.exploration.loaded":        {"AssessmentProfile", oppia("Started")},
	"oppia.exploration.state.changed": {"AssessmentProfile", oppia("Submitted")},
	"oppia.exploration.completed":     {"AssessmentProfile", oppia("Completed")},

	"microsoft.office.mix.loaded":       {"MediaProfile", officeMix("Started")},
	"microsoft.office.mix.played":       {"MediaProfile", officeMix("Resumed")},
	"microsoft.office.mix.paused":       {"MediaProfile", officeMix("Paused")},
	"microsoft.office.mix.stopped":      {"MediaProfile", officeMix("Ended")},
	"microsoft.office.mix.slide.loaded": {"MediaProfile", officeMixSlide},

	"textbook.pdf.page.scrolled": {"ReadingProfile", pdfPage},

	"edx.special_exam.timed.attempt.started":             {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.practice.attempt.started":          {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.proctored.attempt.started":         {"AssignableProfile", examAttempt("Started")},
	"edx.special_exam.proctored.attempt.review_received": {"AssignableProfile", examReviewed},
	"edx.special_exam.proctored.attempt.verified":        {"AssignableProfile", examReviewed},
	"edx.special_exam.proctored.attempt.rejected":        {"AssignableProfile", examReviewed},
}

func init() {
	// The mobile app's names for the caption language menu, which the
	// reference maps under its browser names (video_show_cc_menu, …).
	contents["edx.video.language_menu.shown"] = mapping{"MediaProfile", video("EnabledClosedCaptioning")}
	contents["edx.video.language_menu.hidden"] = mapping{"MediaProfile", video("DisabledClosedCaptioning")}
	for _, m := range []map[string]mapping{assessments, socials, contents} {
		for name, mp := range m {
			if _, dup := additions[name]; dup {
				panic("edx: two mappings for " + name)
			}
			if _, dup := mappings[name]; dup {
				panic("edx: " + name + " is the reference's")
			}
			additions[name] = mp
		}
	}
}

// embedViewed: a Google Calendar or Drive file shown in a unit.
func embedViewed(name string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		u := str(b.e.data["url"])
		if u == "" {
			return nil, errors.New("data.url is missing")
		}
		return event("ViewEvent", "Viewed", b.partOf(map[string]any{"id": u, "type": "Document", "name": name,
			"extensions": map[string]any{"displayedIn": b.e.data["displayed_in"]}})), nil
	}
}

// oppia: an Oppia exploration (an interactive tutorial, ungraded) loaded,
// answered (its state changed) or completed.
func oppia(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		id := str(b.e.data["exploration_id"])
		if id == "" {
			return nil, errors.New("data.exploration_id is missing")
		}
		obj := b.partOf(map[string]any{"id": "https://www.oppia.org/explore/" + id, "type": "Assessment", "version": str(b.e.data["exploration_version"])})
		if action == "Submitted" {
			ev := event("AssessmentEvent", "Submitted", obj)
			ev["extensions"] = map[string]any{"oldState": b.e.data["old_state_name"], "newState": b.e.data["new_state_name"]}
			return ev, nil
		}
		if action == "Completed" {
			return event("Event", "Completed", obj), nil
		}
		return event("AssessmentEvent", action, obj), nil
	}
}

func (b *build) officeMix() (map[string]any, error) {
	u := str(b.e.data["url"])
	if u == "" {
		return nil, errors.New("data.url is missing")
	}
	obj := map[string]any{"id": u, "type": "MediaObject", "name": "Office Mix"}
	if d, ok := num(b.e.data["duration"]); ok && d > 0 {
		obj["duration"] = isoDuration(d)
	}
	return b.partOf(obj), nil
}

// officeMix: the Office Mix player, as the video events are mapped.
func officeMix(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		obj, err := b.officeMix()
		if err != nil {
			return nil, err
		}
		ev := event("MediaEvent", action, obj)
		if t, ok := num(b.e.data["current_time"]); ok {
			ev["target"] = map[string]any{"id": obj["id"].(string) + "#t=" + strconv.FormatFloat(t, 'f', -1, 64), "type": "MediaLocation",
				"currentTime": isoDuration(t), "extensions": map[string]any{"slide": b.e.data["current_slide"]}}
		}
		return ev, nil
	}
}

// officeMixSlide: the player moved to a slide: a Frame of the mix viewed.
func officeMixSlide(b *build) (map[string]any, error) {
	obj, err := b.officeMix()
	if err != nil {
		return nil, err
	}
	slide := str(b.e.data["slide"])
	if slide == "" {
		return nil, errors.New("data.slide is missing")
	}
	return event("ViewEvent", "Viewed", map[string]any{"id": obj["id"].(string) + "#slide=" + slide, "type": "Frame",
		"name": "Slide " + slide, "isPartOf": map[string]any{"id": obj["id"], "type": "MediaObject"}}), nil
}

// examReviewed: the proctoring review of an exam attempt came back.
func examReviewed(b *build) (map[string]any, error) {
	ev, err := examAttempt("Reviewed")(b)
	if err != nil {
		return nil, err
	}
	status := str(b.e.data["review_status"])
	if status == "" {
		status = str(b.e.data["attempt_status"])
	}
	ev["extensions"] = map[string]any{"reviewStatus": status}
	return ev, nil
}
