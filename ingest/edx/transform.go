package edx

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Caliper 1.2 context and the anonymous Person of the spec.
const (
	caliperContext  = "http://purl.imsglobal.org/ctx/caliper/v1p2"
	anonymousPerson = "http://purl.imsglobal.org/caliper/Person"
)

// Anonymous says what to do with an event that names no user.
type Anonymous int

const (
	// SkipAnonymous drops the event and counts it.
	SkipAnonymous Anonymous = iota
	// AnonymousPerson keeps it with Caliper's anonymous Person as actor.
	AnonymousPerson
)

// Config configures a Transformer.
type Config struct {
	LMSURL             string            // LMS root, e.g. https://lms.example.edu
	ActorSecret        string            // HMAC key for pseudonymous actor ids
	ActorMap           map[string]string // user id or username → anonymous id; tried before the secret
	Courses            map[string]string // course id → display name
	TransformerVersion string            // extensions.transformerVersion
	Compat             bool              // reproduce the reference transformer ("erb") exactly
	Anonymous          Anonymous
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if err := CheckLMSURL(c.LMSURL); err != nil {
		errs = append(errs, err)
	}
	if c.ActorSecret == "" && len(c.ActorMap) == 0 {
		errs = append(errs, errors.New("an actor secret (--actor-secret, LRS_ACTOR_SECRET) or an actor map (--actor-map) is required: learners' ids are never sent in the clear"))
	}
	return errors.Join(errs...)
}

// CheckLMSURL accepts an absolute http or https URL with a host and no user
// name, query or fragment: every id the transformer writes is an IRI under it. The error
// names the flag and variable.
func CheckLMSURL(s string) error {
	if s == "" {
		return errors.New("the LMS URL is required (--lms-url, LRS_LMS_URL)")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("--lms-url (LRS_LMS_URL) must be an absolute http or https URL with a host, such as https://lms.example.edu; got %q", s)
	}
	return nil
}

// Transformer turns raw Open edX events into Caliper events. It is safe for concurrent use.
type Transformer struct {
	cfg Config
	lms string
}

// New returns a Transformer for cfg.
func New(cfg Config) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TransformerVersion == "" {
		cfg.TransformerVersion = "lrs"
	}
	if !cfg.Compat {
		cfg.Courses = withCurrentKeys(cfg.Courses)
	}
	return &Transformer{cfg: cfg, lms: strings.TrimRight(cfg.LMSURL, "/")}, nil
}

// withCurrentKeys copies a course catalog, adding each SlashKey course's
// name under its current id too, where events will look it up.
func withCurrentKeys(courses map[string]string) map[string]string {
	out := make(map[string]string, len(courses))
	for id, name := range courses {
		out[id] = name
	}
	for id, name := range courses {
		if cur := currentCourseID(id); cur != id && out[cur] == "" {
			out[cur] = name
		}
	}
	return out
}

// Outcome is what became of one raw event.
type Outcome int

const (
	Mapped           Outcome = iota // one or more Caliper events
	Unmapped                        // no mapping for its name
	AnonymousSkipped                // no user, skipped
	Invalid                         // malformed: see the error
)

// String names an outcome in summaries.
func (o Outcome) String() string {
	return [...]string{"mapped", "unmapped", "anonymous", "invalid"}[o]
}

// Result is the transformation of one raw event.
type Result struct {
	Name    string // the edX event name ("" when unreadable)
	Outcome Outcome
	Events  []map[string]any // Caliper events, when Mapped
	Err     error            // why, when Invalid
}

// PageRequest is the name under which implicit server events (event_type a
// URL path) are counted.
const PageRequest = "(page requests: event_type is a URL path)"

// errNoMapping marks names the transformer does not map.
var errNoMapping = errors.New("no mapping")

// Transform maps one tracking-log line.
func (t *Transformer) Transform(line []byte) Result {
	e, err := parseRaw(line)
	if err != nil {
		return Result{Outcome: Invalid, Err: err}
	}
	e.currentKeys = !t.cfg.Compat
	res := Result{Name: e.name}
	if strings.HasPrefix(e.name, "/") {
		// An implicit server event: a page request, not a learning event.
		// One name for all of them, or a log's URLs would each be counted.
		res.Name, res.Outcome = PageRequest, Unmapped
		return res
	}
	m, ok := mappings[e.name]
	if !ok && !t.cfg.Compat {
		m, ok = additions[e.name]
	}
	if !ok {
		res.Outcome = Unmapped
		return res
	}
	actor, err := t.actor(e)
	if errors.Is(err, errAnonymous) {
		if t.cfg.Compat || t.cfg.Anonymous == SkipAnonymous {
			res.Outcome = AnonymousSkipped
			return res
		}
		actor = map[string]any{"id": anonymousPerson, "type": "Person"}
	} else if err != nil {
		return Result{Name: e.name, Outcome: Invalid, Err: err}
	}
	b := &build{t: t, e: e, actor: actor}
	ev, err := m.fn(b)
	if errors.Is(err, errNoMapping) {
		res.Outcome = Unmapped
		return res
	}
	if err != nil {
		return Result{Name: e.name, Outcome: Invalid, Err: err}
	}
	ev["@context"] = caliperContext
	if _, set := ev["actor"]; !set { // GradeEvents name the grader instead
		ev["actor"] = actor
	}
	ev["eventTime"] = caliperTime(e.time)
	if s := e.ctx("session"); s != "" {
		ev["session"] = map[string]any{"id": t.lms + "/sessions/" + s, "type": "Session"}
	}
	ext, _ := ev["extensions"].(map[string]any)
	if ext == nil {
		ext = map[string]any{}
	}
	ext["transformerVersion"] = t.cfg.TransformerVersion
	ev["extensions"] = ext
	if !t.cfg.Compat {
		t.improve(ev, e, m.profile)
	}
	ev["id"] = "urn:uuid:" + eventID(e, ev).String()
	clean(ev)
	res.Outcome, res.Events = Mapped, []map[string]any{ev}
	return res
}

// improve adds what Caliper 1.2 recommends and the reference leaves out.
func (t *Transformer) improve(ev map[string]any, e *rawEvent, profile string) {
	ev["profile"] = profile
	ev["edApp"] = map[string]any{"id": t.lms, "type": "SoftwareApplication"}
	if c := e.courseID(); c != "" {
		group := map[string]any{"id": t.lms + "/course/" + c, "type": "CourseOffering"}
		if name := t.cfg.Courses[c]; name != "" {
			group["name"] = name
		}
		ev["group"] = group
	}
}

var errAnonymous = errors.New("no user in the event")

// actor is the Person who acted: an anonymous id from the actor map, else a
// keyed hash of the user id or username. The real id never leaves.
func (t *Transformer) actor(e *rawEvent) (map[string]any, error) {
	candidates := e.userCandidates()
	if len(candidates) == 0 {
		return nil, errAnonymous
	}
	return t.person(candidates...)
}

// person is the Person of a user named by any of candidates (user ids or
// usernames, best first): from the actor map, else a keyed hash of the first.
func (t *Transformer) person(candidates ...string) (map[string]any, error) {
	for _, c := range candidates {
		if anon, ok := t.cfg.ActorMap[c]; ok {
			return map[string]any{"id": t.lms + "/user/" + anon, "type": "Person"}, nil
		}
	}
	if t.cfg.ActorSecret == "" {
		return nil, fmt.Errorf("user %q is not in the actor map", candidates[0])
	}
	mac := hmac.New(sha256.New, []byte(t.cfg.ActorSecret))
	mac.Write([]byte("user:" + candidates[0]))
	var id uuid.UUID
	copy(id[:], mac.Sum(nil))
	id[6] = id[6]&0x0f | 0x80 // version 8: custom
	id[8] = id[8]&0x3f | 0x80
	return map[string]any{"id": t.lms + "/user/" + id.String(), "type": "Person"}, nil
}

// idNamespace scopes lrs's name-based event ids.
var idNamespace = uuid.MustParse("6f1c8e9a-3d2b-5c4e-9a7f-0b1d2e3f4a5b")

// eventID is a name-based UUID over what identifies the raw event — its
// name, time, user, context session, course id as logged and data — and the
// object it maps to (two copies of a browser event may differ only in the
// page they came from). The data is hashed in a canonical form (sorted keys),
// so the same event posted live and later imported from a log, serialised
// differently, gets the same id and is stored once. Session and course are
// hashed as the log has them, so that reading more of a log (a top-level
// session, a legacy key) does not change the ids of events stored before.
func eventID(e *rawEvent, ev map[string]any) uuid.UUID {
	actor, _ := ev["actor"].(map[string]any)
	object, _ := ev["object"].(map[string]any)
	h := sha1.New()
	h.Write(idNamespace[:])
	for _, part := range []string{e.name, e.time.Format("2006-01-02T15:04:05.000000Z"), str(actor["id"]),
		rawString(e.context.Session), e.rawCourseID(), str(ev["action"]), str(object["id"]), e.dataRaw} {
		io.WriteString(h, part)
		h.Write([]byte{0})
	}
	writeCanonical(h, e.data)
	var id uuid.UUID
	copy(id[:], h.Sum(nil))
	id[6] = id[6]&0x0f | 0x50 // version 5: name-based, SHA-1
	id[8] = id[8]&0x3f | 0x80
	return id
}

// writeCanonical writes v with object keys sorted: equal JSON, equal bytes.
func writeCanonical(w io.Writer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		io.WriteString(w, "{")
		for _, k := range keys {
			io.WriteString(w, strconv.Quote(k))
			io.WriteString(w, ":")
			writeCanonical(w, x[k])
			io.WriteString(w, ",")
		}
		io.WriteString(w, "}")
	case []any:
		io.WriteString(w, "[")
		for _, e := range x {
			writeCanonical(w, e)
			io.WriteString(w, ",")
		}
		io.WriteString(w, "]")
	case string:
		io.WriteString(w, strconv.Quote(x))
	case json.Number:
		io.WriteString(w, x.String())
	case bool:
		io.WriteString(w, strconv.FormatBool(x))
	case nil:
		io.WriteString(w, "null")
	}
}

// clean removes, recursively through objects (not inside arrays), keys whose
// value is null, "", {} or []; 0 and false stay.
func clean(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			}
		case map[string]any:
			clean(x)
			if len(x) == 0 {
				delete(m, k)
			}
		case []any:
			if len(x) == 0 {
				delete(m, k)
			}
		}
	}
}

// Names lists the edX event names the transformer maps, sorted; with
// compat, only the reference's.
func Names(compat bool) []string {
	names := make([]string, 0, len(mappings)+len(additions))
	for n := range mappings {
		names = append(names, n)
	}
	if !compat {
		for n := range additions {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
