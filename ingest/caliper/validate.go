package caliper

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Mode says how much of Caliper the validator enforces.
type Mode int

const (
	// Strict enforces the whole spec: types, actions, property kinds, vocabularies.
	Strict Mode = iota
	// Lenient checks the envelope and each item's required properties only, for
	// sensors that cannot be fixed. What is not Caliper at all is still refused.
	Lenient
)

// ParseMode reads "strict" or "lenient".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "strict":
		return Strict, nil
	case "lenient":
		return Lenient, nil
	}
	return 0, fmt.Errorf("unknown validation mode %q (want strict or lenient)", s)
}

func (m Mode) String() string {
	if m == Lenient {
		return "lenient"
	}
	return "strict"
}

// Validator checks the items of a decoded envelope and reports every problem
// it finds (up to MaxProblems) with a path into the envelope. Its rules are
// tables: caliper_schema.go (generated from the Caliper JSON schema) and
// caliper_rules.go (event actions, the entity tree, vocabularies).
type Validator struct {
	mode Mode
}

// NewValidator returns a Validator for mode.
func NewValidator(mode Mode) *Validator { return &Validator{mode: mode} }

// Mode returns the validator's mode.
func (v *Validator) Mode() Mode { return v.mode }

// Validate checks every item of env. The error is an *Error: KindMalformed
// for an item that is not valid Caliper, or KindConflict for an event id that
// the envelope repeats with other content (it could be stored only once).
func (v *Validator) Validate(env *Envelope) error {
	var r Report
	ver := version12
	if env.DataVersion == V1p1 {
		ver = version11
	}
	for i, it := range env.Items {
		c := checker{r: &r, index: i, strict: v.mode == Strict, version: ver}
		c.item(ItemPath(i), it.Doc)
		c.indexedLengths(ItemPath(i), it.Doc)
	}
	if err := r.Err(KindMalformed); err != nil {
		return err
	}
	return repeatedEvents(env)
}

// repeatedEvents finds events whose id an earlier item of the envelope has
// with other content. An identical repeat is fine: it is stored once.
func repeatedEvents(env *Envelope) error {
	var r Report
	first := make(map[uuid.UUID]int, len(env.Items))
	for i, it := range env.Items {
		doc, ok := it.Doc.(map[string]any)
		if !ok || !IsEvent(doc) {
			continue
		}
		id, err := EventID(doc["id"].(string))
		if err != nil {
			continue
		}
		j, seen := first[id]
		if !seen {
			first[id] = i
			continue
		}
		if !EqualJSON(env.Items[j].Doc, doc) {
			r.Add(i, ItemPath(i)+".id", "event urn:uuid:%s appears twice in this envelope with different content (also at data[%d])", id, j)
		}
	}
	return r.Err(KindConflict)
}

// checker validates one item; it carries the item's index and Caliper version.
type checker struct {
	r       *Report
	index   int
	strict  bool
	version string
	exts    map[string]bool // 1.1 profile-extension contexts in force
	extra   string          // the first non-Caliper context the item declares, for messages
}

func (c *checker) add(path, format string, args ...any) { c.r.Add(c.index, path, format, args...) }

func (c *checker) item(path string, doc any) {
	switch d := doc.(type) {
	case string:
		if !isIRI(d) {
			c.add(path, "a bare item must be an IRI naming an entity, got %q", truncate(d))
		}
	case map[string]any:
		ctx, hasContext := d["@context"]
		if hasContext {
			c.context(path+".@context", ctx)
		}
		if IsEvent(d) {
			if !hasContext || ctx == nil {
				c.add(path+".@context", "required event property is missing: the Caliper context IRI")
			}
			c.event(path, d)
		} else {
			c.entity(path, d, nil, true)
		}
	default:
		c.add(path, "must be an event or entity object, or an entity IRI; got %s", jsonKind(doc))
	}
}

// eventRequired lists the properties every event must have.
var eventRequired = []string{"id", "type", "actor", "action", "object", "eventTime"}

// eventEntityProps are the event properties that hold an entity, checked for
// form in lenient mode (strict mode checks their types from the tables).
var eventEntityProps = []string{
	"actor", "object", "generated", "target", "referrer", "group", "membership",
	"session", "federatedSession", "edApp",
}

func (c *checker) event(path string, doc map[string]any) {
	for _, name := range eventRequired {
		if val, ok := doc[name]; !ok || val == nil {
			c.add(path+"."+name, "required event property is missing")
		}
	}
	c.eventID(path+".id", doc["id"])
	if t, ok := doc["eventTime"]; ok && t != nil {
		c.dateTime(path+".eventTime", t)
	}
	typ, typeOK := doc["type"].(string)
	if _, present := doc["type"]; present && !typeOK {
		c.add(path+".type", "must be a string naming an event type, got %s", describe(doc["type"]))
	}
	action, actionOK := doc["action"].(string)
	if _, present := doc["action"]; present && doc["action"] != nil && !actionOK {
		c.add(path+".action", "must be a string naming an action, got %s", describe(doc["action"]))
	}
	if !c.strict {
		for _, name := range eventEntityProps {
			if val, ok := doc[name]; ok && val != nil {
				c.entityForm(path+"."+name, val, name == "actor")
			}
		}
		if val, ok := doc["extensions"]; ok {
			if _, isObj := val.(map[string]any); !isObj {
				c.add(path+".extensions", "must be a JSON object, got %s", jsonKind(val))
			}
		}
		return
	}

	known := c.eventTypes()
	allowedActions, typeKnown := known[typ]
	if typeOK && !typeKnown {
		if c.extra != "" {
			c.add(path+".type", "unknown event type %q for Caliper %s: the extra context %s may define it, "+
				"but strict validation stores only Caliper's event types (lenient validation accepts it)",
				truncate(typ), c.version, c.extra)
		} else {
			c.add(path+".type", "unknown event type %q for Caliper %s", truncate(typ), c.version)
		}
	}
	if actionOK && typeKnown && !allowedActions[action] {
		if !actionTerms[action] {
			c.add(path+".action", "unknown action %q", truncate(action))
		} else {
			c.add(path+".action", "action %q is not allowed for %s in Caliper %s (allowed: %s)",
				action, typ, c.version, strings.Join(sortedKeys(allowedActions), ", "))
		}
	}
	if !typeKnown {
		return // without the type, property rules are unknown
	}
	rules := typeRules[typ]
	for name, val := range doc {
		switch name {
		case "@context", "id", "type", "eventTime", "action":
			continue
		case "profile":
			c.profile(path+".profile", val)
			continue
		}
		rl, ok := rules[name]
		if !ok {
			if rl, ok = contextRules[name]; !ok {
				c.add(path+"."+name, "unknown property for %s; custom data belongs under extensions", typ)
				continue
			}
		}
		if val == nil {
			if name == "actor" || name == "object" {
				continue // reported as missing above
			}
			c.add(path+"."+name, "must not be null; leave the property out instead")
			continue
		}
		c.value(path+"."+name, val, rl)
	}
	// Requirements that depend on the action (SPEC-NOTES §2).
	if typ == "ToolLaunchEvent" && action == "Launched" && doc["federatedSession"] == nil {
		c.add(path+".federatedSession", "required when a ToolLaunchEvent is Launched")
	}
	if typ == "ResourceManagementEvent" && action == "Copied" && doc["generated"] == nil {
		c.add(path+".generated", "required when a ResourceManagementEvent is Copied: the copy")
	}
}

// eventTypes returns the event types, with their actions, valid for the item's
// version: in 1.1, a profile-extension event type only under its extension context.
func (c *checker) eventTypes() map[string]map[string]bool {
	if c.version == version12 {
		return actionsFor[version12]
	}
	if len(c.exts) == 0 {
		return actionsFor11Core
	}
	m := make(map[string]map[string]bool, len(actionsFor11Core)+4)
	for typ, acts := range actionsFor11Core {
		m[typ] = acts
	}
	for ext := range c.exts {
		for _, typ := range extensionEventTypes[ext] {
			m[typ] = actionsFor[version11][typ]
		}
	}
	return m
}

// context checks @context: a Caliper context IRI, an inline context object, or
// an array of them whose last IRI element is Caliper's. It sets the item's version.
func (c *checker) context(path string, v any) {
	switch ctx := v.(type) {
	case string:
		c.contextIRI(path, ctx, true)
	case map[string]any:
		// An inline JSON-LD context (the spec's own examples use one): it defines its terms.
		c.noteExtra("an inline context")
	case []any:
		if len(ctx) == 0 {
			c.add(path, "must not be an empty array")
			return
		}
		caliperAt := -1
		for j, e := range ctx {
			switch x := e.(type) {
			case string:
				if c.contextIRI(path+"["+strconv.Itoa(j)+"]", x, false) {
					caliperAt = j
				}
			case map[string]any:
				c.noteExtra("an inline context")
			default:
				c.add(path+"["+strconv.Itoa(j)+"]", "must be a context IRI or an inline context object, got %s", jsonKind(e))
			}
		}
		switch {
		case !c.strict:
		case caliperAt < 0:
			if _, inline := ctx[len(ctx)-1].(map[string]any); !inline {
				c.add(path, "must include the Caliper context IRI, such as %q", V1p2)
			}
		case c.version == version12 && caliperAt != len(ctx)-1:
			// 1.2 puts Caliper's context last so that it wins over the others;
			// 1.1 extension arrays ([v1p1, {…}]) put it first.
			c.add(path, "the Caliper 1.2 context must be the last element of the array")
		}
	default:
		c.add(path, "must be the Caliper context IRI, an inline context or an array of contexts, got %s", jsonKind(v))
	}
}

// contextIRI records a Caliper context IRI's version; it reports whether s is one.
// Alone (not in an array), an IRI that is not Caliper's is an error in strict mode.
func (c *checker) contextIRI(path, s string, alone bool) bool {
	n := NormaliseIRI(s)
	switch {
	case n == V1p2:
		c.version = version12
	case n == V1p1:
		c.version = version11
	case extensionEventTypes[n] != nil:
		c.version = version11
		if c.exts == nil {
			c.exts = map[string]bool{}
		}
		c.exts[n] = true
	default:
		switch {
		case s == "":
			c.add(path, "must not be empty")
		case alone && c.strict:
			c.add(path, "unknown context %q; Caliper data uses %q or %q", truncate(s), V1p2, V1p1)
		default:
			c.noteExtra(strconv.Quote(truncate(s)))
		}
		return false
	}
	return true
}

// noteExtra records a context other than Caliper's: its types may then be
// ones Caliper does not define.
func (c *checker) noteExtra(name string) {
	if c.extra == "" {
		c.extra = name
	}
}

// profile checks the 1.2 profile property. A 1.1 document may carry it too
// (see docs/conformance.md, "1.1 documents with 1.2 terms").
func (c *checker) profile(path string, v any) {
	s, ok := v.(string)
	switch {
	case !ok:
		c.add(path, "must be a profile name string, got %s", describe(v))
	case !profileSet[s]:
		c.add(path, "unknown profile %q (known: %s)", truncate(s), strings.Join(profiles, ", "))
	}
}

// entity checks an entity object against its type's rules. allowed limits its
// type (nil: any entity). top is true for an envelope item ("describes").
func (c *checker) entity(path string, doc map[string]any, allowed map[string]bool, top bool) {
	typVal, hasType := doc["type"]
	typ, typeOK := typVal.(string)
	switch {
	case !hasType || typVal == nil:
		c.add(path+".type", "required entity property is missing")
	case !typeOK || typ == "":
		c.add(path+".type", "must be a string naming an entity type, got %s", describe(typVal))
	}
	_, known := entityParents[typ]
	rulesOf := typ // the type whose property rules apply
	if c.strict && typeOK && typ != "" {
		_, isEvent := actionsFor[version12][typ]
		switch {
		case !known && isEvent && !top:
			c.add(path+".type", "an event (%s) cannot stand where an entity is expected", typ)
		case !known && c.extra != "":
			// A type of the extra context: checked as a generic Entity. It may
			// subtype what the property expects, so the range is not checked.
			rulesOf, known = "Entity", true
		case !known:
			c.add(path+".type", "unknown entity type %q (a type from another vocabulary needs its context in the item's @context)", truncate(typ))
		case c.version == version12 && entityTypes11Only[typ]:
			c.add(path+".type", "%s is a Caliper 1.1 type, not valid in 1.2", typ)
		case !isA(typ, allowed):
			c.add(path+".type", "%s is not allowed here; expected %s", typ, describeTypes(allowed))
		}
	}

	idVal, hasID := doc["id"]
	switch {
	case !hasID && top && idlessTypes[typ]:
		c.add(path+".id", "a %s has no id and cannot be stored on its own; send it inside the entity it belongs to", typ)
	case !hasID && idlessTypes[typ]:
	case !hasID || idVal == nil:
		c.add(path+".id", "required entity property is missing")
	default:
		if s, ok := idVal.(string); !ok || !isIRI(s) {
			c.add(path+".id", "must be an IRI, got %s", describe(idVal))
		}
	}
	if !c.strict || !known {
		if val, ok := doc["extensions"]; ok {
			if _, isObj := val.(map[string]any); !isObj {
				c.add(path+".extensions", "must be a JSON object, got %s", jsonKind(val))
			}
		}
		return
	}
	rules := typeRules[rulesOf]
	for name, val := range doc {
		switch name {
		case "@context", "id", "type":
			continue
		}
		rl, ok := rules[name]
		if !ok {
			if rl, ok = contextRules[name]; !ok {
				c.add(path+"."+name, "unknown property for %s; custom data belongs under extensions", typ)
				continue
			}
		}
		if val == nil {
			c.add(path+"."+name, "must not be null; leave the property out instead")
			continue
		}
		c.value(path+"."+name, val, rl)
	}
	for _, name := range requiredProps[rulesOf] {
		if _, ok := doc[name]; !ok {
			c.add(path+"."+name, "required %s property is missing", typ)
		}
	}
}

// entityForm is lenient mode's check of an entity-valued property: an IRI, or
// an object. The actor must be identified (an IRI id and a type); any other
// entity may be a JSON-LD blank node, without id or type, as some emitters
// (Open edX's event-routing-backends among them) write — an id it has must
// still be an IRI.
func (c *checker) entityForm(path string, v any, identified bool) {
	switch e := v.(type) {
	case string:
		if !isIRI(e) {
			c.add(path, "must be an entity or an IRI, got %q", truncate(e))
		}
	case map[string]any:
		typ, hasType := e["type"]
		if s, ok := typ.(string); (identified || hasType) && (!ok || s == "") {
			c.add(path+".type", "an entity must have a type, got %s", describe(typ))
		}
		id, hasID := e["id"]
		if !hasID && (!identified || idlessTypes[stringOf(typ)]) {
			return
		}
		if s, ok := id.(string); !ok || !isIRI(s) {
			c.add(path+".id", "an entity must have an IRI id, got %s", describe(id))
		}
	default:
		c.add(path, "must be an entity object or an IRI, got %s", jsonKind(v))
	}
}

// value checks one property value against its rule.
func (c *checker) value(path string, v any, rl *rule) {
	if rl.list {
		arr, ok := v.([]any)
		if !ok {
			c.add(path, "must be a list, got %s", jsonKind(v))
			return
		}
		single := *rl
		single.list = false
		for j, e := range arr {
			c.value(path+"["+strconv.Itoa(j)+"]", e, &single)
		}
		return
	}
	switch rl.kind {
	case kindAny:
	case kindString:
		if _, ok := v.(string); !ok {
			c.add(path, "must be a string, got %s", jsonKind(v))
		}
	case kindNumber:
		if _, ok := v.(json.Number); !ok {
			c.add(path, "must be a number, got %s", describe(v))
		}
	case kindInteger:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "must be an integer, got %s", describe(v))
		} else if !isInteger(n) {
			c.add(path, "must be an integer, got %s", n)
		}
	case kindBoolean:
		if _, ok := v.(bool); !ok {
			c.add(path, "must be true or false, got %s", describe(v))
		}
	case kindDateTime:
		c.dateTime(path, v)
	case kindDuration:
		if s, ok := v.(string); !ok || !isDuration(s) {
			c.add(path, "must be an ISO 8601 duration such as PT1H30M, got %s", describe(v))
		}
	case kindObject:
		if _, ok := v.(map[string]any); !ok {
			c.add(path, "must be a JSON object, got %s", describe(v))
		}
	case kindEnum, kindVocab:
		if s, ok := v.(string); !ok || !rl.words[s] {
			c.add(path, "must be one of %s; got %s", strings.Join(sortedKeys(rl.words), ", "), describe(v))
		}
	case kindAction:
		if s, ok := v.(string); !ok || !actionTerms[s] {
			c.add(path, "must be a Caliper action term, got %s", describe(v))
		}
	case kindProfile:
		c.profile(path, v)
	case kindEntity:
		switch e := v.(type) {
		case string:
			if !isIRI(e) {
				c.add(path, "must be %s or its IRI, got %q", rl.expect, truncate(e))
			}
		case map[string]any:
			c.entity(path, e, rl.allowed, false)
		default:
			c.add(path, "must be %s or its IRI, got %s", rl.expect, jsonKind(v))
		}
	}
}

func (c *checker) dateTime(path string, v any) {
	s, ok := v.(string)
	if !ok {
		c.add(path, "must be an ISO 8601 date-time string, got %s", jsonKind(v))
		return
	}
	if _, err := ParseDateTime(s); err != nil {
		c.add(path, "must be an ISO 8601 date-time such as 2018-11-15T10:15:00.000Z, got %q", truncate(s))
	}
}

// eventID checks an event id: urn:uuid:<uuid>, or in lenient mode also the
// bare UUID some sensors send (kept as sent; it dedupes on the UUID).
func (c *checker) eventID(path string, v any) {
	if v == nil {
		return // reported as missing
	}
	s, ok := v.(string)
	if !ok {
		c.add(path, "must be a string of the form urn:uuid:<uuid>, got %s", jsonKind(v))
		return
	}
	if _, err := EventID(s); err != nil || c.strict && !hasURNPrefix(s) {
		c.add(path, "must be of the form urn:uuid:<uuid>, got %q", truncate(s))
	}
}

// EventID parses an event id: "urn:uuid:" followed by a canonical UUID, or the
// canonical UUID alone (which only lenient validation lets through). uuid.Parse
// by itself would also take braces and other forms.
func EventID(s string) (uuid.UUID, error) {
	rest, _ := cutPrefixFold(s, "urn:uuid:")
	if len(rest) != 36 {
		return uuid.UUID{}, errBadEventID
	}
	return uuid.Parse(rest)
}

func hasURNPrefix(s string) bool {
	_, ok := cutPrefixFold(s, "urn:uuid:")
	return ok
}

var errBadEventID = errors.New("not a urn:uuid id")

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func isInteger(n json.Number) bool {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return true
	}
	f, ok := new(big.Float).SetString(string(n))
	return ok && f.IsInt()
}

// durationRE is ISO 8601 / xsd:duration: PnYnMnDTnHnMnS, at least one part.
var durationRE = regexp.MustCompile(`^-?P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)

func isDuration(s string) bool {
	return durationRE.MatchString(s) && s != "P" && s != "-P" && !strings.HasSuffix(s, "T")
}

// idlessTypes are the entity types the spec defines without an id.
var idlessTypes = map[string]bool{"TextPositionSelector": true, "SystemIdentifier": true}

// IsEvent tells events from entities among an envelope's items: Caliper event
// types all end in "Event", and only events carry an action.
func IsEvent(doc map[string]any) bool {
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
		ch := s[j]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z':
		case j > 0 && ('0' <= ch && ch <= '9' || ch == '+' || ch == '-' || ch == '.'):
		default:
			return false
		}
	}
	return !strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`")
}

// ItemPath is the path of an envelope item: data[i].
func ItemPath(i int) string { return "data[" + strconv.Itoa(i) + "]" }

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
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(truncate(x))
	case json.Number:
		return "the number " + string(x)
	}
	return jsonKind(v)
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
