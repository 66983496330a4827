package caliper

import (
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

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

// IsEvent tells events from entities among an envelope's items: Caliper event
// types all end in "Event", and only events carry an action.
func IsEvent(doc map[string]any) bool {
	if t, ok := doc["type"].(string); ok && strings.HasSuffix(t, "Event") {
		return true
	}
	_, hasAction := doc["action"]
	return hasAction
}
