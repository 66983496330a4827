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
		{"ProfileIn11", event11("ViewEvent", "Viewed", `,"profile":"ReadingProfile"`), "", true},
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

// TestRealWorldShapes covers what real sensors send that a store must take,
// and the narrower refusals with their messages.
func TestRealWorldShapes(t *testing.T) {
	strict, lenient := NewValidator(Strict), NewValidator(Lenient)
	const vendor = "http://vendor.example/caliper/v1"
	v12 := func(typ, action, object, extra string) string {
		return strings.Replace(event11(typ, action, extra), "caliper/v1p1", "caliper/v1p2", 1)
	}
	withObject := func(doc, object string) string {
		return strings.Replace(doc, `{"id":"https://example.edu/d/1","type":"Document"}`, object, 1)
	}
	withContext := func(doc, ctx string) string {
		return strings.Replace(doc, `"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2"`, `"@context":`+ctx, 1)
	}
	vendorCtx := `["` + vendor + `","http://purl.imsglobal.org/ctx/caliper/v1p2"]`
	cases := []struct {
		name           string
		doc            string
		strictMsg      string // "" means strict accepts; else a substring of the problem
		lenientAccepts bool
	}{
		{"GenericEntityIsPartOf", withObject(v12("ViewEvent", "Viewed", "", ""),
			`{"id":"https://example.edu/d/1","type":"Document","isPartOf":{"id":"https://example.edu/x","type":"Entity"}}`), "", true},
		{"GenericEntityAsEventObject", withObject(v12("Event", "Viewed", "", ""), `{"id":"https://example.edu/x","type":"Entity"}`), "", true},
		{"GenericEntityInCollectionItems", `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"https://example.edu/c/1","type":"Collection",` +
			`"items":[{"id":"https://example.edu/x","type":"Entity"}]}`, "", true},
		{"NarrowRangeNamesTheType", withObject(v12("AssessmentEvent", "Started", "", ""), `{"id":"https://example.edu/x","type":"Entity"}`),
			"expected an Assessment (or a subtype)", true},
		{"NarrowRangeDigitalResource", withObject(v12("AnnotationEvent", "Bookmarked", "", ""), `{"id":"https://example.edu/x","type":"Entity"}`),
			"expected a DigitalResource (or a subtype)", true},
		{"VendorEntityType", withContext(withObject(v12("Event", "Used", "", ""), `{"id":"https://example.edu/w/1","type":"`+vendor+`/Widget","name":"w"}`), vendorCtx), "", true},
		{"VendorEntityTypeUnderNarrowRange", withContext(withObject(v12("ViewEvent", "Viewed", "", ""), `{"id":"https://example.edu/w/1","type":"`+vendor+`/Widget"}`), vendorCtx), "", true},
		{"SchemaOrgTerm", withContext(withObject(v12("ViewEvent", "Viewed", "", ""), `{"id":"https://example.edu/b/1","type":"Book"}`), `["http://schema.org/","http://purl.imsglobal.org/ctx/caliper/v1p2"]`), "", true},
		{"VendorEntityStillChecksBaseProperties", withContext(withObject(v12("Event", "Used", "", ""), `{"id":"https://example.edu/w/1","type":"`+vendor+`/Widget","dateCreated":"yesterday"}`), vendorCtx), "date-time", true},
		{"UnknownEntityWithoutContext", withObject(v12("Event", "Used", "", ""), `{"id":"https://example.edu/w/1","type":"`+vendor+`/Widget"}`), "unknown entity type", true},
		{"VendorEventType", withContext(strings.Replace(v12("Event", "Used", "", ""), `"type":"Event"`, `"type":"`+vendor+`/ForumEvent"`, 1), vendorCtx),
			`the extra context "` + vendor + `"`, true},
		{"InlineContextEventType", withContext(strings.Replace(v12("Event", "Used", "", ""), `"type":"Event"`, `"type":"ForumPostEvent"`, 1), `[{"ForumPostEvent":"http://x.example/ForumPostEvent"},"http://purl.imsglobal.org/ctx/caliper/v1p2"]`),
			"the extra context an inline context", true},
		{"ProfileIn11", event11("ViewEvent", "Viewed", `,"profile":"ReadingProfile"`), "", true},
		{"UnknownProfileIn11", event11("ViewEvent", "Viewed", `,"profile":"MadeUpProfile"`), "unknown profile", true},
		{"BareUUIDEventID", strings.Replace(v12("ViewEvent", "Viewed", "", ""), `"urn:uuid:c51570e4`, `"c51570e4`, 1), "must be of the form urn:uuid:<uuid>", true},
		{"BracedUUIDEventID", strings.Replace(v12("ViewEvent", "Viewed", "", ""), `"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594"`, `"{c51570e4-f8ed-4c18-bb3a-dfe51b2cc594}"`, 1), "must be of the form urn:uuid:<uuid>", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := strict.CheckDocument([]byte(tc.doc))
			switch {
			case tc.strictMsg == "" && err != nil:
				t.Errorf("strict refused: %v", err)
			case tc.strictMsg != "" && err == nil:
				t.Errorf("strict accepted, want a problem saying %q", tc.strictMsg)
			case tc.strictMsg != "" && !strings.Contains(err.Error(), tc.strictMsg):
				t.Errorf("strict: %v\nwant a problem saying %q", err, tc.strictMsg)
			}
			if _, err := lenient.CheckDocument([]byte(tc.doc)); (err == nil) != tc.lenientAccepts {
				t.Errorf("lenient: err %v, want accepted=%v", err, tc.lenientAccepts)
			}
		})
	}
}
