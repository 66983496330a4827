// Package synth generates realistic, deterministic Caliper 1.2 events for
// benchmarks and load tests: a population of actors, courses and objects,
// a mix of event types, and payloads shaped like real sensors' output.
package synth

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Population sizes the generated world.
type Population struct {
	Actors  int
	Courses int
	Objects int
	Start   time.Time     // first event time
	Span    time.Duration // events spread over [Start, Start+Span)
}

// DefaultPopulation is the scale the read-API benchmarks ask for.
var DefaultPopulation = Population{
	Actors:  100_000,
	Courses: 1_000,
	Objects: 50_000,
	Start:   time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC),
	Span:    365 * 24 * time.Hour,
}

// Generator produces events; it is not safe for concurrent use.
type Generator struct {
	pop Population
	rng *rand.Rand
}

// New returns a Generator whose output depends only on pop and seed.
func New(pop Population, seed uint64) *Generator {
	return &Generator{pop: pop, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

type kind struct {
	typ, profile, objectType string
	actions                  []string
	weight                   int
}

// kinds is the event mix, weighted roughly like an LMS's traffic: mostly
// navigation and views, then media, assessments, sessions and forums.
var kinds = []kind{
	{"NavigationEvent", "GeneralProfile", "WebPage", []string{"NavigatedTo"}, 30},
	{"ViewEvent", "ReadingProfile", "Document", []string{"Viewed"}, 25},
	{"MediaEvent", "MediaProfile", "VideoObject", []string{"Started", "Paused", "Resumed", "Ended", "JumpedTo"}, 15},
	{"AssessmentEvent", "AssessmentProfile", "Assessment", []string{"Started", "Submitted"}, 10},
	{"AssessmentItemEvent", "AssessmentProfile", "AssessmentItem", []string{"Started", "Completed"}, 8},
	{"SessionEvent", "SessionProfile", "SoftwareApplication", []string{"LoggedIn", "LoggedOut"}, 7},
	{"MessageEvent", "ForumProfile", "Message", []string{"Posted", "MarkedAsRead"}, 5},
}

var totalWeight = func() int {
	n := 0
	for _, k := range kinds {
		n += k.weight
	}
	return n
}()

// Row is one generated event with the values the store indexes.
type Row struct {
	ID                                                            [16]byte
	Type, Action, Profile, ActorID, ObjectID, ObjectType, GroupID string
	SessionID, EdAppID                                            string
	EventTime                                                     time.Time
	Data                                                          []byte
}

// Event returns one event as JSON. Ids are random UUIDs (unique in practice).
func (g *Generator) Event() []byte { return g.Row().Data }

// Row returns one event and its indexed values.
func (g *Generator) Row() Row {
	r := g.rng
	w := r.IntN(totalWeight)
	k := kinds[0]
	for _, c := range kinds {
		if w < c.weight {
			k = c
			break
		}
		w -= c.weight
	}
	actor := r.IntN(g.pop.Actors)
	course := r.IntN(g.pop.Courses)
	object := r.IntN(g.pop.Objects)
	at := g.pop.Start.Add(time.Duration(r.Int64N(int64(g.pop.Span)))).Truncate(time.Millisecond)
	id := g.uuid()
	term := 201801 + course%8
	section := fmt.Sprintf("https://example.edu/terms/%d/courses/%d/sections/1", term, course)

	var objID, objType = fmt.Sprintf("%s/resources/%d", section, object), k.objectType
	if k.typ == "SessionEvent" {
		objID, objType = "https://example.edu", "SoftwareApplication"
	}
	ev := map[string]any{
		"@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
		"id":       "urn:uuid:" + uuidString(id),
		"type":     k.typ,
		"profile":  k.profile,
		"actor": map[string]any{
			"id":   fmt.Sprintf("https://example.edu/users/%d", actor),
			"type": "Person",
		},
		"action": k.actions[r.IntN(len(k.actions))],
		"object": map[string]any{
			"id":          objID,
			"type":        objType,
			"name":        fmt.Sprintf("Resource %d", object),
			"dateCreated": "2018-08-01T06:00:00.000Z",
			"isPartOf": map[string]any{
				"id":   section,
				"type": "CourseSection",
			},
		},
		"eventTime": at.Format("2006-01-02T15:04:05.000Z"),
		"edApp": map[string]any{
			"id":   "https://example.edu",
			"type": "SoftwareApplication",
		},
		"group": map[string]any{
			"id":              section,
			"type":            "CourseSection",
			"courseNumber":    fmt.Sprintf("CPS %d-01", 100+course%900),
			"academicSession": fmt.Sprintf("Term %d", term),
		},
		"membership": map[string]any{
			"id":           fmt.Sprintf("%s/rosters/1", section),
			"type":         "Membership",
			"member":       fmt.Sprintf("https://example.edu/users/%d", actor),
			"organization": section,
			"roles":        []string{"Learner"},
			"status":       "Active",
		},
		"session": map[string]any{
			"id":            fmt.Sprintf("https://example.edu/sessions/%016x", r.Uint64()),
			"type":          "Session",
			"startedAtTime": at.Add(-time.Duration(r.IntN(3600)) * time.Second).Format("2006-01-02T15:04:05.000Z"),
		},
	}
	if k.typ == "MediaEvent" {
		ev["target"] = map[string]any{
			"id":          objID + "#t=" + fmt.Sprint(r.IntN(3600)),
			"type":        "MediaLocation",
			"currentTime": fmt.Sprintf("PT%dS", r.IntN(3600)),
		}
	}
	if k.typ == "NavigationEvent" {
		ev["referrer"] = map[string]any{"id": section, "type": "WebPage"}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	session := ev["session"].(map[string]any)["id"].(string)
	return Row{
		ID: id, Type: k.typ, Action: ev["action"].(string), Profile: k.profile,
		ActorID:  fmt.Sprintf("https://example.edu/users/%d", actor),
		ObjectID: objID, ObjectType: objType, GroupID: section, SessionID: session,
		EdAppID: "https://example.edu", EventTime: at, Data: b,
	}
}

// Envelope returns an envelope of n events.
func (g *Generator) Envelope(n int) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = string(g.Event())
	}
	return []byte(`{"sensor":"https://example.edu/sensors/lms","sendTime":"` +
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z") +
		`","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` + strings.Join(items, ",") + `]}`)
}

func (g *Generator) uuid() [16]byte {
	var b [16]byte
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return b
}

func uuidString(b [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
