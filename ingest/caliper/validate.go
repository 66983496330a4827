package caliper

import (
	"fmt"

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
