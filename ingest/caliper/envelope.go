package caliper

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Caliper context IRIs that may appear as an envelope's dataVersion.
const (
	V1p1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
	V1p2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"
)

// SupportedVersions lists the dataVersion values the endpoint accepts, in the
// form GET /caliper advertises them.
var SupportedVersions = []string{V1p1, V1p2}

// MaxDepth bounds how deeply JSON may nest. The spec's own documents nest at
// most eight levels inside an envelope; the bound stops a body of a million
// brackets from costing a million stack frames.
const MaxDepth = 64

// Envelope is a decoded Caliper envelope.
type Envelope struct {
	Sensor      string
	SendTime    time.Time // UTC
	DataVersion string    // normalised: one of SupportedVersions
	Items       []Item

	RawSendTime, RawDataVersion string // as sent, to keep the envelope as received
}

// Item is one element of an envelope's data array: the bytes as sent (stored
// verbatim) and the decoded tree (validated and indexed). Doc is a
// map[string]any for an event or entity, or a string for a bare IRI; numbers
// are json.Number so that integers can be told from decimals.
type Item struct {
	Raw    json.RawMessage
	Doc    any
	Offset int // where the item starts in the body, for line numbers
}

var envelopeFields = [...]string{"sensor", "sendTime", "dataVersion", "data"}

// DecodeEnvelope parses a request body as a Caliper envelope. It checks the
// envelope's own shape (exactly sensor, sendTime, dataVersion and a non-empty
// data array, each once) but not its items; see Validator. Errors are *Error:
// KindMalformed, or KindUnsupportedVersion for an unknown dataVersion.
func DecodeEnvelope(body []byte) (*Envelope, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformed("", "request body is empty; send a Caliper envelope")
	}
	if !utf8.Valid(body) {
		return nil, malformed("", "request body is not valid UTF-8 (invalid byte at offset %d)", invalidUTF8Offset(body))
	}
	// One pass over the bytes for what the decoder does not check: nesting,
	// and the data domain both stores keep (domain.go). Its findings are
	// reported after the decoder's syntax errors, with the envelope's.
	var r Report
	values, tooDeep := domainScan(body, &r)
	if err := costError(values, len(body)); err != nil {
		return nil, err
	}
	if tooDeep >= 0 {
		return nil, malformed("", "JSON nests deeper than %d levels (at offset %d)", MaxDepth, tooDeep)
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(body, err)
	}
	if tok != json.Delim('{') {
		if tok == json.Delim('[') {
			return nil, malformed("", "body is a JSON array; wrap the items in an envelope {\"sensor\", \"sendTime\", \"dataVersion\", \"data\": [...]}")
		}
		return nil, malformed("", "body is not a JSON object; send a Caliper envelope")
	}

	var (
		env            Envelope
		seen           = map[string]bool{}
		version        string
		looksLikeEvent bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxProblem(body, err)
		}
		key := tok.(string)
		seen[key] = true // a repeated field is reported by domainScan
		switch key {
		case "data":
			items, err := decodeItems(dec, body, &r)
			if err != nil {
				return nil, err
			}
			env.Items = items
			continue
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, syntaxProblem(body, err)
		}
		switch key {
		case "sensor":
			s, ok := v.(string)
			switch {
			case !ok || s == "":
				r.Add(-1, key, "must be a non-empty string (an IRI naming the sending application)")
			case len(s) > MaxIdentifier:
				r.Add(-1, key, "is %d bytes long; identifiers are limited to %d bytes (the store indexes them)", len(s), MaxIdentifier)
			}
			env.Sensor = s
		case "sendTime":
			s, _ := v.(string)
			t, err := ParseDateTime(s)
			if err != nil {
				r.Add(-1, key, "must be an ISO 8601 date-time such as 2018-11-15T10:15:00.000Z")
			}
			env.SendTime, env.RawSendTime = t, s
		case "dataVersion":
			s, ok := v.(string)
			if !ok {
				r.Add(-1, key, "must be a string naming the Caliper context, such as %q", V1p2)
			}
			version = s
		default:
			switch key {
			case "@context", "actor", "action", "eventTime", "type", "id":
				looksLikeEvent = true
			}
			r.Add(-1, key, "unexpected field; an envelope has exactly sensor, sendTime, dataVersion and data")
		}
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, syntaxProblem(body, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("", "unexpected data after the envelope object")
	}
	if looksLikeEvent && !seen["data"] {
		return nil, malformed("", "body looks like a bare Caliper event or entity; wrap it in an envelope {\"sensor\", \"sendTime\", \"dataVersion\", \"data\": [...]}")
	}
	for _, f := range envelopeFields {
		if !seen[f] {
			r.Add(-1, f, "required envelope field is missing")
		}
	}
	if seen["data"] && len(env.Items) == 0 && len(r.problems) == 0 && !r.truncated {
		r.Add(-1, "data", "must hold at least one event or entity")
	}
	if err := r.Err(KindMalformed); err != nil {
		return nil, err
	}
	v, ok := normaliseVersion(version)
	if !ok {
		var r Report
		r.Add(-1, "dataVersion", "unsupported Caliper version %q; supported: %s", version, strings.Join(SupportedVersions, ", "))
		return nil, r.Err(KindUnsupportedVersion)
	}
	env.DataVersion, env.RawDataVersion = v, version
	return &env, nil
}

// decodeItems reads the data array, keeping each item's bytes and tree.
func decodeItems(dec *json.Decoder, body []byte, r *Report) ([]Item, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxProblem(body, err)
	}
	if tok != json.Delim('[') {
		r.Add(-1, "data", "must be an array of events and entities")
		if d, ok := tok.(json.Delim); ok && d == '{' {
			// Skip the rest of the object so the envelope's other fields are still checked.
			if err := skipValue(dec, 1); err != nil {
				return nil, syntaxProblem(body, err)
			}
		}
		return nil, nil
	}
	var items []Item
	for dec.More() {
		start := dec.InputOffset()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, syntaxProblem(body, err)
		}
		span := body[start:dec.InputOffset()]
		raw := bytes.TrimLeft(span, " \t\r\n,")
		items = append(items, Item{Raw: raw, Doc: doc, Offset: int(start) + len(span) - len(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntaxProblem(body, err)
	}
	return items, nil
}

func skipValue(dec *json.Decoder, depth int) error {
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// normaliseVersion compares context IRIs the way SPEC-NOTES §2 says:
// https is http, and a trailing slash does not matter.
func normaliseVersion(s string) (string, bool) {
	n := NormaliseIRI(s)
	for _, v := range SupportedVersions {
		if n == v {
			return v, true
		}
	}
	return "", false
}

// NormaliseIRI maps https:// to http:// and drops one trailing slash, so that
// context IRIs written either way compare equal.
func NormaliseIRI(s string) string {
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		s = "http://" + rest
	}
	return strings.TrimSuffix(s, "/")
}

// syntaxProblem turns a decoder error into a malformed-body problem with an offset.
func syntaxProblem(body []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return malformed("", "invalid JSON at offset %d: %s", se.Offset, se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("", "invalid JSON: body ends early (%d bytes)", len(body))
	}
	return malformed("", "invalid JSON: %s", err.Error())
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// ParseDateTime parses an RFC 3339 date-time with any offset, and also the
// "+0000" offset form some sensors (caliper-js) write. The result is UTC.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var err2 error
		t, err2 = time.Parse("2006-01-02T15:04:05.999999999-0700", s)
		if err2 != nil {
			return time.Time{}, err
		}
	}
	return t.UTC(), nil
}
