package edx

import (
	"errors"
	"fmt"
	"strings"
)

// assessments are the mappings of problem, drag-and-drop, peer instruction,
// open response and poll events beyond the reference's (docs/edx-mapping.md,
// "Documented events"), in the default mode only.
var assessments = map[string]mapping{
	"problem_graded":                      {"AssessmentProfile", problemGraded},
	"save_problem_check":                  {"AssessmentProfile", problemCheck}, // problem_check's name before Oct 2013
	"reset_problem":                       {"AssessmentProfile", problemReset},
	"problem_reset":                       {"AssessmentProfile", problemReset},
	"save_problem_success":                {"AssessmentProfile", problemSaved},
	"problem_save":                        {"AssessmentProfile", problemSaved},
	"problem_rescore":                     {"GradingProfile", problemRescore},
	"edx.problem.hint.feedback_displayed": {"AssessmentProfile", hintFeedback},

	"edx.drag_and_drop_v2.loaded":          {"AssessmentProfile", dndLoaded},
	"edx.drag_and_drop_v2.item.picked_up":  {"AssessmentProfile", dndItem("Started")},
	"edx.drag_and_drop_v2.item.dropped":    {"AssessmentProfile", dndItem("Completed")},
	"edx.drag_and_drop_v2.feedback.opened": {"AssessmentProfile", dndFeedback},

	"ubc.peer_instruction.accessed":           {"AssessmentProfile", peerInstructionViewed},
	"ubc.peer_instruction.original_submitted": {"AssessmentProfile", peerInstructionAnswer(false)},
	"ubc.peer_instruction.revised_submitted":  {"AssessmentProfile", peerInstructionAnswer(true)},

	"openassessmentblock.save_submission":                {"AssignableProfile", oraSaved},
	"openassessmentblock.get_peer_submission":            {"AssignableProfile", oraPeerRetrieved},
	"openassessmentblock.peer_assess":                    {"AssignableProfile", oraAssess},
	"openassessmentblock.self_assess":                    {"AssignableProfile", oraAssess},
	"openassessmentblock.staff_assess":                   {"AssignableProfile", oraAssess},
	"openassessment.student_training_assess_example":     {"AssignableProfile", oraTraining},
	"openassessmentblock.submit_feedback_on_assessments": {"FeedbackProfile", oraFeedback},
	"openassessment.upload_file":                         {"ResourceManagementProfile", oraUpload},

	"xblock.poll.submitted":      {"SurveyProfile", questionnaireSubmitted("poll", "choice")},
	"xblock.survey.submitted":    {"SurveyProfile", questionnaireSubmitted("survey", "choices")},
	"xblock.poll.view_results":   {"SurveyProfile", questionnaireResults("poll")},
	"xblock.survey.view_results": {"SurveyProfile", questionnaireResults("survey")},
}

// module is the XBlock an event comes from: context.module.usage_key, else
// the first of the data keys present.
func (b *build) module(keys ...string) (string, error) {
	if k := b.e.ctx("module.usage_key"); k != "" {
		return k, nil
	}
	for _, k := range keys {
		if v := str(b.e.data[k]); v != "" {
			return v, nil
		}
	}
	names := "context.module.usage_key"
	for _, k := range keys {
		names += " or data." + k
	}
	return "", errors.New(names + " (the block) is missing")
}

// blockOf is a block named by a url_name in the event's course, for XBlocks
// whose events carry no usage key.
func (b *build) blockOf(kind, name string) string {
	key := courseKey(b.e.courseID())
	if key == "" || name == "" {
		return ""
	}
	return "block-v1:" + key + "+type@" + kind + "+block@" + name
}

// problemGraded: the browser's copy of a graded submission. Its data is
// [answers, html]; the problem is found as a browser problem_check's is.
func problemGraded(b *build) (map[string]any, error) {
	block := b.e.browserProblemBlock()
	if block == "" {
		return nil, errors.New("problem_graded names no problem (no input key in its answers, no activate_block_id)")
	}
	return event("AssessmentItemEvent", "Completed", b.partOf(map[string]any{
		"id": b.xblock(block), "type": "AssessmentItem", "extensions": map[string]any{"graded": true},
	})), nil
}

// problemReset: the learner reset a problem to try it afresh (server
// reset_problem, browser problem_reset).
func problemReset(b *build) (map[string]any, error) {
	block, err := b.problemOf()
	if err != nil {
		return nil, err
	}
	return event("AssessmentEvent", "Reset", b.partOf(map[string]any{"id": b.xblock(block), "type": "Assessment"})), nil
}

// problemOf is the problem of a problem event: data.problem_id, the
// context's module, or what a browser event's form or referer names.
func (b *build) problemOf() (string, error) {
	if id := str(b.e.data["problem_id"]); id != "" {
		return id, nil
	}
	if k := b.e.ctx("module.usage_key"); k != "" {
		return k, nil
	}
	form := b.e.dataRaw
	if answers, ok := b.e.data["answers"].(string); ok && form == "" {
		form = answers // browser problem_reset: {"answers": "<form data>"}
	}
	if block := b.e.problemBlockFrom(form); block != "" {
		return block, nil
	}
	return "", errors.New("data.problem_id is missing and nothing else names the problem")
}

// problemSaved: answers saved without submitting them (AssessmentEvent has
// no Saved action: a generic Event).
func problemSaved(b *build) (map[string]any, error) {
	block, err := b.problemOf()
	if err != nil {
		return nil, err
	}
	return event("Event", "Saved", b.partOf(map[string]any{"id": b.xblock(block), "type": "Assessment"})), nil
}

// problemRescore: a course team member rescored a learner's answer. The
// actor is who rescored; the Attempt's assignee the learner (data.student).
func problemRescore(b *build) (map[string]any, error) {
	problem, student := str(b.e.data["problem_id"]), str(b.e.data["student"])
	if problem == "" || student == "" {
		return nil, errors.New("data.problem_id or data.student is missing")
	}
	learner, err := b.t.person(student)
	if err != nil {
		return nil, err
	}
	anon := strings.TrimPrefix(str(learner["id"]), b.t.lms+"/user/")
	attempt := b.xblock(problem) + "/user/" + anon + "/attempt/" + str(b.e.data["attempts"])
	ev := event("GradeEvent", "Graded", map[string]any{
		"id": attempt, "type": "Attempt", "assignee": learner,
		"assignable": map[string]any{"id": b.xblock(problem), "type": "Assessment"},
	})
	score := map[string]any{"id": attempt + "/score", "type": "Score", "attempt": attempt, "scoredBy": b.actor,
		"extensions": map[string]any{"rescored": true, "originalScore": b.e.data["orig_score"]}}
	if v, ok := num(b.e.data["new_score"]); ok {
		score["scoreGiven"] = v
	}
	if v, ok := num(b.e.data["new_total"]); ok {
		score["maxScore"] = v
	}
	ev["generated"] = score
	return ev, nil
}

// hintFeedback: the feedback a problem shows after a submission, viewed, as
// the reference maps a hint shown on demand.
func hintFeedback(b *build) (map[string]any, error) {
	block, err := b.module("module_id")
	if err != nil {
		return nil, err
	}
	return event("Event", "Viewed", b.partOf(map[string]any{
		"id": b.xblock(block) + "/feedback", "type": "Annotation", "name": "Feedback",
		"extensions": map[string]any{"correctness": b.e.data["correctness"], "triggerType": b.e.data["trigger_type"],
			"questionType": b.e.data["question_type"]},
	})), nil
}

func dndLoaded(b *build) (map[string]any, error) {
	block, err := b.module()
	if err != nil {
		return nil, err
	}
	return event("ViewEvent", "Viewed", b.partOf(map[string]any{"id": b.xblock(block), "type": "Assessment"})), nil
}

// dndItem: a draggable item picked up (Started) or dropped on a zone
// (Completed, with the zone and whether it is right as the Response).
func dndItem(action string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		block, err := b.module()
		if err != nil {
			return nil, err
		}
		item := str(b.e.data["item_id"])
		if item == "" {
			return nil, errors.New("data.item_id is missing")
		}
		obj := map[string]any{"id": b.xblock(block) + "/item/" + item, "type": "AssessmentItem", "name": str(b.e.data["item"]),
			"isPartOf": map[string]any{"id": b.xblock(block), "type": "Assessment"}}
		ev := event("AssessmentItemEvent", action, obj)
		if action == "Completed" {
			ev["generated"] = map[string]any{"id": obj["id"].(string) + "/response/" + b.e.time.Format("20060102T150405.000000Z"),
				"type": "Response", "extensions": map[string]any{"zone": b.e.data["location"], "zoneId": b.e.data["location_id"],
					"isCorrect": b.e.data["is_correct"], "input": b.e.data["input"]}}
		}
		return ev, nil
	}
}

func dndFeedback(b *build) (map[string]any, error) {
	block, err := b.module()
	if err != nil {
		return nil, err
	}
	return event("Event", "Viewed", b.partOf(map[string]any{"id": b.xblock(block) + "/feedback", "type": "Annotation",
		"name": "Feedback", "extensions": map[string]any{"content": b.e.data["content"]}})), nil
}

func peerInstructionViewed(b *build) (map[string]any, error) {
	block, err := b.module()
	if err != nil {
		return nil, err
	}
	return event("ViewEvent", "Viewed", b.partOf(map[string]any{"id": b.xblock(block), "type": "AssessmentItem"})), nil
}

// peerInstructionAnswer: the learner's first or revised answer, with the
// rationale, as the Response to the question.
func peerInstructionAnswer(revised bool) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		block, err := b.module()
		if err != nil {
			return nil, err
		}
		step := "original"
		if revised {
			step = "revised"
		}
		ev := event("AssessmentItemEvent", "Completed", b.partOf(map[string]any{"id": b.xblock(block), "type": "AssessmentItem"}))
		ev["generated"] = map[string]any{"id": b.xblock(block) + "/user/" + anonOf(b) + "/" + step, "type": "Response",
			"extensions": map[string]any{"answer": b.e.data["answer"], "rationale": b.e.data["rationale"], "revised": revised}}
		return ev, nil
	}
}

// oraBlock is the open response assessment of an ORA event.
func (b *build) oraBlock() (map[string]any, error) {
	block, err := b.module("item_id")
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": b.xblock(block), "type": "AssignableDigitalResource"}, nil
}

func (b *build) oraSubmission(uuid string) map[string]any {
	return map[string]any{"id": b.t.lms + "/ora-submission/" + uuid, "type": "Attempt"}
}

// oraSaved: a draft response saved before it is submitted.
func oraSaved(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	return event("Event", "Saved", obj), nil
}

// oraPeerRetrieved: a peer's response handed to the learner to assess.
func oraPeerRetrieved(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	ev := event("Event", "Retrieved", obj)
	if sub := str(b.e.data["submission_returned_uuid"]); sub != "" && sub != "None" {
		ev["generated"] = b.oraSubmission(sub)
	}
	return ev, nil
}

// oraAssess: a peer, self or staff assessment of a response, by rubric:
// the points of the options chosen over the points possible.
func oraAssess(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	sub := str(b.e.data["submission_uuid"])
	if sub == "" {
		return nil, errors.New("data.submission_uuid is missing")
	}
	ev := event("AssignableEvent", "Reviewed", obj)
	attempt := b.oraSubmission(sub)
	attempt["assignable"] = obj["id"]
	ev["generated"] = attempt
	ext := map[string]any{"scoreType": b.e.data["score_type"], "feedback": b.e.data["feedback"], "staffGradeType": b.e.data["type"]}
	parts, _ := b.e.data["parts"].([]any)
	var earned, possible float64
	scored := false
	for _, p := range parts {
		part, _ := p.(map[string]any)
		if v, ok := num(nested(part, "option", "points")); ok {
			earned, scored = earned+v, true
		}
		if v, ok := num(nested(part, "criterion", "points_possible")); ok {
			possible += v
		}
	}
	if scored {
		ext["pointsEarned"], ext["pointsPossible"] = earned, possible
	}
	ev["extensions"] = ext
	return ev, nil
}

// oraTraining: the learner assessed an example response in a training step.
func oraTraining(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	ev := event("AssignableEvent", "Reviewed", obj)
	ev["extensions"] = map[string]any{"training": true, "optionsSelected": b.e.data["options_selected"], "corrections": b.e.data["corrections"]}
	return ev, nil
}

// oraFeedback: the learner's comments on the assessments they received.
func oraFeedback(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	sub := str(b.e.data["submission_uuid"])
	if sub == "" {
		return nil, errors.New("data.submission_uuid is missing")
	}
	ev := event("FeedbackEvent", "Commented", obj)
	ev["generated"] = map[string]any{"id": b.t.lms + "/ora-submission/" + sub + "/feedback", "type": "Comment",
		"commenter": b.actor, "commentedOn": map[string]any{"id": obj["id"], "type": obj["type"]},
		"value": str(b.e.data["feedback_text"]), "extensions": map[string]any{"options": b.e.data["options"]}}
	return ev, nil
}

// oraUpload: a file uploaded as part of a response.
func oraUpload(b *build) (map[string]any, error) {
	obj, err := b.oraBlock()
	if err != nil {
		return nil, err
	}
	name := str(b.e.data["fileName"])
	if name == "" {
		return nil, errors.New("data.fileName is missing")
	}
	return event("ResourceManagementEvent", "Uploaded", map[string]any{
		"id": fmt.Sprintf("%s/user/%s/file/%s", obj["id"], anonOf(b), name), "type": "Document", "name": name,
		"mediaType": str(b.e.data["fileType"]), "isPartOf": obj,
		"extensions": map[string]any{"fileSize": b.e.data["fileSize"]},
	}), nil
}

// questionnaire is the poll or survey block of an event: the context's
// module, else url_name in the event's course.
func (b *build) questionnaire(kind string) (map[string]any, error) {
	block := b.e.ctx("module.usage_key")
	if block == "" {
		block = b.blockOf(kind, str(b.e.data["url_name"]))
	}
	if block == "" {
		return nil, errors.New("context.module.usage_key or data.url_name (the " + kind + ") is missing")
	}
	return b.partOf(map[string]any{"id": b.xblock(block), "type": "Questionnaire"}), nil
}

func questionnaireSubmitted(kind, answerKey string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		obj, err := b.questionnaire(kind)
		if err != nil {
			return nil, err
		}
		ev := event("QuestionnaireEvent", "Submitted", obj)
		ev["extensions"] = map[string]any{answerKey: b.e.data[answerKey]}
		return ev, nil
	}
}

func questionnaireResults(kind string) func(b *build) (map[string]any, error) {
	return func(b *build) (map[string]any, error) {
		obj, err := b.questionnaire(kind)
		if err != nil {
			return nil, err
		}
		obj["name"] = "Results"
		return event("ViewEvent", "Viewed", obj), nil
	}
}
