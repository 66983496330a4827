package synth

import "fmt"

// docShapes are the events of the Open edX tracking-log documentation, by
// component, with their documented member fields and a weight per 10,000
// lines of a running course.
var docShapes = []docShape{
	// Video (the documentation's browser names; mobile names are rarer).
	{"play_video", "browser", "", 1500, func(d *docLine) any { return d.videoData(nil) }},
	{"pause_video", "browser", "", 1000, func(d *docLine) any { return d.videoData(nil) }},
	{"load_video", "browser", "", 700, func(d *docLine) any { return d.videoData(nil) }},
	{"seek_video", "browser", "", 400, func(d *docLine) any {
		return d.videoData(map[string]any{"old_time": d.n(600), "new_time": d.n(600), "type": "onSlideSeek"})
	}},
	{"stop_video", "browser", "", 200, func(d *docLine) any { return d.videoData(nil) }},
	{"speed_change_video", "browser", "", 100, func(d *docLine) any {
		return map[string]any{"id": d.block, "current_time": d.n(600), "old_speed": "1.0", "new_speed": "1.50"}
	}},
	{"show_transcript", "browser", "", 60, func(d *docLine) any { return d.videoData(nil) }},
	{"hide_transcript", "browser", "", 40, func(d *docLine) any { return d.videoData(nil) }},
	{"edx.video.closed_captions.shown", "browser", "", 30, func(d *docLine) any { return d.videoData(nil) }},
	{"edx.video.closed_captions.hidden", "browser", "", 20, func(d *docLine) any { return d.videoData(nil) }},
	{"video_show_cc_menu", "browser", "", 15, func(d *docLine) any { return d.videoData(nil) }},
	{"video_hide_cc_menu", "browser", "", 15, func(d *docLine) any { return d.videoData(map[string]any{"language": "en"}) }},
	{"edx.video.language_menu.shown", "mobile", "", 5, func(d *docLine) any { return d.videoData(nil) }},
	{"edx.video.language_menu.hidden", "mobile", "", 5, func(d *docLine) any { return d.videoData(map[string]any{"language": "fr"}) }},
	{"edx.video.played", "mobile", "", 60, func(d *docLine) any { return d.videoData(nil) }},
	{"edx.video.bumper.played", "browser", "", 10, func(d *docLine) any {
		return map[string]any{"bumper_id": "https://example.edu/bumper.webm", "code": "html5", "currentTime": 0, "duration": 10, "host_component_id": d.block}
	}},

	// Navigation.
	{"edx.ui.lms.sequence.next_selected", "browser", "", 700, func(d *docLine) any {
		return map[string]any{"current_tab": 1 + d.n(5), "tab_count": 6, "id": d.id("sequential"), "widget_placement": "top"}
	}},
	{"edx.ui.lms.sequence.previous_selected", "browser", "", 200, func(d *docLine) any {
		return map[string]any{"current_tab": 2 + d.n(4), "tab_count": 6, "id": d.id("sequential"), "widget_placement": "bottom"}
	}},
	{"edx.ui.lms.sequence.tab_selected", "browser", "", 300, func(d *docLine) any {
		return map[string]any{"current_tab": 1, "target_tab": 2 + d.n(5), "tab_count": 7, "old": 1, "new": 3, "id": d.id("sequential"), "widget_placement": "top"}
	}},
	{"seq_goto", "browser", "", 40, func(d *docLine) any { return map[string]any{"old": 1, "new": 3, "id": d.id("sequential")} }},
	{"edx.ui.lms.link_clicked", "browser", "", 300, func(d *docLine) any {
		return map[string]any{"current_url": "https://lms.example.edu/courses/" + d.courseID + "/courseware/", "target_url": "https://example.org/reading"}
	}},
	{"edx.ui.lms.outline.selected", "browser", "", 150, func(d *docLine) any {
		return map[string]any{"current_url": "https://lms.example.edu/courses/" + d.courseID + "/courseware/", "target_name": "Lesson 3",
			"target_url": "https://lms.example.edu/courses/" + d.courseID + "/courseware/week3/", "widget_placement": "accordion"}
	}},
	{"page_close", "browser", "", 100, func(d *docLine) any { return map[string]any{} }},

	// Problems.
	{"problem_check", "server", "problem", 700, func(d *docLine) any {
		grade := d.n(2)
		return map[string]any{"problem_id": d.id("problem"), "attempts": 1 + d.n(3), "grade": grade, "max_grade": 1,
			"success": []string{"incorrect", "correct"}[grade], "answers": map[string]any{d.block + "_2_1": "choice_1"},
			"correct_map": map[string]any{}, "state": map[string]any{}, "submission": map[string]any{}}
	}},
	{"problem_graded", "browser", "", 300, func(d *docLine) any {
		return []any{"input_" + d.block + "_2_1=choice_1", "<div class=\"problem\">…</div>"}
	}},
	{"problem_check_fail", "server", "problem", 10, func(d *docLine) any {
		return map[string]any{"problem_id": d.id("problem"), "failure": "closed", "answers": map[string]any{}, "state": map[string]any{}}
	}},
	{"showanswer", "server", "problem", 80, func(d *docLine) any { return map[string]any{"problem_id": d.id("problem")} }},
	{"problem_show", "browser", "", 40, func(d *docLine) any { return map[string]any{"problem": d.id("problem")} }},
	{"reset_problem", "server", "problem", 40, func(d *docLine) any {
		return map[string]any{"problem_id": d.id("problem"), "old_state": map[string]any{}, "new_state": map[string]any{}}
	}},
	{"problem_reset", "browser", "", 40, func(d *docLine) any { return map[string]any{"answers": "input_" + d.block + "_2_1=choice_2"} }},
	{"save_problem_success", "server", "problem", 30, func(d *docLine) any {
		return map[string]any{"problem_id": d.id("problem"), "answers": map[string]any{}, "state": map[string]any{}}
	}},
	{"problem_save", "browser", "problem", 30, func(d *docLine) any { return map[string]any{} }},
	{"problem_rescore", "server", "", 5, func(d *docLine) any {
		return map[string]any{"problem_id": d.id("problem"), "student": fmt.Sprintf("learner%d", d.n(50)), "attempts": 1,
			"orig_score": 0, "orig_total": 1, "new_score": 1, "new_total": 1, "success": "correct", "task_id": d.hex()}
	}},
	{"edx.problem.hint.demandhint_displayed", "server", "problem", 40, func(d *docLine) any {
		return map[string]any{"hint_index": 0, "hint_len": 2, "hint_text": "Think of units.", "module_id": d.id("problem")}
	}},
	{"edx.problem.hint.feedback_displayed", "server", "problem", 60, func(d *docLine) any {
		return map[string]any{"module_id": d.id("problem"), "problem_part_id": d.block + "_2_1", "correctness": true,
			"hint_label": "Correct: ", "hints": []any{map[string]any{"text": "Right."}}, "question_type": "stringresponse",
			"student_answer": []any{"42"}, "trigger_type": "single", "choice_all": []any{}}
	}},
	{"edx.grades.problem.submitted", "server", "problem", 100, func(d *docLine) any {
		return map[string]any{"problem_id": d.id("problem"), "weighted_earned": 1, "weighted_possible": 1}
	}},

	// Drag and drop, peer instruction.
	{"edx.drag_and_drop_v2.loaded", "server", "drag-and-drop-v2", 20, func(d *docLine) any { return map[string]any{} }},
	{"edx.drag_and_drop_v2.item.picked_up", "server", "drag-and-drop-v2", 40, func(d *docLine) any { return map[string]any{"item_id": d.n(6)} }},
	{"edx.drag_and_drop_v2.item.dropped", "server", "drag-and-drop-v2", 40, func(d *docLine) any {
		return map[string]any{"item": "Mitochondria", "item_id": d.n(6), "location": "Cell", "location_id": d.n(4), "is_correct": true, "is_correct_location": true}
	}},
	{"edx.drag_and_drop_v2.feedback.opened", "server", "drag-and-drop-v2", 10, func(d *docLine) any {
		return map[string]any{"content": "Correct!", "truncated": false}
	}},
	{"edx.drag_and_drop_v2.feedback.closed", "server", "drag-and-drop-v2", 10, func(d *docLine) any {
		return map[string]any{"content": "Correct!", "manually": true, "truncated": false}
	}},
	{"ubc.peer_instruction.accessed", "server", "ubcpi", 5, func(d *docLine) any { return map[string]any{} }},
	{"ubc.peer_instruction.original_submitted", "server", "ubcpi", 5, func(d *docLine) any {
		return map[string]any{"answer": 1, "rationale": "Because of gravity.", "truncated": false}
	}},
	{"ubc.peer_instruction.revised_submitted", "server", "ubcpi", 5, func(d *docLine) any {
		return map[string]any{"answer": 2, "rationale": "Friction too.", "truncated": false}
	}},

	// Open response assessments.
	{"openassessmentblock.create_submission", "server", "openassessment", 20, func(d *docLine) any {
		return map[string]any{"answer": map[string]any{"text": "My essay."}, "attempt_number": 1, "created_at": "2025-09-03T10:00:00+00:00",
			"submitted_at": "2025-09-03T10:00:00+00:00", "submission_uuid": d.hex()}
	}},
	{"openassessmentblock.save_submission", "server", "openassessment", 20, func(d *docLine) any {
		return map[string]any{"saved_response": map[string]any{"text": "Draft."}}
	}},
	{"openassessmentblock.get_peer_submission", "server", "openassessment", 20, func(d *docLine) any {
		return map[string]any{"course_id": d.courseID, "item_id": d.id("openassessment"), "requesting_student_id": d.hex(), "submission_returned_uuid": d.hex()}
	}},
	{"openassessmentblock.peer_assess", "server", "openassessment", 30, func(d *docLine) any { return d.ora(nil) }},
	{"openassessmentblock.self_assess", "server", "openassessment", 10, func(d *docLine) any { return d.ora(map[string]any{"score_type": "SE"}) }},
	{"openassessmentblock.staff_assess", "server", "openassessment", 5, func(d *docLine) any {
		return d.ora(map[string]any{"score_type": "ST", "type": "full-grade"})
	}},
	{"openassessmentblock.submit_feedback_on_assessments", "server", "openassessment", 5, func(d *docLine) any {
		return map[string]any{"feedback_text": "Fair reviews.", "options": []any{"These assessments were useful."}, "submission_uuid": d.hex()}
	}},
	{"openassessment.student_training_assess_example", "server", "openassessment", 5, func(d *docLine) any {
		return map[string]any{"corrections": map[string]any{"Ideas": "Good"}, "options_selected": map[string]any{"Ideas": "Fair"}, "submission_uuid": d.hex()}
	}},
	{"openassessment.upload_file", "browser", "openassessment", 5, func(d *docLine) any {
		return map[string]any{"fileName": "diagram.png", "fileSize": 20480, "fileType": "image/png"}
	}},
	{"openassessmentblock.get_submission_for_staff_grading", "server", "openassessment", 3, func(d *docLine) any {
		return map[string]any{"course_id": d.courseID, "item_id": d.id("openassessment"), "requesting_staff_id": d.hex(), "type": "full-grade", "submission_returned_uuid": d.hex()}
	}},

	// Polls and surveys.
	{"xblock.poll.submitted", "server", "poll", 20, func(d *docLine) any { return map[string]any{"url_name": d.block, "choice": "yes"} }},
	{"xblock.poll.view_results", "server", "poll", 15, func(d *docLine) any { return map[string]any{} }},
	{"xblock.survey.submitted", "server", "survey", 10, func(d *docLine) any {
		return map[string]any{"url_name": d.block, "choices": map[string]any{"enjoy": "Y", "recommend": "N"}}
	}},
	{"xblock.survey.view_results", "server", "survey", 5, func(d *docLine) any { return map[string]any{} }},

	// Forum.
	{"edx.forum.thread.created", "server", "", 40, func(d *docLine) any {
		return map[string]any{"commentable_id": "topic-1", "id": d.hex()[:24], "title": "Week 2", "body": "How?", "thread_type": "question",
			"anonymous": false, "anonymous_to_peers": false, "options": map[string]any{"followed": true}, "truncated": false}
	}},
	{"edx.forum.response.created", "server", "", 40, func(d *docLine) any {
		return map[string]any{"commentable_id": "topic-1", "id": d.hex()[:24], "body": "Like this.", "discussion": map[string]any{"id": d.hex()[:24]}}
	}},
	{"edx.forum.thread.viewed", "server", "", 150, func(d *docLine) any {
		return map[string]any{"commentable_id": "topic-1", "id": d.hex()[:24], "title": "Week 2", "target_username": "someone"}
	}},
	{"edx.forum.thread.voted", "server", "", 20, func(d *docLine) any {
		return map[string]any{"commentable_id": "topic-1", "id": d.hex()[:24], "undo_vote": false, "vote_value": "up", "target_username": "someone"}
	}},
	{"edx.forum.searched", "server", "", 15, func(d *docLine) any {
		return map[string]any{"query": "gradient", "page": 1, "total_results": d.n(30), "corrected_text": nil, "group_id": nil}
	}},
	{"edx.forum.thread.reported", "server", "", 2, func(d *docLine) any {
		return map[string]any{"commentable_id": "topic-1", "id": d.hex()[:24]}
	}},

	// Notes, bookmarks, search, course tools.
	{"edx.course.student_notes.added", "browser", "", 15, func(d *docLine) any {
		return map[string]any{"component_usage_id": d.id("html"), "highlighted_content": "entropy increases", "note_id": d.hex()[:24],
			"note_text": "Remember this", "tags": []any{"exam"}, "truncated": []any{}}
	}},
	{"edx.course.student_notes.edited", "browser", "", 5, func(d *docLine) any {
		return map[string]any{"component_usage_id": d.id("html"), "highlighted_content": "entropy", "note_id": d.hex()[:24],
			"note_text": "Remember", "old_note_text": "Remember this", "tags": []any{}, "old_tags": []any{"exam"}, "truncated": []any{}}
	}},
	{"edx.course.student_notes.deleted", "browser", "", 3, func(d *docLine) any {
		return map[string]any{"component_usage_id": d.id("html"), "highlighted_content": "entropy", "note_id": d.hex()[:24], "note_text": "x", "tags": []any{}, "truncated": []any{}}
	}},
	{"edx.course.student_notes.viewed", "browser", "", 20, func(d *docLine) any {
		return map[string]any{"notes": []any{map[string]any{"note_id": d.hex()[:24]}, map[string]any{"note_id": d.hex()[:24]}}}
	}},
	{"edx.course.student_notes.notes_page_viewed", "browser", "", 5, func(d *docLine) any { return map[string]any{"view": "Recent Activity"} }},
	{"edx.course.student_notes.searched", "browser", "", 3, func(d *docLine) any {
		return map[string]any{"number_of_results": d.n(9), "search_string": "entropy"}
	}},
	{"edx.course.student_notes.used_unit_link", "browser", "", 3, func(d *docLine) any {
		return map[string]any{"component_usage_id": d.id("html"), "note_id": d.hex()[:24], "view": "Recent Activity"}
	}},
	{"edx.bookmark.added", "server", "", 15, func(d *docLine) any {
		return map[string]any{"bookmark_id": "learner,block@" + d.block, "component_type": "vertical", "component_usage_id": d.id("vertical"), "course_id": d.courseID}
	}},
	{"edx.bookmark.removed", "server", "", 5, func(d *docLine) any {
		return map[string]any{"bookmark_id": "learner,block@" + d.block, "component_type": "vertical", "component_usage_id": d.id("vertical"), "course_id": d.courseID}
	}},
	{"edx.bookmark.accessed", "browser", "", 10, func(d *docLine) any {
		return map[string]any{"bookmark_id": "learner,block@" + d.block, "component_type": "vertical", "component_usage_id": d.id("vertical")}
	}},
	{"edx.bookmark.listed", "server", "", 10, func(d *docLine) any {
		return map[string]any{"bookmarks_count": d.n(10), "course_id": d.courseID, "list_type": "per_course", "page_number": 1, "page_size": 10}
	}},
	{"edx.course.tool.accessed", "browser", "", 10, func(d *docLine) any { return map[string]any{"tool_name": "edx.bookmarks"} }},
	{"edx.course.search.initiated", "server", "", 15, func(d *docLine) any {
		return map[string]any{"search_term": "entropy", "page_size": 20, "page_number": 0}
	}},
	{"edx.course.search.results_displayed", "server", "", 15, func(d *docLine) any {
		return map[string]any{"search_term": "entropy", "page_size": 20, "page_number": 0, "results_count": d.n(40)}
	}},

	// Teams and cohorts.
	{"edx.team.learner_added", "server", "", 5, func(d *docLine) any {
		return map[string]any{"team_id": "team-" + d.block[:6], "user_id": d.user, "add_method": "joined_from_team_view"}
	}},
	{"edx.team.learner_removed", "server", "", 2, func(d *docLine) any {
		return map[string]any{"team_id": "team-" + d.block[:6], "user_id": d.user, "remove_method": "self_removal"}
	}},
	{"edx.team.created", "server", "", 1, func(d *docLine) any { return map[string]any{"team_id": "team-" + d.block[:6]} }},
	{"edx.team.changed", "server", "", 1, func(d *docLine) any {
		return map[string]any{"team_id": "team-" + d.block[:6], "field": "name", "old": "Blue", "new": "Green", "truncated": []any{}}
	}},
	{"edx.team.deleted", "server", "", 1, func(d *docLine) any { return map[string]any{"team_id": "team-" + d.block[:6]} }},
	{"edx.team.page_viewed", "browser", "", 10, func(d *docLine) any {
		return map[string]any{"page_name": "my-teams", "topic_id": nil, "team_id": nil}
	}},
	{"edx.team.searched", "server", "", 2, func(d *docLine) any {
		return map[string]any{"number_of_results": 3, "search_text": "robots", "topic_id": "topic-1"}
	}},
	{"edx.team.activity_updated", "server", "", 5, func(d *docLine) any { return map[string]any{"team_id": "team-" + d.block[:6]} }},
	{"edx.cohort.user_added", "server", "", 10, func(d *docLine) any {
		return map[string]any{"cohort_id": 1 + d.n(4), "cohort_name": "Group A", "user_id": d.user}
	}},
	{"edx.cohort.user_removed", "server", "", 2, func(d *docLine) any {
		return map[string]any{"cohort_id": 1 + d.n(4), "cohort_name": "Group A", "user_id": d.user}
	}},
	{"edx.cohort.created", "server", "", 1, func(d *docLine) any { return map[string]any{"cohort_id": 1 + d.n(4), "cohort_name": "Group A"} }},

	// Enrollment, grades, completion, certificates, goals.
	{"edx.course.enrollment.activated", "server", "", 40, func(d *docLine) any {
		return map[string]any{"course_id": d.courseID, "user_id": d.user, "mode": "audit"}
	}},
	{"edx.course.enrollment.mode_changed", "server", "", 5, func(d *docLine) any {
		return map[string]any{"course_id": d.courseID, "user_id": d.user, "mode": "verified"}
	}},
	{"edx.course.enrollment.upgrade.clicked", "browser", "", 5, func(d *docLine) any { return map[string]any{} }},
	{"edx.done.toggled", "browser", "done", 10, func(d *docLine) any { return map[string]any{"done": d.n(4) > 0} }},
	{"edx.certificate.created", "server", "", 3, func(d *docLine) any {
		return map[string]any{"certificate_id": d.hex(), "certificate_url": "https://lms.example.edu/certificates/" + d.block, "course_id": d.courseID,
			"enrollment_mode": "verified", "generation_mode": "batch", "user_id": d.user}
	}},
	{"edx.certificate.shared", "browser", "", 1, func(d *docLine) any {
		return map[string]any{"certificate_id": d.hex(), "certificate_url": "https://lms.example.edu/certificates/" + d.block, "course_id": d.courseID,
			"enrollment_mode": "verified", "user_id": d.user, "social_network": "LinkedIn"}
	}},
	{"edx.certificate.evidence_visited", "browser", "", 1, func(d *docLine) any {
		return map[string]any{"certificate_id": d.hex(), "course_id": d.courseID, "user_id": d.user, "social_network": "LinkedIn", "source_url": "https://example.com/"}
	}},
	{"edx.course.goal.added", "server", "", 4, func(d *docLine) any {
		return map[string]any{"courserun_key": d.courseID, "days_per_week": 3, "subscribed_to_reminders": true}
	}},
	{"edx.course.goal.updated", "server", "", 2, func(d *docLine) any { return map[string]any{"goal_key": "certify"} }},

	// Exams.
	{"edx.special_exam.timed.attempt.created", "server", "", 3, func(d *docLine) any { return d.exam("created") }},
	{"edx.special_exam.timed.attempt.started", "server", "", 3, func(d *docLine) any { return d.exam("started") }},
	{"edx.special_exam.timed.attempt.submitted", "server", "", 3, func(d *docLine) any { return d.exam("submitted") }},
	{"edx.special_exam.proctored.attempt.review_received", "server", "", 1, func(d *docLine) any {
		m := d.exam("verified")
		m["review_status"], m["review_attempt_code"], m["review_video_url"] = "Clean", d.hex(), "https://example.com/review"
		return m
	}},
	{"edx.special_exam.proctored.attempt.ready_to_start", "server", "", 1, func(d *docLine) any { return d.exam("ready_to_start") }},

	// Textbooks and third-party content.
	{"textbook.pdf.page.navigated", "browser", "", 20, func(d *docLine) any {
		return map[string]any{"chapter": "/asset-v1:" + d.courseID[len("course-v1:"):] + "+type@asset+block@Chapter_1.pdf", "name": "textbook.pdf.page.navigated", "page": 1 + d.n(40)}
	}},
	{"textbook.pdf.page.scrolled", "browser", "", 30, func(d *docLine) any {
		return map[string]any{"chapter": "/asset-v1:" + d.courseID[len("course-v1:"):] + "+type@asset+block@Chapter_1.pdf", "name": "textbook.pdf.page.scrolled", "page": 1 + d.n(40), "direction": "down"}
	}},
	{"textbook.pdf.search.executed", "browser", "", 3, func(d *docLine) any {
		return map[string]any{"chapter": "/asset-v1:" + d.courseID[len("course-v1:"):] + "+type@asset+block@Chapter_1.pdf", "name": "textbook.pdf.search.executed",
			"page": 3, "query": "entropy", "caseSensitive": false, "highlightAll": true, "status": ""}
	}},
	{"textbook.pdf.zoom.menu.changed", "browser", "", 5, func(d *docLine) any {
		return map[string]any{"amount": "1.5", "chapter": "Chapter_1.pdf", "name": "textbook.pdf.zoom.menu.changed", "page": 2}
	}},
	{"book", "browser", "", 5, func(d *docLine) any { return map[string]any{"type": "gotopage", "old": 1, "new": 1 + d.n(20)} }},
	{"edx.googlecomponent.document.displayed", "server", "", 5, func(d *docLine) any {
		return map[string]any{"displayed_in": "iframe", "url": "https://docs.google.com/document/d/" + d.block + "/pub"}
	}},
	{"oppia.exploration.loaded", "server", "", 2, func(d *docLine) any {
		return map[string]any{"exploration_id": d.block[:12], "exploration_version": "3"}
	}},
	{"oppia.exploration.state.changed", "server", "", 3, func(d *docLine) any {
		return map[string]any{"exploration_id": d.block[:12], "exploration_version": "3", "old_state_name": "Intro", "new_state_name": "Q1"}
	}},
	{"oppia.exploration.completed", "server", "", 1, func(d *docLine) any {
		return map[string]any{"exploration_id": d.block[:12], "exploration_version": "3"}
	}},
	{"microsoft.office.mix.played", "server", "", 2, func(d *docLine) any {
		return map[string]any{"url": "https://mix.office.com/embed/" + d.block[:12], "current_slide": 1, "current_time": 4}
	}},
	{"microsoft.office.mix.slide.loaded", "server", "", 2, func(d *docLine) any {
		return map[string]any{"url": "https://mix.office.com/embed/" + d.block[:12], "slide": 1 + d.n(9)}
	}},

	// Content experiments and libraries.
	{"xblock.split_test.child_render", "server", "", 5, func(d *docLine) any { return map[string]any{"child_id": d.id("vertical")} }},
	{"edx.librarycontentblock.content.assigned", "server", "", 3, func(d *docLine) any {
		return map[string]any{"location": d.id("library_content"), "added": []any{}, "result": []any{}, "max_count": 1, "previous_count": 0}
	}},
}
