// Package edx transforms Open edX tracking-log events into Caliper 1.2 events:
// the reference transformer's mappings (MAPPING.md §2), reproducible exactly in
// --compat erb mode, and by default with deterministic ids, pseudonymous actors
// and the reference's defects fixed (docs/edx-mapping.md).
package edx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// rawEvent is one tracking-log line, decoded.
type rawEvent struct {
	name    string
	data    map[string]any // "data", or "event" decoded when it is a JSON string
	dataRaw string         // "event"/"data" when it is a non-JSON string (browser problem_check)
	context rawContext
	user    [2]string // top-level user_id, username
	top     topLevel  // fields older logs keep at the top level, not in context
	time    time.Time

	// currentKeys: read legacy course and usage ids as the current keys
	// (keys.go); set in the default mode.
	currentKeys bool
}

// topLevel are the fields that logs from older installations (and some
// browser events) carry beside context rather than inside it.
type topLevel struct {
	Session     json.RawMessage `json:"session"`
	Referer     json.RawMessage `json:"referer"`
	EventSource json.RawMessage `json:"event_source"`
}

// rawLine is the part of a tracking-log line the transformer reads. Decoding
// into it rather than a generic map skips building the many context fields
// (agent, ip, …) no mapping uses.
type rawLine struct {
	Name      string          `json:"name"`
	EventType string          `json:"event_type"`
	Data      json.RawMessage `json:"data"`
	Event     json.RawMessage `json:"event"`
	Context   rawContext      `json:"context"`
	Timestamp json.RawMessage `json:"timestamp"`
	Time      json.RawMessage `json:"time"`
	UserID    json.RawMessage `json:"user_id"`
	Username  json.RawMessage `json:"username"`
	topLevel
}

type rawContext struct {
	CourseID    json.RawMessage `json:"course_id"`
	UserID      json.RawMessage `json:"user_id"`
	Username    json.RawMessage `json:"username"`
	Session     json.RawMessage `json:"session"`
	Referer     json.RawMessage `json:"referer"`
	EventSource json.RawMessage `json:"event_source"`
	Module      struct {
		UsageKey json.RawMessage `json:"usage_key"`
	} `json:"module"`
}

// rawString reads a JSON scalar as a string: "" for null, objects and arrays.
func rawString(b json.RawMessage) string {
	if len(b) == 0 {
		return ""
	}
	switch b[0] {
	case '"':
		// Most values have no escapes: skip the decoder, called for every field read.
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
			return string(b[1 : len(b)-1])
		}
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	case 'n', '{', '[':
		return ""
	}
	return string(b) // a number or boolean, as written
}

// parseRaw decodes a tracking-log line.
func parseRaw(line []byte) (*rawEvent, error) {
	var l rawLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, fmt.Errorf("not a tracking-log JSON object: %w", err)
	}
	ev := &rawEvent{name: l.Name, context: l.Context, top: l.topLevel, user: [2]string{rawString(l.UserID), rawString(l.Username)}}
	if ev.name == "" {
		ev.name = l.EventType
	}
	if ev.name == "" {
		return nil, fmt.Errorf("no event name (name or event_type)")
	}
	for _, raw := range []json.RawMessage{l.Data, l.Event} {
		if len(raw) == 0 || raw[0] == 'n' {
			continue
		}
		switch raw[0] {
		case '{':
			ev.data = decodeObject(raw)
		case '[':
			ev.data, ev.dataRaw = decodeList(raw)
		case '"':
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				if m := decodeObject([]byte(s)); m != nil {
					ev.data = m
				} else if m, answers := decodeList([]byte(s)); m != nil {
					ev.data, ev.dataRaw = m, answers
				} else {
					ev.dataRaw = s
				}
			}
		}
		if ev.data != nil || ev.dataRaw != "" {
			break
		}
	}
	if ev.data == nil {
		ev.data = map[string]any{}
	}
	ts := rawString(l.Timestamp)
	if ts == "" {
		ts = rawString(l.Time)
	}
	t, err := parseTime(ts)
	if err != nil {
		return nil, fmt.Errorf("timestamp %q: %w", ts, err)
	}
	ev.time = t
	return ev, nil
}

// decodeList reads the data of a browser problem_graded, a list of the
// submitted answers (a form's query string) and the problem's HTML, as
// {"answers": …, "contents": …}; it returns the answers too, to be read as a
// browser problem_check's form data is. Nil for anything else.
func decodeList(b []byte) (map[string]any, string) {
	var items []any
	if json.Unmarshal(b, &items) != nil || len(items) == 0 {
		return nil, ""
	}
	m := map[string]any{"answers": items[0]}
	if len(items) > 1 {
		m["contents"] = items[1]
	}
	answers, _ := items[0].(string)
	return m, answers
}

// decodeObject decodes a JSON object with numbers kept as json.Number, or returns nil.
func decodeObject(b []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999-0700",
}

// parseTime reads tracking-log timestamps: with or without offset (UTC assumed),
// with or without fractional seconds.
func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date-time")
}

// ctx returns a context field as a string ("" when absent or null). The
// session, referer and event source are read from the top level when the
// context lacks them, as older logs have them.
func (e *rawEvent) ctx(key string) string {
	c := &e.context
	switch key {
	case "course_id":
		return rawString(c.CourseID)
	case "session":
		return firstString(c.Session, e.top.Session)
	case "referer":
		return firstString(c.Referer, e.top.Referer)
	case "event_source":
		return firstString(c.EventSource, e.top.EventSource)
	case "user_id":
		return rawString(c.UserID)
	case "username":
		return rawString(c.Username)
	case "module.usage_key":
		return rawString(c.Module.UsageKey)
	}
	return ""
}

func firstString(raws ...json.RawMessage) string {
	for _, r := range raws {
		if s := rawString(r); s != "" {
			return s
		}
	}
	return ""
}

// userCandidates are the user keys of the event, in the reference's order:
// data.user_id, data.username, then user_id and username at the top or in context.
func (e *rawEvent) userCandidates() []string {
	var out []string
	for _, s := range []string{str(e.data["user_id"]), str(e.data["username"]), e.user[0], e.ctx("user_id"), e.user[1], e.ctx("username")} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// courseID is the event's course: context.course_id, else data.course_id;
// a legacy id in its current form when currentKeys is set.
func (e *rawEvent) courseID() string {
	return e.course(e.rawCourseID())
}

// rawCourseID is the event's course id as the log has it.
func (e *rawEvent) rawCourseID() string {
	if c := e.ctx("course_id"); c != "" {
		return c
	}
	return str(e.data["course_id"])
}

// contextCourse is context.course_id (what the reference's isPartOf names),
// in its current form when currentKeys is set.
func (e *rawEvent) contextCourse() string { return e.course(e.ctx("course_id")) }

// course returns id in its current form when currentKeys is set.
func (e *rawEvent) course(id string) string {
	if e.currentKeys {
		return currentCourseID(id)
	}
	return id
}

// usage returns a usage id in its current form when currentKeys is set.
func (e *rawEvent) usage(id string) string {
	if e.currentKeys {
		return currentUsageID(id, e.rawCourseID())
	}
	return id
}

// str renders a JSON scalar as a string; "" for null, objects and arrays.
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// isoDuration formats seconds as ISO 8601, as Python's isodate does for a
// timedelta: microsecond precision, zero parts left out, "P0D" for zero.
func isoDuration(seconds float64) string {
	us := int64(math.RoundToEven(seconds * 1e6))
	neg := us < 0
	if neg {
		us = -us
	}
	days := us / 86_400_000_000
	us %= 86_400_000_000
	h, m := us/3_600_000_000, us/60_000_000%60
	s, frac := us/1_000_000%60, us%1_000_000
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteByte('P')
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if h > 0 || m > 0 || s > 0 || frac > 0 {
		b.WriteByte('T')
		if h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if s > 0 || frac > 0 {
			if frac > 0 {
				fmt.Fprintf(&b, "%s", strings.TrimRight(fmt.Sprintf("%d.%06d", s, frac), "0"))
			} else {
				fmt.Fprintf(&b, "%d", s)
			}
			b.WriteByte('S')
		}
	}
	if b.Len() == 1 || (neg && b.Len() == 2) {
		b.WriteString("0D")
	}
	return b.String()
}

// caliperTime prints an event time the reference's way: UTC, milliseconds truncated.
func caliperTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// browserProblemBlock finds the problem of a browser problem_check: from
// data.problem_id or module_id, else the activate_block_id of the referer,
// else the input_<block>_… key of the form data. In the default mode a
// referer naming a block other than a problem (the unit or sequence the
// learner is on) gives way to the input key, and legacy input keys are read.
func (e *rawEvent) browserProblemBlock() string { return e.problemBlockFrom(e.dataRaw) }

// problemBlockFrom is browserProblemBlock reading the input keys of form.
func (e *rawEvent) problemBlockFrom(form string) string {
	for _, k := range []string{"problem_id", "module_id"} {
		if v := str(e.data[k]); v != "" {
			return v
		}
	}
	activated := e.activatedBlock()
	if activated != "" && (!e.currentKeys || isProblem(e.usage(activated))) {
		return activated
	}
	if name := inputBlock(form, e.currentKeys); name != "" {
		if key := courseKey(e.courseID()); key != "" {
			return "block-v1:" + key + "+type@problem+block@" + name
		}
	}
	return activated
}

// activatedBlock is the activate_block_id query parameter of the referer.
func (e *rawEvent) activatedBlock() string {
	ref, err := url.Parse(e.ctx("referer"))
	if err != nil {
		return ""
	}
	return ref.Query().Get("activate_block_id")
}

func isProblem(usageID string) bool { return strings.Contains(usageID, "+type@problem+") }

// courseKey is a course id without its "course-v1:"/"ccx-v1:" prefix.
func courseKey(courseID string) string {
	_, key, found := strings.Cut(courseID, ":")
	if !found {
		return ""
	}
	return key
}
