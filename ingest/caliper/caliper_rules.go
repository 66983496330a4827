package caliper

// Hand-written Caliper rules: what the JSON schema (caliper_schema.go) does not say.
// Sources: SPEC-NOTES §2–3 (the spec's event tables, entity tree and 1.1 differences) and the
// JSON-LD contexts (controlled vocabularies). docs/validation.md says how each table was made.

//go:generate go run ./internal/gencaliper -schema ../../../shared/caliper/json-schema-v1p2 -out caliper_schema.go

// Caliper versions, as the validator tells them apart.
const (
	version11 = "1.1"
	version12 = "1.2"
)

// entityParents is the entity type tree: each type's direct supertypes.
// A property that accepts a type accepts its subtypes.
var entityParents = map[string][]string{
	"Entity":                     {},
	"Agent":                      {"Entity"},
	"Person":                     {"Agent"},
	"SoftwareApplication":        {"Agent"},
	"Organization":               {"Agent"},
	"CourseOffering":             {"Organization"},
	"CourseSection":              {"CourseOffering"},
	"Group":                      {"Organization"},
	"Membership":                 {"Entity"},
	"Session":                    {"Entity"},
	"LtiSession":                 {"Session"},
	"DigitalResource":            {"Entity"},
	"AssignableDigitalResource":  {"DigitalResource"},
	"AssessmentItem":             {"AssignableDigitalResource"},
	"Chapter":                    {"DigitalResource"},
	"Document":                   {"DigitalResource"},
	"Page":                       {"DigitalResource"},
	"WebPage":                    {"DigitalResource"},
	"Frame":                      {"DigitalResource"},
	"Message":                    {"DigitalResource"},
	"LtiLink":                    {"DigitalResource"},
	"MediaLocation":              {"DigitalResource"},
	"QuestionnaireItem":          {"DigitalResource"},
	"Question":                   {"DigitalResource"},
	"SurveyInvitation":           {"DigitalResource"},
	"MediaObject":                {"DigitalResource"},
	"AudioObject":                {"MediaObject"},
	"ImageObject":                {"MediaObject"},
	"VideoObject":                {"MediaObject"},
	"Collection":                 {"Entity"},
	"DigitalResourceCollection":  {"Collection", "DigitalResource"},
	"Assessment":                 {"AssignableDigitalResource", "DigitalResourceCollection"},
	"Forum":                      {"DigitalResourceCollection"},
	"Thread":                     {"DigitalResourceCollection"},
	"Questionnaire":              {"DigitalResourceCollection"},
	"Survey":                     {"Collection"},
	"AggregateMeasureCollection": {"Collection"},
	"AggregateMeasure":           {"Entity"},
	"Annotation":                 {"Entity"},
	"BookmarkAnnotation":         {"Annotation"},
	"HighlightAnnotation":        {"Annotation"},
	"SharedAnnotation":           {"Annotation"},
	"TagAnnotation":              {"Annotation"},
	"Attempt":                    {"Entity"},
	"Result":                     {"Entity"},
	"Score":                      {"Entity"},
	"Response":                   {"Entity"},
	"FillinBlankResponse":        {"Response"},
	"MultipleChoiceResponse":     {"Response"},
	"MultipleResponseResponse":   {"Response"},
	"SelectTextResponse":         {"Response"},
	"TrueFalseResponse":          {"Response"},
	"DateTimeResponse":           {"Response"},
	"MultiselectResponse":        {"Response"},
	"OpenEndedResponse":          {"Response"},
	"RatingScaleResponse":        {"Response"},
	"DateTimeQuestion":           {"Question"},
	"MultiselectQuestion":        {"Question"},
	"OpenEndedQuestion":          {"Question"},
	"RatingScaleQuestion":        {"Question"},
	"Scale":                      {"Entity"},
	"LikertScale":                {"Scale"},
	"MultiselectScale":           {"Scale"},
	"NumericScale":               {"Scale"},
	"Rating":                     {"Entity"},
	"Comment":                    {"Entity"},
	"Query":                      {"Entity"},
	"SearchResponse":             {"Entity"},
	"LearningObjective":          {"Entity"},
	"Link":                       {"Entity"},
	"SystemIdentifier":           {},
	"TextPositionSelector":       {},
	// Caliper 1.1 only.
	"EpubChapter":    {"DigitalResource"},
	"EpubPart":       {"DigitalResource"},
	"EpubSubChapter": {"DigitalResource"},
	"EpubVolume":     {"DigitalResource"},
	"Reading":        {"DigitalResource"},
}

// entityTypes11Only are entity types that exist in Caliper 1.1 but not 1.2.
var entityTypes11Only = map[string]bool{
	"EpubChapter": true, "EpubPart": true, "EpubSubChapter": true, "EpubVolume": true, "Reading": true,
}

// allActions are the 80 action terms of Caliper 1.2 (the generic Event takes any of them).
var allActions = []string{
	"Abandoned", "Accepted", "Activated", "Added", "Archived", "Attached", "Bookmarked",
	"ChangedResolution", "ChangedSize", "ChangedSpeed", "ChangedVolume", "Classified", "ClosedPopout",
	"Commented", "Completed", "Copied", "Created", "Deactivated", "Declined", "Deleted", "Described",
	"DisabledClosedCaptioning", "Disliked", "Downloaded", "EnabledClosedCaptioning", "Ended",
	"EnteredFullScreen", "ExitedFullScreen", "ForwardedTo", "Graded", "Hid", "Highlighted", "Identified",
	"JumpedTo", "Launched", "Liked", "Linked", "LoggedIn", "LoggedOut", "MarkedAsRead", "MarkedAsUnread",
	"Modified", "Muted", "NavigatedTo", "OpenedPopout", "OptedIn", "OptedOut", "Paused", "Posted",
	"Printed", "Published", "Questioned", "Ranked", "Recommended", "Removed", "Reset", "Restarted",
	"Restored", "Resumed", "Retrieved", "Returned", "Reviewed", "Rewound", "Saved", "Searched", "Sent",
	"Shared", "Showed", "Skipped", "Started", "Submitted", "Subscribed", "Tagged", "TimedOut", "Unmuted",
	"Unpublished", "Unsubscribed", "Uploaded", "Used", "Viewed",
}

// actionAliases are spellings the spec itself uses inconsistently (SPEC-NOTES §2):
// each is accepted wherever its canonical form is.
var actionAliases = map[string]string{
	"MarkedAsUnRead":          "MarkedAsUnread",
	"EnabledCloseCaptioning":  "EnabledClosedCaptioning",
	"DisabledCloseCaptioning": "DisabledClosedCaptioning",
}

var mediaActions = []string{
	"Started", "Ended", "Paused", "Resumed", "Restarted", "ForwardedTo", "JumpedTo",
	"ChangedResolution", "ChangedSize", "ChangedSpeed", "ChangedVolume", "EnabledClosedCaptioning",
	"DisabledClosedCaptioning", "EnteredFullScreen", "ExitedFullScreen", "Muted", "Unmuted",
	"OpenedPopout", "ClosedPopout",
}

// eventActions12 is the Caliper 1.2 table of event types and the actions each allows.
var eventActions12 = map[string][]string{
	"Event":                   allActions,
	"AnnotationEvent":         {"Bookmarked", "Highlighted", "Shared", "Tagged"},
	"AssessmentEvent":         {"Started", "Paused", "Resumed", "Restarted", "Reset", "Submitted"},
	"AssessmentItemEvent":     {"Started", "Skipped", "Completed"},
	"AssignableEvent":         {"Activated", "Deactivated", "Started", "Completed", "Submitted", "Reviewed"},
	"FeedbackEvent":           {"Commented", "Ranked"},
	"ForumEvent":              {"Subscribed", "Unsubscribed"},
	"GradeEvent":              {"Graded"},
	"MediaEvent":              mediaActions,
	"MessageEvent":            {"MarkedAsRead", "MarkedAsUnread", "Posted"},
	"NavigationEvent":         {"NavigatedTo"},
	"QuestionnaireEvent":      {"Started", "Submitted"},
	"QuestionnaireItemEvent":  {"Started", "Skipped", "Completed"},
	"ResourceManagementEvent": {"Archived", "Copied", "Created", "Deleted", "Described", "Downloaded", "Modified", "Printed", "Published", "Restored", "Retrieved", "Saved", "Unpublished", "Uploaded"},
	"SearchEvent":             {"Searched"},
	"SessionEvent":            {"LoggedIn", "LoggedOut", "TimedOut"},
	"SurveyEvent":             {"OptedIn", "OptedOut"},
	"SurveyInvitationEvent":   {"Accepted", "Declined", "Sent"},
	"ThreadEvent":             {"MarkedAsRead", "MarkedAsUnread"},
	"ToolLaunchEvent":         {"Launched", "Returned"},
	"ToolUseEvent":            {"Used"},
	"ViewEvent":               {"Viewed"},
}

// eventActions11 adds what Caliper 1.1 also allows: the deprecated ReadingEvent and
// OutcomeEvent, and deprecated per-event actions.
var eventActions11Extra = map[string][]string{
	"ReadingEvent":        {"NavigatedTo", "Searched", "Viewed"},
	"OutcomeEvent":        {"Graded"},
	"AnnotationEvent":     {"Attached", "Classified", "Commented", "Described", "Disliked", "Identified", "Liked", "Linked", "Questioned", "Ranked", "Recommended", "Subscribed"},
	"AssessmentItemEvent": {"Reviewed", "Viewed"},
	"AssignableEvent":     {"Abandoned", "Hid", "Showed"},
	"MediaEvent":          {"Rewound"},
}

// eventTypes11Core are the event types of the Caliper 1.1 core context; the others
// need the profile extension context that defines them (extensionEventTypes).
var eventTypes11Core = []string{
	"Event", "AnnotationEvent", "AssessmentEvent", "AssessmentItemEvent", "AssignableEvent",
	"ForumEvent", "MediaEvent", "MessageEvent", "NavigationEvent", "GradeEvent", "SessionEvent",
	"ThreadEvent", "ToolUseEvent", "ViewEvent", "ReadingEvent", "OutcomeEvent",
}

// extensionEventTypes maps each Caliper 1.1 profile-extension context to the event types it adds.
var extensionEventTypes = map[string][]string{
	V1p1 + "/FeedbackProfile-extension":           {"FeedbackEvent"},
	V1p1 + "/ResourceManagementProfile-extension": {"ResourceManagementEvent"},
	V1p1 + "/SearchProfile-extension":             {"SearchEvent"},
	V1p1 + "/SurveyProfile-extension":             {"QuestionnaireEvent", "QuestionnaireItemEvent", "SurveyEvent", "SurveyInvitationEvent"},
	V1p1 + "/ToolLaunchProfile-extension":         {"ToolLaunchEvent"},
	V1p1 + "/ToolUseProfile-extension":            {"ToolUseEvent"},
}

// profiles are the Caliper 1.2 profile terms. SurveyProfile is missing from the v1p2
// context but used by the spec's fixtures: accepted.
var profiles = []string{
	"GeneralProfile", "AnnotationProfile", "AssessmentProfile", "AssignableProfile", "FeedbackProfile",
	"ForumProfile", "GradingProfile", "MediaProfile", "ReadingProfile", "ResourceManagementProfile",
	"SearchProfile", "SessionProfile", "SurveyProfile", "ToolLaunchProfile", "ToolUseProfile",
}

// Vocabularies from the v1p2 context that the schema gets wrong or lacks.
var (
	identifierTypes = []string{
		"AccountUserName", "CaseItemUri", "EmailAddress", "LisSourcedId", "LtiContextId",
		"LtiDeploymentId", "LtiPlatformId", "LtiToolId", "LtiUserId", "OneRosterSourcedId", "Other",
		"SisSourcedId", "SystemId",
	}
	ltiMessageTypes = []string{"LtiDeepLinkingRequest", "LtiResourceLinkRequest"}
)

// entityBaseProps apply to every entity type (1.2 base Entity properties).
var entityBaseProps = map[string]propRule{
	"name":             {kind: kindString},
	"description":      {kind: kindString},
	"dateCreated":      {kind: kindDateTime},
	"dateModified":     {kind: kindDateTime},
	"extensions":       {kind: kindObject},
	"otherIdentifiers": {kind: kindEntity, list: true, types: []string{"SystemIdentifier"}},
}

// propOverlays correct or complete the schema's property rules, by type ("*" for all).
var propOverlays = map[string]map[string]propRule{
	"SystemIdentifier": {
		"identifierType": {kind: kindVocab, words: identifierTypes},
		"source":         {kind: kindEntity, anyEntity: true},
	},
	"LtiLink": {
		"messageType": {kind: kindVocab, words: ltiMessageTypes},
	},
	"LtiSession": {
		"messageParameters": {kind: kindObject}, // LTI launch claims: not Caliper data
	},
}

// eventDefaults are the entity types every event's properties take unless
// eventEntityTypes says otherwise (Caliper 1.2 §Event; the JSON schema allows any entity).
var eventDefaults = map[string][]string{
	"actor":            {"Agent"},
	"object":           {"Entity"},
	"generated":        {"Entity"},
	"target":           {"DigitalResource"},
	"referrer":         {"DigitalResource", "SoftwareApplication"},
	"group":            {"Organization"},
	"membership":       {"Membership"},
	"session":          {"Session"},
	"federatedSession": {"LtiSession"},
	"edApp":            {"SoftwareApplication"},
}

// eventEntityTypes is the spec's table of what each event type's object,
// generated and target may be (SPEC-NOTES §2); subtypes count.
var eventEntityTypes = map[string]map[string][]string{
	"Event":                   {"target": {"Entity"}},
	"AnnotationEvent":         {"object": {"DigitalResource"}, "generated": {"Annotation"}},
	"AssessmentEvent":         {"object": {"Assessment"}, "generated": {"Attempt"}},
	"AssessmentItemEvent":     {"object": {"AssessmentItem"}, "generated": {"Response", "Attempt"}},
	"AssignableEvent":         {"object": {"AssignableDigitalResource"}, "generated": {"Attempt"}},
	"FeedbackEvent":           {"generated": {"Comment", "Rating"}},
	"ForumEvent":              {"object": {"Forum"}},
	"GradeEvent":              {"object": {"Attempt"}, "generated": {"Score"}},
	"MediaEvent":              {"object": {"MediaObject"}, "target": {"MediaLocation"}},
	"MessageEvent":            {"object": {"Message"}},
	"NavigationEvent":         {"object": {"DigitalResource", "SoftwareApplication"}},
	"QuestionnaireEvent":      {"object": {"Questionnaire"}, "generated": {"Attempt"}},
	"QuestionnaireItemEvent":  {"object": {"QuestionnaireItem"}, "generated": {"Response", "Attempt"}},
	"ResourceManagementEvent": {"object": {"DigitalResource"}, "generated": {"DigitalResource"}},
	"SearchEvent":             {"generated": {"SearchResponse"}},
	"SessionEvent":            {"actor": {"Person", "SoftwareApplication"}, "object": {"Session", "SoftwareApplication"}},
	"SurveyEvent":             {"object": {"Survey"}},
	"SurveyInvitationEvent":   {"object": {"SurveyInvitation"}},
	"ThreadEvent":             {"object": {"Thread"}},
	"ToolLaunchEvent":         {"object": {"SoftwareApplication"}, "generated": {"DigitalResource", "Link"}, "target": {"DigitalResource", "Link"}},
	"ToolUseEvent":            {"object": {"SoftwareApplication"}, "generated": {"AggregateMeasureCollection"}, "target": {"DigitalResource", "SoftwareApplication"}},
	"ViewEvent":               {"object": {"DigitalResource", "Result"}}, // Result: Grading profile
	// Caliper 1.1, deprecated.
	"ReadingEvent": {"object": {"DigitalResource"}},
	"OutcomeEvent": {"object": {"Attempt"}, "generated": {"Result"}},
}

// entityTypeOverlays narrow entity properties the schema leaves too loose.
var entityTypeOverlays = map[string]map[string][]string{
	"Session":                    {"user": {"Person"}},
	"Attempt":                    {"isPartOf": {"Attempt"}},
	"SystemIdentifier":           {"source": {"SoftwareApplication", "Organization"}},
	"Forum":                      {"items": {"Thread"}},
	"Thread":                     {"items": {"Message"}},
	"Assessment":                 {"items": {"AssessmentItem"}},
	"Questionnaire":              {"items": {"QuestionnaireItem"}},
	"AggregateMeasureCollection": {"items": {"AggregateMeasure"}},
	"DigitalResourceCollection":  {"items": {"DigitalResource"}},
}

// requiredProps are entity properties the spec requires beyond id and type.
var requiredProps = map[string][]string{
	"AggregateMeasure": {"metric", "metricValue"},
	"SystemIdentifier": {"identifier", "identifierType"},
}
