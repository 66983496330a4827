package ingest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Validator checks the items of a decoded envelope. It reports every problem
// it finds (up to MaxProblems) with a path into the envelope.
//
// The checks are rules in tables: what an event requires, which properties
// hold entities. Full per-type Caliper rules extend these tables.
type Validator struct{}

// NewValidator returns a Validator.
func NewValidator() *Validator { return &Validator{} }

// Validate checks every item of env. The error is an *Error of KindMalformed.
func (v *Validator) Validate(env *Envelope) error {
	var r report
	for i, it := range env.Items {
		p := itemPath(i)
		switch doc := it.Doc.(type) {
		case string:
			if !isIRI(doc) {
				r.add(i, p, "a bare item must be an IRI naming an entity, got %q", truncate(doc))
			}
		case map[string]any:
			if isEvent(doc) {
				v.checkEvent(&r, i, p, doc)
			} else {
				v.checkEntity(&r, i, p, doc)
			}
		default:
			r.add(i, p, "must be an event or entity object, or an entity IRI; got %s", jsonKind(doc))
		}
	}
	return r.err(KindMalformed)
}

// eventRequired lists the properties every event must have, with their checks.
var eventRequired = []struct {
	name  string
	check func(r *report, i int, path string, v any)
}{
	{"@context", checkContext},
	{"id", checkEventID},
	{"type", checkTerm},
	{"actor", checkEntityRef},
	{"action", checkTerm},
	{"object", checkEntityRef},
	{"eventTime", checkDateTime},
}

// eventEntityProps are the optional event properties that hold an entity.
var eventEntityProps = []string{
	"generated", "target", "referrer", "group", "membership",
	"session", "federatedSession", "edApp",
}

func (v *Validator) checkEvent(r *report, i int, path string, doc map[string]any) {
	for _, f := range eventRequired {
		val, ok := doc[f.name]
		if !ok || val == nil {
			r.add(i, path+"."+f.name, "required event property is missing")
			continue
		}
		f.check(r, i, path+"."+f.name, val)
	}
	for _, name := range eventEntityProps {
		if val, ok := doc[name]; ok && val != nil {
			checkEntityRef(r, i, path+"."+name, val)
		}
	}
	if val, ok := doc["profile"]; ok {
		checkTerm(r, i, path+".profile", val)
	}
	if val, ok := doc["extensions"]; ok {
		if _, isObj := val.(map[string]any); !isObj {
			r.add(i, path+".extensions", "must be a JSON object, got %s", jsonKind(val))
		}
	}
}

func (v *Validator) checkEntity(r *report, i int, path string, doc map[string]any) {
	typ, hasType := doc["type"]
	if !hasType || typ == nil {
		r.add(i, path+".type", "required entity property is missing")
	} else {
		checkTerm(r, i, path+".type", typ)
	}
	id, hasID := doc["id"]
	if !hasID || id == nil {
		r.add(i, path+".id", "required entity property is missing")
		return
	}
	s, ok := id.(string)
	if !ok || !isIRI(s) {
		r.add(i, path+".id", "must be an IRI, got %s", describe(id))
	}
}

func checkContext(r *report, i int, path string, v any) {
	switch c := v.(type) {
	case string:
		if c == "" {
			r.add(i, path, "must name the Caliper context")
		}
	case map[string]any:
		// An inline JSON-LD context: the spec's own examples use one.
	case []any:
		if len(c) == 0 {
			r.add(i, path, "must not be an empty array")
			return
		}
		for j, e := range c {
			switch e.(type) {
			case string, map[string]any:
			default:
				r.add(i, path+"["+strconv.Itoa(j)+"]", "must be a context IRI or an inline context object, got %s", jsonKind(e))
			}
		}
	default:
		r.add(i, path, "must be the Caliper context IRI, an inline context or an array of contexts, got %s", jsonKind(v))
	}
}

func checkEventID(r *report, i int, path string, v any) {
	s, ok := v.(string)
	if !ok {
		r.add(i, path, "must be a string of the form urn:uuid:<uuid>, got %s", jsonKind(v))
		return
	}
	if _, err := parseEventID(s); err != nil {
		r.add(i, path, "must be of the form urn:uuid:<uuid>, got %q", truncate(s))
	}
}

// parseEventID accepts exactly "urn:uuid:" followed by a canonical UUID
// (uuid.Parse alone would also take braces or a bare UUID).
func parseEventID(s string) (uuid.UUID, error) {
	rest, ok := cutPrefixFold(s, "urn:uuid:")
	if !ok || len(rest) != 36 {
		return uuid.UUID{}, errBadEventID
	}
	return uuid.Parse(rest)
}

var errBadEventID = errors.New("not a urn:uuid id")

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func checkTerm(r *report, i int, path string, v any) {
	s, ok := v.(string)
	if !ok || s == "" {
		r.add(i, path, "must be a non-empty string, got %s", describe(v))
	}
}

func checkDateTime(r *report, i int, path string, v any) {
	s, ok := v.(string)
	if !ok {
		r.add(i, path, "must be an ISO 8601 date-time string, got %s", jsonKind(v))
		return
	}
	if _, err := ParseDateTime(s); err != nil {
		r.add(i, path, "must be an ISO 8601 date-time such as 2018-11-15T10:15:00.000Z, got %q", truncate(s))
	}
}

// idlessTypes are the entity types the spec defines without an id.
var idlessTypes = map[string]bool{"TextPositionSelector": true, "SystemIdentifier": true}

// checkEntityRef checks a property that holds an entity: an IRI string, or an
// object with an IRI id and a type.
func checkEntityRef(r *report, i int, path string, v any) {
	switch e := v.(type) {
	case string:
		if !isIRI(e) {
			r.add(i, path, "must be an entity or an IRI, got %q", truncate(e))
		}
	case map[string]any:
		typ, _ := e["type"].(string)
		if typ == "" {
			r.add(i, path+".type", "an entity must have a type")
		}
		id, hasID := e["id"]
		if !hasID && idlessTypes[typ] {
			return
		}
		if s, ok := id.(string); !ok || !isIRI(s) {
			r.add(i, path+".id", "an entity must have an IRI id, got %s", describe(id))
		}
	default:
		r.add(i, path, "must be an entity object or an IRI, got %s", jsonKind(v))
	}
}

// isEvent tells events from entities among an envelope's items: Caliper event
// types all end in "Event", and only events carry an action.
func isEvent(doc map[string]any) bool {
	if t, ok := doc["type"].(string); ok && strings.HasSuffix(t, "Event") {
		return true
	}
	_, hasAction := doc["action"]
	return hasAction
}

// isIRI reports whether s looks like an absolute IRI (scheme ":" rest) or a
// JSON-LD blank node identifier ("_:b0").
func isIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 || colon == len(s)-1 {
		return false
	}
	if s[:colon] == "_" {
		return true
	}
	for j := 0; j < colon; j++ {
		c := s[j]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return !strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`")
}

func itemPath(i int) string { return "data[" + strconv.Itoa(i) + "]" }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(truncate(s))
	}
	return jsonKind(v)
}

func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
