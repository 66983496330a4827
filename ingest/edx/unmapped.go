package edx

import "strings"

// notLearning are the documented event names left unmapped on purpose,
// each with why (docs/edx-mapping.md, "Deliberately not mapped"): course
// team and administrative actions, failures that record no attempt, user
// interface toggles, delivery bookkeeping, and copies of an event that is
// mapped under another name.
var notLearning = map[string]string{}

func init() {
	for reason, names := range map[string]string{
		"moderation, not learning": "edx.forum.thread.reported edx.forum.thread.unreported edx.forum.response.reported " +
			"edx.forum.response.unreported edx.forum.comment.reported edx.forum.comment.unreported",
		"a request the LMS refused: no attempt was recorded": "problem_check_fail save_problem_check_fail save_problem_fail " +
			"reset_problem_fail problem_rescore_fail",
		"a copy: the same action is mapped from another event": "edx.course.search.initiated edx.team.activity_updated " +
			"edx.cohort.creation_requested edx.cohort.user_add_requested edx.course.enrollment.upgrade.succeeded",
		"user interface, not learning": "page_close edx.drag_and_drop_v2.feedback.closed textbook.pdf.thumbnails.toggled " +
			"textbook.pdf.outline.toggled textbook.pdf.zoom.buttons.changed textbook.pdf.zoom.menu.changed " +
			"textbook.pdf.display.scaled textbook.pdf.search.navigatednext textbook.pdf.search.highlight.toggled " +
			"textbook.pdf.searchcasesensitivity.toggled",
		"commerce, not learning":                              "edx.course.enrollment.upgrade.clicked",
		"a third party viewing a credential, not the learner": "edx.certificate.evidence_visited edx.badge.assertion.evidence_visited",
		"content delivery and experiment bookkeeping": "edx.librarycontentblock.content.assigned edx.librarycontentblock.content.removed " +
			"xmodule.partitions.assigned_user_to_partition xblock.split_test.child_render edx.cohort.created",
		"the course's pre-roll message, not course content": "edx.video.bumper.dismissed edx.video.bumper.loaded " +
			"edx.video.bumper.played edx.video.bumper.skipped edx.video.bumper.stopped edx.video.bumper.transcript.hidden " +
			"edx.video.bumper.transcript.menu.hidden edx.video.bumper.transcript.menu.shown edx.video.bumper.transcript.shown",
		"proctoring logistics, no learning activity": "edx.special_exam.proctored.attempt.download_software_clicked " +
			"edx.special_exam.practice.attempt.download_software_clicked edx.special_exam.proctored.attempt.ready_to_start " +
			"edx.special_exam.practice.attempt.ready_to_start edx.special_exam.proctored.attempt.error " +
			"edx.special_exam.practice.attempt.error edx.special_exam.proctored.attempt.ready_to_submit " +
			"edx.special_exam.practice.attempt.ready_to_submit edx.special_exam.timed.attempt.ready_to_submit " +
			"edx.special_exam.proctored.attempt.declined edx.special_exam.proctored.option-presented",
		"course team administration of exams": "edx.special_exam.proctored.attempt.deleted edx.special_exam.practice.attempt.deleted " +
			"edx.special_exam.timed.attempt.deleted edx.special_exam.proctored.allowance.created " +
			"edx.special_exam.proctored.allowance.deleted edx.special_exam.practice.allowance.created " +
			"edx.special_exam.practice.allowance.deleted edx.special_exam.timed.allowance.created " +
			"edx.special_exam.timed.allowance.deleted edx.special_exam.proctored.created edx.special_exam.proctored.updated " +
			"edx.special_exam.practice.created edx.special_exam.practice.updated edx.special_exam.timed.created " +
			"edx.special_exam.timed.updated",
		"course team grading workflow": "openassessmentblock.get_submission_for_staff_grading",
		"instructor dashboard, not learning": "add-forum-admin add-forum-community-TA add-forum-mod add-instructor " +
			"add-or-remove-user-group delete-student-module-state dump-answer-dist-csv dump-graded-assignments-config " +
			"dump-grades dump-grades-csv dump-grades-csv-raw dump-grades-raw edx.instructor.report.downloaded " +
			"edx.instructor.report.requested get-student-progress-page list-beta-testers list-forum-admins " +
			"list-forum-community-TAs list-forum-mods list-instructors list-staff list-students remove-forum-admin " +
			"remove-forum-community-TA remove-forum-mod remove-instructor rescore-all-submissions " +
			"rescore-student-submission reset-all-attempts reset-student-attempts",
		"ORA 1 prototype (removed 2014): user interface toggles": "oe_hide_question oe_show_question rubric_select " +
			"oe_show_full_feedback oe_show_respond_to_feedback oe_feedback_response_selected peer_grading_hide_question " +
			"peer_grading_show_question staff_grading_hide_question staff_grading_show_question",
	} {
		for _, n := range strings.Fields(names) {
			notLearning[n] = reason
		}
	}
}

// NotLearning lists the event names deliberately left unmapped, with why.
func NotLearning() map[string]string {
	out := make(map[string]string, len(notLearning))
	for n, r := range notLearning {
		out[n] = r
	}
	return out
}
