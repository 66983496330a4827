package caliper

import (
	"strings"
	"testing"
)

func event11(typ, action, extra string) string {
	return `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p1","id":"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594",` +
		`"type":"` + typ + `","actor":{"id":"https://example.edu/u/1","type":"Person"},"action":"` + action + `",` +
		`"object":{"id":"https://example.edu/d/1","type":"Document"},"eventTime":"2018-11-15T10:15:00.000Z"` + extra + `}`
}

func TestValidatorRules(t *testing.T) {
	svc := NewValidator(Strict)
	lenient := NewValidator(Lenient)
	v12 := func(s string) string {
		return strings.Replace(s, "caliper/v1p1", "caliper/v1p2", 1)
	}
	cases := []struct {
		name     string
		doc      string
		wantPath string // "" means valid
		lenient  bool   // lenient mode accepts it
	}{
		{"ReadingEvent11", event11("ReadingEvent", "Viewed", ""), "", true},
		{"ReadingEventNotIn12", v12(event11("ReadingEvent", "Viewed", "")), "data[0].type", true},
		{"DeprecatedAction11", event11("AnnotationEvent", "Liked", ""), "", true},
		{"DeprecatedActionNotIn12", v12(event11("AnnotationEvent", "Liked", "")), "data[0].action", true},
		{"AliasUnRead", v12(strings.Replace(event11("MessageEvent", "MarkedAsUnRead", ""), `"type":"Document"`, `"type":"Message"`, 1)), "", true},
		{"AliasCloseCaptioning", v12(strings.Replace(event11("MediaEvent", "EnabledCloseCaptioning", ""), `"type":"Document"`, `"type":"VideoObject"`, 1)), "", true},
		{"ExtensionEventNeedsContext", strings.Replace(event11("ToolLaunchEvent", "Returned", ""), `"type":"Document"`, `"type":"SoftwareApplication"`, 1), "data[0].type", true},
		{"ExtensionContext", strings.Replace(strings.Replace(event11("ToolLaunchEvent", "Returned", ""), `"type":"Document"`, `"type":"SoftwareApplication"`, 1),
			`"http://purl.imsglobal.org/ctx/caliper/v1p1"`, `["http://purl.imsglobal.org/ctx/caliper/v1p1","http://purl.imsglobal.org/ctx/caliper/v1p1/ToolLaunchProfile-extension"]`, 1), "", true},
		{"ProfileIn11", event11("ViewEvent", "Viewed", `,"profile":"ReadingProfile"`), "data[0].profile", true},
		{"UnknownProfile", v12(event11("ViewEvent", "Viewed", `,"profile":"MadeUpProfile"`)), "data[0].profile", true},
		{"LaunchedNeedsFederatedSession", v12(strings.Replace(event11("ToolLaunchEvent", "Launched", ""), `"type":"Document"`, `"type":"SoftwareApplication"`, 1)), "data[0].federatedSession", true},
		{"UnknownProperty", v12(event11("ViewEvent", "Viewed", `,"color":"red"`)), "data[0].color", true},
		{"ExtensionsFree", v12(event11("ViewEvent", "Viewed", `,"extensions":{"id":"not an iri","x":[1]}`)), "", true},
		{"SubtypeAccepted", v12(strings.Replace(event11("ViewEvent", "Viewed", ""), `"type":"Document"`, `"type":"VideoObject"`, 1)), "", true},
		{"ObjectWrongType", v12(strings.Replace(event11("ViewEvent", "Viewed", ""), `"type":"Document"`, `"type":"Person"`, 1)), "data[0].object.type", true},
		{"NestedIntegerAsString", v12(strings.Replace(event11("ViewEvent", "Viewed", ""), `"type":"Document"`, `"type":"Document","version":1`, 1)), "data[0].object.version", true},
		{"ContextArrayCaliperLast", strings.Replace(v12(event11("ViewEvent", "Viewed", "")), `"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2"`, `"@context":[{"x":"http://x.org/"},"http://purl.imsglobal.org/ctx/caliper/v1p2"]`, 1), "", true},
		{"ContextArrayCaliperFirst", strings.Replace(v12(event11("ViewEvent", "Viewed", "")), `"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2"`, `"@context":["http://purl.imsglobal.org/ctx/caliper/v1p2",{"x":"http://x.org/"}]`, 1), "data[0].@context", true},
		{"HTTPSContext", strings.Replace(v12(event11("ViewEvent", "Viewed", "")), "http://purl", "https://purl", 1), "", true},
		{"NotCaliperAtAll", `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","type":"ViewEvent","action":"Viewed"}`, "data[0].id", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.CheckDocument([]byte(tc.doc))
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
			} else {
				e, ok := AsError(err)
				if !ok {
					t.Fatalf("accepted, want a problem at %s (err %v)", tc.wantPath, err)
				}
				found := false
				for _, p := range e.Problems {
					found = found || p.Path == tc.wantPath
				}
				if !found {
					t.Errorf("no problem at %s: %v", tc.wantPath, e)
				}
			}
			_, err = lenient.CheckDocument([]byte(tc.doc))
			if (err == nil) != tc.lenient {
				t.Errorf("lenient mode: err %v, want accepted=%v", err, tc.lenient)
			}
		})
	}
}
