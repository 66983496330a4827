package caliper

import "strings"

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

// idlessTypes are the entity types the spec defines without an id.
var idlessTypes = map[string]bool{"TextPositionSelector": true, "SystemIdentifier": true}

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
