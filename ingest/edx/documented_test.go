package edx

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
)

func documentedGenerator(seed uint64) *synth.Generator {
	return synth.New(synth.Population{Actors: 500, Courses: 10, Objects: 200,
		Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Span: 90 * 24 * time.Hour}, seed)
}

// documentedWant is what each documented event maps to in the default mode:
// "Type/Action object-type", or "" for a name deliberately not mapped.
var documentedWant = map[string]string{
	"book":                                                 "ViewEvent/Viewed Page ReadingProfile",
	"edx.badge.assertion.created":                          "Event/Created DigitalResource GeneralProfile",
	"edx.badge.assertion.evidence_visited":                 "",
	"edx.badge.assertion.shared":                           "Event/Shared DigitalResource GeneralProfile",
	"edx.bookmark.accessed":                                "NavigationEvent/NavigatedTo DigitalResource AnnotationProfile",
	"edx.bookmark.added":                                   "AnnotationEvent/Bookmarked DigitalResource AnnotationProfile",
	"edx.bookmark.listed":                                  "NavigationEvent/NavigatedTo WebPage AnnotationProfile",
	"edx.bookmark.removed":                                 "Event/Deleted BookmarkAnnotation AnnotationProfile",
	"edx.certificate.created":                              "Event/Created DigitalResource GeneralProfile",
	"edx.certificate.evidence_visited":                     "",
	"edx.certificate.shared":                               "Event/Shared DigitalResource GeneralProfile",
	"edx.cohort.created":                                   "",
	"edx.cohort.user_added":                                "Event/Added Membership GeneralProfile",
	"edx.cohort.user_removed":                              "Event/Removed Membership GeneralProfile",
	"edx.course.enrollment.activated":                      "Event/Activated CourseOffering GeneralProfile",
	"edx.course.enrollment.mode_changed":                   "Event/Modified CourseOffering GeneralProfile",
	"edx.course.enrollment.upgrade.clicked":                "",
	"edx.course.enrollment.upgrade.succeeded":              "",
	"edx.course.goal.added":                                "Event/Created Entity GeneralProfile",
	"edx.course.goal.updated":                              "Event/Modified Entity GeneralProfile",
	"edx.course.search.initiated":                          "",
	"edx.course.search.results_displayed":                  "SearchEvent/Searched WebPage SearchProfile",
	"edx.course.student_notes.added":                       "AnnotationEvent/Highlighted DigitalResource AnnotationProfile",
	"edx.course.student_notes.deleted":                     "Event/Deleted HighlightAnnotation AnnotationProfile",
	"edx.course.student_notes.edited":                      "Event/Modified HighlightAnnotation AnnotationProfile",
	"edx.course.student_notes.notes_page_viewed":           "NavigationEvent/NavigatedTo WebPage AnnotationProfile",
	"edx.course.student_notes.searched":                    "SearchEvent/Searched WebPage SearchProfile",
	"edx.course.student_notes.used_unit_link":              "NavigationEvent/NavigatedTo DigitalResource AnnotationProfile",
	"edx.course.student_notes.viewed":                      "Event/Viewed HighlightAnnotation AnnotationProfile",
	"edx.course.tool.accessed":                             "NavigationEvent/NavigatedTo SoftwareApplication GeneralProfile",
	"edx.done.toggled":                                     "Event/Completed DigitalResource GeneralProfile",
	"edx.drag_and_drop_v2.feedback.closed":                 "",
	"edx.drag_and_drop_v2.feedback.opened":                 "Event/Viewed Annotation AssessmentProfile",
	"edx.drag_and_drop_v2.item.dropped":                    "AssessmentItemEvent/Completed AssessmentItem AssessmentProfile",
	"edx.drag_and_drop_v2.item.picked_up":                  "AssessmentItemEvent/Started AssessmentItem AssessmentProfile",
	"edx.drag_and_drop_v2.loaded":                          "ViewEvent/Viewed Assessment AssessmentProfile",
	"edx.forum.response.created":                           "MessageEvent/Posted Message ForumProfile",
	"edx.forum.searched":                                   "SearchEvent/Searched WebPage SearchProfile",
	"edx.forum.thread.created":                             "MessageEvent/Posted Message ForumProfile",
	"edx.forum.thread.reported":                            "",
	"edx.forum.thread.unreported":                          "",
	"edx.forum.thread.viewed":                              "ViewEvent/Viewed Thread ForumProfile",
	"edx.forum.thread.voted":                               "Event/Liked Message ForumProfile",
	"edx.googlecomponent.calendar.displayed":               "ViewEvent/Viewed Document GeneralProfile",
	"edx.googlecomponent.document.displayed":               "ViewEvent/Viewed Document GeneralProfile",
	"edx.grades.problem.submitted":                         "AssessmentEvent/Submitted Assessment AssessmentProfile",
	"edx.librarycontentblock.content.assigned":             "",
	"edx.problem.hint.demandhint_displayed":                "Event/Viewed Annotation AssessmentProfile",
	"edx.problem.hint.feedback_displayed":                  "Event/Viewed Annotation AssessmentProfile",
	"edx.special_exam.practice.attempt.created":            "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.practice.attempt.started":            "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.practice.attempt.submitted":          "AssignableEvent/Submitted AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.created":           "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.declined":          "",
	"edx.special_exam.proctored.attempt.ready_to_start":    "",
	"edx.special_exam.proctored.attempt.rejected":          "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.review_received":   "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.started":           "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.submitted":         "AssignableEvent/Submitted AssignableDigitalResource AssignableProfile",
	"edx.special_exam.proctored.attempt.verified":          "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"edx.special_exam.timed.attempt.created":               "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.timed.attempt.started":               "AssignableEvent/Started AssignableDigitalResource AssignableProfile",
	"edx.special_exam.timed.attempt.submitted":             "AssignableEvent/Submitted AssignableDigitalResource AssignableProfile",
	"edx.team.activity_updated":                            "",
	"edx.team.changed":                                     "Event/Modified Group GeneralProfile",
	"edx.team.created":                                     "Event/Created Group GeneralProfile",
	"edx.team.deleted":                                     "Event/Deleted Group GeneralProfile",
	"edx.team.learner_added":                               "Event/Added Membership GeneralProfile",
	"edx.team.learner_removed":                             "Event/Removed Membership GeneralProfile",
	"edx.team.page_viewed":                                 "NavigationEvent/NavigatedTo WebPage GeneralProfile",
	"edx.team.searched":                                    "SearchEvent/Searched WebPage SearchProfile",
	"edx.ui.lms.link_clicked":                              "NavigationEvent/NavigatedTo WebPage GeneralProfile",
	"edx.ui.lms.outline.selected":                          "NavigationEvent/NavigatedTo DigitalResource GeneralProfile",
	"edx.ui.lms.sequence.next_selected":                    "NavigationEvent/NavigatedTo DigitalResourceCollection GeneralProfile",
	"edx.ui.lms.sequence.previous_selected":                "NavigationEvent/NavigatedTo DigitalResourceCollection GeneralProfile",
	"edx.ui.lms.sequence.tab_selected":                     "NavigationEvent/NavigatedTo DigitalResourceCollection GeneralProfile",
	"edx.video.bumper.played":                              "",
	"edx.video.closed_captions.hidden":                     "MediaEvent/DisabledClosedCaptioning VideoObject MediaProfile",
	"edx.video.closed_captions.shown":                      "MediaEvent/EnabledClosedCaptioning VideoObject MediaProfile",
	"edx.video.language_menu.hidden":                       "MediaEvent/DisabledClosedCaptioning VideoObject MediaProfile",
	"edx.video.language_menu.shown":                        "MediaEvent/EnabledClosedCaptioning VideoObject MediaProfile",
	"edx.video.played":                                     "MediaEvent/Resumed VideoObject MediaProfile",
	"hide_transcript":                                      "MediaEvent/DisabledClosedCaptioning VideoObject MediaProfile",
	"load_video":                                           "MediaEvent/Started VideoObject MediaProfile",
	"microsoft.office.mix.loaded":                          "MediaEvent/Started MediaObject MediaProfile",
	"microsoft.office.mix.paused":                          "MediaEvent/Paused MediaObject MediaProfile",
	"microsoft.office.mix.played":                          "MediaEvent/Resumed MediaObject MediaProfile",
	"microsoft.office.mix.slide.loaded":                    "ViewEvent/Viewed Frame MediaProfile",
	"microsoft.office.mix.stopped":                         "MediaEvent/Ended MediaObject MediaProfile",
	"openassessment.student_training_assess_example":       "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"openassessment.upload_file":                           "ResourceManagementEvent/Uploaded Document ResourceManagementProfile",
	"openassessmentblock.create_submission":                "AssignableEvent/Submitted AssignableDigitalResource AssignableProfile",
	"openassessmentblock.get_peer_submission":              "Event/Retrieved AssignableDigitalResource AssignableProfile",
	"openassessmentblock.get_submission_for_staff_grading": "",
	"openassessmentblock.peer_assess":                      "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"openassessmentblock.save_submission":                  "Event/Saved AssignableDigitalResource AssignableProfile",
	"openassessmentblock.self_assess":                      "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"openassessmentblock.staff_assess":                     "AssignableEvent/Reviewed AssignableDigitalResource AssignableProfile",
	"openassessmentblock.submit_feedback_on_assessments":   "FeedbackEvent/Commented AssignableDigitalResource FeedbackProfile",
	"oppia.exploration.completed":                          "Event/Completed Assessment AssessmentProfile",
	"oppia.exploration.loaded":                             "AssessmentEvent/Started Assessment AssessmentProfile",
	"oppia.exploration.state.changed":                      "AssessmentEvent/Submitted Assessment AssessmentProfile",
	"page_close":                                           "",
	"pause_video":                                          "MediaEvent/Paused VideoObject MediaProfile",
	"play_video":                                           "MediaEvent/Resumed VideoObject MediaProfile",
	"problem_check":                                        "GradeEvent/Graded Attempt AssessmentProfile",
	"problem_check_fail":                                   "",
	"problem_graded":                                       "AssessmentItemEvent/Completed AssessmentItem AssessmentProfile",
	"problem_rescore":                                      "GradeEvent/Graded Attempt GradingProfile",
	"problem_reset":                                        "AssessmentEvent/Reset Assessment AssessmentProfile",
	"problem_save":                                         "Event/Saved Assessment AssessmentProfile",
	"problem_show":                                         "Event/Viewed Annotation AssessmentProfile",
	"reset_problem":                                        "AssessmentEvent/Reset Assessment AssessmentProfile",
	"reset_problem_fail":                                   "",
	"save_problem_check":                                   "GradeEvent/Graded Attempt AssessmentProfile",
	"save_problem_fail":                                    "",
	"save_problem_success":                                 "Event/Saved Assessment AssessmentProfile",
	"seek_video":                                           "MediaEvent/JumpedTo VideoObject MediaProfile",
	"seq_goto":                                             "NavigationEvent/NavigatedTo DigitalResourceCollection GeneralProfile",
	"show_transcript":                                      "MediaEvent/EnabledClosedCaptioning VideoObject MediaProfile",
	"showanswer":                                           "Event/Viewed Annotation AssessmentProfile",
	"speed_change_video":                                   "MediaEvent/ChangedSpeed VideoObject MediaProfile",
	"stop_video":                                           "MediaEvent/Ended VideoObject MediaProfile",
	"textbook.pdf.display.scaled":                          "",
	"textbook.pdf.page.navigated":                          "NavigationEvent/NavigatedTo Page ReadingProfile",
	"textbook.pdf.page.scrolled":                           "NavigationEvent/NavigatedTo Page ReadingProfile",
	"textbook.pdf.search.executed":                         "SearchEvent/Searched Document SearchProfile",
	"textbook.pdf.zoom.menu.changed":                       "",
	"ubc.peer_instruction.accessed":                        "ViewEvent/Viewed AssessmentItem AssessmentProfile",
	"ubc.peer_instruction.original_submitted":              "AssessmentItemEvent/Completed AssessmentItem AssessmentProfile",
	"ubc.peer_instruction.revised_submitted":               "AssessmentItemEvent/Completed AssessmentItem AssessmentProfile",
	"video_hide_cc_menu":                                   "MediaEvent/DisabledClosedCaptioning VideoObject MediaProfile",
	"video_show_cc_menu":                                   "MediaEvent/EnabledClosedCaptioning VideoObject MediaProfile",
	"xblock.poll.submitted":                                "QuestionnaireEvent/Submitted Questionnaire SurveyProfile",
	"xblock.poll.view_results":                             "ViewEvent/Viewed Questionnaire SurveyProfile",
	"xblock.split_test.child_render":                       "",
	"xblock.survey.submitted":                              "QuestionnaireEvent/Submitted Questionnaire SurveyProfile",
	"xblock.survey.view_results":                           "ViewEvent/Viewed Questionnaire SurveyProfile",
}

// TestDocumentedEvents: every event of the tracking-log documentation, in
// the shape it documents (ingest/synth EdxDocumentedEvent), maps to the
// Caliper event of docs/edx-mapping.md and passes strict validation, or is
// one of the names deliberately not mapped and is counted unmapped.
func TestDocumentedEvents(t *testing.T) {
	tr, err := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	v := caliper.NewValidator(caliper.Strict)
	g := documentedGenerator(7)
	for _, name := range synth.EdxDocumentedNames() {
		line := g.EdxDocumentedEvent(name)
		res := tr.Transform(line)
		class := Classify(name, false)
		switch {
		case class == ClassUnknown:
			t.Errorf("%s: documented, but neither mapped nor listed as not learning", name)
		case class == ClassNotLearning:
			if res.Outcome != Unmapped {
				t.Errorf("%s: listed as not learning but %s", name, res.Outcome)
			}
			if want := documentedWant[name]; want != "" {
				t.Errorf("%s: not mapped, want %s", name, want)
			}
		case res.Outcome != Mapped:
			t.Errorf("%s: %s (%v)\n%s", name, res.Outcome, res.Err, line)
		default:
			ev := res.Events[0]
			b, _ := json.Marshal(ev)
			if _, err := v.CheckDocument(b); err != nil {
				t.Errorf("%s: invalid Caliper: %v\n%s", name, err, b)
			}
			obj, _ := ev["object"].(map[string]any)
			desc := fmt.Sprintf("%s/%s %s %s", ev["type"], ev["action"], obj["type"], ev["profile"])
			if want := documentedWant[name]; want != desc {
				t.Errorf("%s: %s, want %s", name, desc, want)
			}
			if again := tr.Transform(line); again.Events[0]["id"] != ev["id"] {
				t.Errorf("%s: the id is not deterministic", name)
			}
		}
	}
	if len(documentedWant) != len(synth.EdxDocumentedNames()) {
		t.Errorf("%d names in documentedWant, %d documented shapes", len(documentedWant), len(synth.EdxDocumentedNames()))
	}
}

// TestDocumentedMixCoverage: a realistic mix of every documented event
// (ingest/synth EdxDocumentedLine: video, problems and navigation first,
// a fifth page requests) maps at least 95 % of its learning events by
// count, every mapped event passes strict validation, and no line is
// refused. docs/edx-mapping.md, "Coverage report", shows lrs transform
// --report on the same mix.
func TestDocumentedMixCoverage(t *testing.T) {
	tr, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	v := caliper.NewValidator(caliper.Strict)
	g := documentedGenerator(1)
	sum := NewSummary()
	for i := 1; i <= 10000; i++ {
		res := tr.Transform(g.EdxDocumentedLine())
		sum.Add(i, res)
		for _, ev := range res.Events {
			b, _ := json.Marshal(ev)
			if _, err := v.CheckDocument(b); err != nil {
				t.Fatalf("line %d (%s): invalid Caliper: %v\n%s", i, res.Name, err, b)
			}
		}
	}
	r := sum.Report(false)
	var unknown []string
	for _, n := range r.Names {
		if n.Class == ClassUnknown {
			unknown = append(unknown, n.Name)
		}
	}
	sort.Strings(unknown)
	t.Logf("%d lines, %d learning, %d mapped (%.2f %%), %d not learning; unknown names: %s",
		r.Lines, r.Learning, r.LearningMapped, 100*r.Coverage, r.Lines-r.Learning, strings.Join(unknown, ", "))
	if r.Coverage < 0.95 || r.Refused > 0 || len(unknown) > 0 {
		t.Errorf("coverage %.2f %%, %d refused, unknown %v", 100*r.Coverage, r.Refused, unknown)
	}
}

// TestMappingDocsNameEveryEvent: docs/edx-mapping.md has a row for every
// name the transformer maps and every name it deliberately does not.
func TestMappingDocsNameEveryEvent(t *testing.T) {
	b, err := os.ReadFile("../../docs/edx-mapping.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	names := Names(false)
	for n := range notLearning {
		names = append(names, n)
	}
	for _, n := range names {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/edx-mapping.md does not name `%s`", n)
		}
	}
}
