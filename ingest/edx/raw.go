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
	"regexp"
	"strconv"
	"strings"
	"time"
)

// rawEvent is one tracking-log line, decoded.
type rawEvent struct {
	doc     map[string]any
	name    string
	data    map[string]any // "data", or "event" decoded when it is a JSON string
	dataRaw string         // "event"/"data" when it is a non-JSON string (browser problem_check)
	context map[string]any
	time    time.Time
}

// parseRaw decodes a tracking-log line.
func parseRaw(line []byte) (*rawEvent, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	ev := &rawEvent{doc: doc}
	ev.name = str(doc["name"])
	if ev.name == "" {
		ev.name = str(doc["event_type"])
	}
	if ev.name == "" {
		return nil, fmt.Errorf("no event name (name or event_type)")
	}
	ev.context, _ = doc["context"].(map[string]any)
	for _, key := range []string{"data", "event"} {
		switch d := doc[key].(type) {
		case map[string]any:
			ev.data = d
		case string:
			if d == "" {
				continue
			}
			var m map[string]any
			dd := json.NewDecoder(strings.NewReader(d))
			dd.UseNumber()
			if dd.Decode(&m) == nil {
				ev.data = m
			} else {
				ev.dataRaw = d
			}
		}
		if ev.data != nil || ev.dataRaw != "" {
			break
		}
	}
	if ev.data == nil {
		ev.data = map[string]any{}
	}
	ts := str(doc["timestamp"])
	if ts == "" {
		ts = str(doc["time"])
	}
	t, err := parseTime(ts)
	if err != nil {
		return nil, fmt.Errorf("timestamp %q: %w", ts, err)
	}
	ev.time = t
	return ev, nil
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

// ctx returns a context field as a string ("" when absent or null).
func (e *rawEvent) ctx(key string) string { return str(e.context[key]) }

// courseID is the event's course: context.course_id, else data.course_id.
func (e *rawEvent) courseID() string {
	if c := e.ctx("course_id"); c != "" {
		return c
	}
	return str(e.data["course_id"])
}

// userKey finds who acted, in the reference's order: data.user_id,
// data.username, then user_id and username at the top or in context.
func (e *rawEvent) userKey() string {
	for _, v := range []any{e.data["user_id"], e.data["username"], e.doc["user_id"], e.context["user_id"], e.doc["username"], e.context["username"]} {
		if s := str(v); s != "" {
			return s
		}
	}
	return ""
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

var inputKeyRE = regexp.MustCompile(`input_([0-9a-f]+)_\d+_\d+`)

// browserProblemBlock finds the problem of a browser problem_check: from
// data.problem_id or module_id, else the activate_block_id of the referer,
// else the input_<hash>_… key of the form data.
func (e *rawEvent) browserProblemBlock() string {
	for _, k := range []string{"problem_id", "module_id"} {
		if v := str(e.data[k]); v != "" {
			return v
		}
	}
	if ref, err := url.Parse(e.ctx("referer")); err == nil {
		if id := ref.Query().Get("activate_block_id"); id != "" {
			return id
		}
	}
	if m := inputKeyRE.FindStringSubmatch(e.dataRaw); m != nil {
		if key := courseKey(e.courseID()); key != "" {
			return "block-v1:" + key + "+type@problem+block@" + m[1]
		}
	}
	return ""
}

// courseKey is a course id without its "course-v1:"/"ccx-v1:" prefix.
func courseKey(courseID string) string {
	_, key, found := strings.Cut(courseID, ":")
	if !found {
		return ""
	}
	return key
}
