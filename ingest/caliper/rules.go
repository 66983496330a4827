package caliper

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// propKind is what a property's value must be.
type propKind uint8

const (
	kindAny propKind = iota
	kindString
	kindNumber
	kindInteger
	kindBoolean
	kindDateTime
	kindDuration
	kindObject  // a JSON object (extensions, LTI claims)
	kindEntity  // an entity of allowed types, or an IRI
	kindEnum    // a term of a generated vocabulary
	kindVocab   // a term of a hand-written vocabulary
	kindAction  // an action term
	kindProfile // a profile term
)

// propRule is one property's rule, as written in the tables.
type propRule struct {
	kind      propKind
	list      bool
	set       int      // kindEntity: index into schemaTypeSets (generated rules)
	types     []string // kindEntity: allowed types (hand-written rules)
	anyEntity bool     // kindEntity: any entity type
	vocab     int      // kindEnum: index into schemaVocabularies
	words     []string // kindVocab
}

// rule is a propRule compiled for lookups.
type rule struct {
	kind    propKind
	list    bool
	allowed map[string]bool // nil: any entity type
	words   map[string]bool
	expect  string // what the value must be, for messages
}

// Compiled tables, built once at start from the generated and hand-written data.
var (
	typeRules    map[string]map[string]*rule // type → property → rule
	contextRules = map[string]*rule{}        // property → rule, from the context alone
	actionsFor   = map[string]map[string]map[string]bool{version11: {}, version12: {}}
	actionTerms  = map[string]bool{}
	// actionsFor11Core: the 1.1 event types that need no extension context.
	actionsFor11Core = map[string]map[string]bool{}
	profileSet       = toSet(profiles)
)

func init() {
	// The spec's own example (caliperEnvelopeTermLISRole) uses the LIS role
	// Manager#Manager, which its schema and context leave out.
	for i, words := range schemaVocabularies {
		if slices.Contains(words, "Learner#Learner") && !slices.Contains(words, "Manager#Manager") {
			schemaVocabularies[i] = append(slices.Clone(words), "Manager#Manager")
		}
	}
	for name, p := range contextTerms {
		contextRules[name] = compile(p)
	}
	typeRules = make(map[string]map[string]*rule, len(schemaProps))
	for typ, props := range schemaProps {
		m := make(map[string]*rule, len(props)+len(entityBaseProps))
		if _, isEntity := entityParents[typ]; isEntity {
			for name, p := range entityBaseProps {
				m[name] = compile(p)
			}
		}
		for name, p := range props {
			m[name] = compile(p)
		}
		for name, p := range propOverlays[typ] {
			m[name] = compile(p)
		}
		typeRules[typ] = m
	}
	for typ := range entityParents {
		if _, ok := typeRules[typ]; !ok {
			m := map[string]*rule{}
			for name, p := range entityBaseProps {
				m[name] = compile(p)
			}
			typeRules[typ] = m
		}
	}
	for typ, props := range entityTypeOverlays {
		for name, types := range props {
			narrow(typ, name, types)
		}
	}
	for typ := range actionsFor11And12() {
		for name, types := range eventDefaults {
			narrow(typ, name, types)
		}
		for name, types := range eventEntityTypes[typ] {
			narrow(typ, name, types)
		}
	}
	// A type has its supertypes' properties too: the schema leaves some out
	// (Forum.isPartOf, DigitalResourceCollection.keywords).
	inherited := make(map[string]map[string]*rule, len(typeRules))
	for typ := range typeRules {
		m := map[string]*rule{}
		inherit(typ, m)
		inherited[typ] = m
	}
	typeRules = inherited
	for _, a := range allActions {
		actionTerms[a] = true
	}
	for alias := range actionAliases {
		actionTerms[alias] = true
	}
	for typ, actions := range eventActions12 {
		actionsFor[version12][typ] = withAliases(actions)
	}
	for _, typ := range eventTypes11Core {
		actionsFor[version11][typ] = withAliases(append(slices.Clone(eventActions12[typ]), eventActions11Extra[typ]...))
	}
	for typ, acts := range actionsFor[version11] {
		actionsFor11Core[typ] = acts
	}
	for _, types := range extensionEventTypes {
		for _, typ := range types {
			actionsFor[version11][typ] = withAliases(eventActions12[typ])
		}
	}
}

// narrow sets the entity types typ.name accepts, keeping whether it is a list.
func narrow(typ, name string, types []string) {
	if typeRules[typ] == nil {
		typeRules[typ] = map[string]*rule{}
	}
	list := false
	if old := lookup(typ, name); old != nil {
		list = old.list
	}
	typeRules[typ][name] = compile(propRule{kind: kindEntity, list: list, types: types})
}

// lookup finds typ.name's rule on typ or its nearest ancestor.
func lookup(typ, name string) *rule {
	if r, ok := typeRules[typ][name]; ok {
		return r
	}
	for _, parent := range entityParents[typ] {
		if r := lookup(parent, name); r != nil {
			return r
		}
	}
	return nil
}

// actionsFor11And12 lists every event type of either version.
func actionsFor11And12() map[string]bool {
	m := map[string]bool{}
	for typ := range eventActions12 {
		m[typ] = true
	}
	for _, typ := range eventTypes11Core {
		m[typ] = true
	}
	return m
}

// inherit fills m with typ's rules and its ancestors', nearest first.
func inherit(typ string, m map[string]*rule) {
	for name, r := range typeRules[typ] {
		if _, ok := m[name]; !ok {
			m[name] = r
		}
	}
	for _, parent := range entityParents[typ] {
		inherit(parent, m)
	}
}

func compile(p propRule) *rule {
	r := &rule{kind: p.kind, list: p.list}
	switch p.kind {
	case kindEntity:
		switch {
		case p.anyEntity:
		case p.types != nil:
			r.allowed = toSet(p.types)
		case coversEntity(schemaTypeSets[p.set][:]):
			// The schema spells "Entity or a subtype" as the list of every
			// entity type; its range is Entity, so a generic Entity fits.
		default:
			r.allowed = toSet(schemaTypeSets[p.set][:])
		}
		r.expect = describeTypes(r.allowed)
	case kindEnum:
		r.words = toSet(schemaVocabularies[p.vocab][:])
	case kindVocab:
		r.words = toSet(p.words)
	}
	return r
}

func withAliases(actions []string) map[string]bool {
	set := toSet(actions)
	for alias, canonical := range actionAliases {
		if set[canonical] {
			set[alias] = true
		}
	}
	return set
}

func toSet(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isA reports whether typ is one of allowed or a subtype of one.
func isA(typ string, allowed map[string]bool) bool {
	if allowed == nil || allowed[typ] {
		return true
	}
	for _, parent := range entityParents[typ] {
		if isA(parent, allowed) {
			return true
		}
	}
	return false
}

// describeTypes names a set of types for a message: "a Session or LtiSession".
func describeTypes(allowed map[string]bool) string {
	if allowed == nil {
		return "an entity"
	}
	// Leave out types whose supertype is listed: "DigitalResource" says it for its subtypes.
	var names []string
	for t := range allowed {
		covered := false
		for _, p := range entityParents[t] {
			if isA(p, allowed) {
				covered = true
			}
		}
		if !covered {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	if len(names) > 6 {
		return "an entity of one of " + strings.Join(names[:6], ", ") + " and " + strconv.Itoa(len(names)-6) + " more types"
	}
	if len(names) == 1 {
		return article(names[0]) + " " + names[0] + " (or a subtype)"
	}
	return "one of " + strings.Join(names, ", ") + " (or a subtype)"
}

// coversEntity reports whether types lists every direct subtype of Entity,
// which is how the JSON schema writes a range of Entity.
func coversEntity(types []string) bool {
	set := toSet(types)
	for typ, parents := range entityParents {
		if len(parents) == 1 && parents[0] == "Entity" && !set[typ] {
			return false
		}
	}
	return true
}

// article is the indefinite article for a type name: "an Assessment", "a Person".
func article(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an"
	}
	return "a"
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
