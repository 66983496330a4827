package caliper

import (
	"fmt"
	"strings"
	"testing"
)

// TestCaliper11Set is a Caliper 1.1 set of our own, written from the 1.1
// spec's event and entity tables: every 1.1 event type under its context
// (core, or its profile-extension context), with nested generic entities
// and a vendor context. Strict validation must accept all of it.
func TestCaliper11Set(t *testing.T) {
	const (
		core = `"http://purl.imsglobal.org/ctx/caliper/v1p1"`
		ext  = `"http://purl.imsglobal.org/ctx/caliper/v1p1/%sProfile-extension"`
	)
	withExt := func(profile string) string { return `[` + core + `,` + fmt.Sprintf(ext, profile) + `]` }
	generic := `{"id":"https://example.edu/things/1","type":"Entity","name":"a generic entity"}`
	doc := `{"id":"https://example.edu/docs/1","type":"Document","isPartOf":` + generic + `}`
	cases := []struct {
		typ, action, context, object, more string
	}{
		{"Event", "Viewed", core, generic, ""},
		{"AnnotationEvent", "Bookmarked", core, doc, `,"generated":{"id":"https://example.edu/a/1","type":"BookmarkAnnotation","annotated":"https://example.edu/docs/1"}`},
		{"AnnotationEvent", "Liked", core, doc, ""}, // a 1.1 action, deprecated in 1.2
		{"AssessmentEvent", "Started", core, `{"id":"https://example.edu/as/1","type":"Assessment"}`,
			`,"generated":{"id":"https://example.edu/at/1","type":"Attempt","count":1}`},
		{"AssessmentItemEvent", "Completed", core, `{"id":"https://example.edu/as/1/i/1","type":"AssessmentItem","isPartOf":"https://example.edu/as/1"}`, ""},
		{"AssignableEvent", "Activated", core, `{"id":"https://example.edu/as/1","type":"AssignableDigitalResource"}`, ""},
		{"ForumEvent", "Subscribed", core, `{"id":"https://example.edu/f/1","type":"Forum"}`, ""},
		{"GradeEvent", "Graded", core, `{"id":"https://example.edu/at/1","type":"Attempt"}`,
			`,"generated":{"id":"https://example.edu/sc/1","type":"Score","scoreGiven":5}`},
		{"MediaEvent", "Paused", core, `{"id":"https://example.edu/v/1","type":"VideoObject"}`,
			`,"target":{"id":"https://example.edu/v/1#t=30","type":"MediaLocation","currentTime":"PT30S"}`},
		{"MediaEvent", "Rewound", core, `{"id":"https://example.edu/v/1","type":"VideoObject"}`, ""}, // 1.1 only
		{"MessageEvent", "Posted", core, `{"id":"https://example.edu/m/1","type":"Message","body":"hello"}`, ""},
		{"NavigationEvent", "NavigatedTo", core, doc, `,"target":{"id":"https://example.edu/docs/1#p2","type":"Frame","index":2}`},
		{"SessionEvent", "LoggedIn", core, `{"id":"https://example.edu/app","type":"SoftwareApplication"}`, ""},
		{"ThreadEvent", "MarkedAsRead", core, `{"id":"https://example.edu/th/1","type":"Thread"}`, ""},
		{"ViewEvent", "Viewed", core, doc, ""},
		{"ReadingEvent", "Viewed", core, doc, ""},
		{"OutcomeEvent", "Graded", core, `{"id":"https://example.edu/at/1","type":"Attempt"}`, ""},
		{"FeedbackEvent", "Ranked", withExt("Feedback"), doc, ""},
		{"ResourceManagementEvent", "Uploaded", withExt("ResourceManagement"), doc, ""},
		{"SearchEvent", "Searched", withExt("Search"), `{"id":"https://example.edu/app","type":"SoftwareApplication"}`, ""},
		{"QuestionnaireEvent", "Started", withExt("Survey"), `{"id":"https://example.edu/q/1","type":"Questionnaire"}`, ""},
		{"QuestionnaireItemEvent", "Completed", withExt("Survey"), `{"id":"https://example.edu/q/1/i/1","type":"QuestionnaireItem"}`, ""},
		{"SurveyEvent", "OptedIn", withExt("Survey"), `{"id":"https://example.edu/s/1","type":"Survey"}`, ""},
		{"SurveyInvitationEvent", "Sent", withExt("Survey"), `{"id":"https://example.edu/s/1/inv","type":"SurveyInvitation"}`, ""},
		{"ToolLaunchEvent", "Returned", withExt("ToolLaunch"), `{"id":"https://example.edu/tool","type":"SoftwareApplication"}`, ""},
		{"ToolUseEvent", "Used", withExt("ToolUse"), `{"id":"https://example.edu/tool","type":"SoftwareApplication"}`, ""},
		// A vendor context beside Caliper's: its entity types are taken as generic entities.
		{"ViewEvent", "Viewed", `[` + core + `,"http://vendor.example/caliper/v1"]`,
			`{"id":"https://example.edu/w/1","type":"http://vendor.example/caliper/v1/Widget","isPartOf":` + generic + `}`, ""},
	}
	v := NewValidator(Strict)
	for i, tc := range cases {
		event := fmt.Sprintf(`{"@context":%s,"id":"urn:uuid:0b1d0000-0000-4000-8000-%012d","type":%q,"action":%q,`+
			`"actor":{"id":"https://example.edu/users/1","type":"Person"},"object":%s,"eventTime":"2017-11-15T10:15:00.000Z",`+
			`"edApp":{"id":"https://example.edu","type":"SoftwareApplication"},`+
			`"group":{"id":"https://example.edu/terms/1/courses/1","type":"CourseSection","subOrganizationOf":{"id":"https://example.edu/terms/1/courses","type":"CourseOffering"}},`+
			`"session":{"id":"https://example.edu/sessions/1","type":"Session","startedAtTime":"2017-11-15T10:00:00.000Z"}%s}`,
			tc.context, i, tc.typ, tc.action, tc.object, tc.more)
		body := `{"sensor":"https://example.edu/sensor","sendTime":"2017-11-15T10:16:00.000Z",` +
			`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p1","data":[` + event + `]}`
		env, err := DecodeEnvelope([]byte(body))
		if err != nil {
			t.Fatalf("%s %s: decode: %v", tc.typ, tc.action, err)
		}
		if err := v.Validate(env); err != nil {
			t.Errorf("%s %s under %s: %v", tc.typ, tc.action, strings.Trim(tc.context, `"`), err)
		}
	}
}
