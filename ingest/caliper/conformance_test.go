package caliper

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
)

var updateConformance = flag.Bool("update-conformance", false, "rewrite docs/conformance.md from this run")

const (
	conformanceDoc  = "../../docs/conformance.md"
	wrapDataVersion = V1p2
)

// wrap puts a single event or entity in an envelope; an envelope is returned as is.
func wrap(raw []byte) []byte {
	var probe map[string]json.RawMessage
	if json.Unmarshal(raw, &probe) == nil {
		if _, ok := probe["dataVersion"]; ok {
			return raw
		}
	}
	return []byte(`{"sensor":"https://example.edu/sensors/1","sendTime":"2018-11-15T10:15:00.000Z",` +
		`"dataVersion":"` + wrapDataVersion + `","data":[` + string(raw) + `]}`)
}

func prepare(mode Mode, body []byte) error {
	env, err := DecodeEnvelope(body)
	if err != nil {
		return err
	}
	return NewValidator(mode).Validate(env)
}

// notStandalone are valid fixtures that are not data items: the endpoint
// configuration and three id-less fragments, which are refused on their own
// (docs/conformance.md) and accepted nested.
var notStandalone = map[string]bool{
	"caliperEndpointConfigPayload.json":      true,
	"caliperEntitySystemIdentifier.json":     true,
	"caliperIdentifierSystemIdentifier.json": true,
	"caliperEntityTextPositionSelector.json": true,
}

// faultProperty reads the property at fault from an error fixture's name,
// e.g. "caliperEventMediaPaused-MalformedTargetWrongEntityType.json" → "target".
// The names are the spec authors' (typos included), so a few are mapped by hand.
func faultProperty(name string) string {
	_, problem, _ := strings.Cut(strings.TrimSuffix(name, ".json"), "-")
	switch problem {
	case "BadJson":
		return ""
	case "UnknownContext":
		return "@context"
	case "UnknownEventType", "UnknownEntityType", "NoType", "NullType":
		return "type"
	case "WrongAction", "UnknownAction":
		return "action"
	case "UnknownProfile":
		return "profile"
	case "MalformedCreationDate":
		return "dateCreated"
	case "MalformedModifiedDate":
		return "dateModified"
	}
	for _, p := range []string{"Malformed", "Malfromed"} {
		if rest, ok := strings.CutPrefix(problem, p); ok {
			end := len(rest)
			for _, kw := range []string{"Contain", "ListElement", "Wrong", "NotA", "NotValid", "Invalid", "NoValue", "NotPresent", "UnknownValue", "EntityType"} {
				if i := strings.Index(rest[1:], kw); i >= 0 && i+1 < end {
					end = i + 1
				}
			}
			prop := strings.ToLower(rest[:1]) + rest[1:end]
			switch prop {
			case "isTimeDependant":
				return "isTimeDependent"
			case "generatable":
				return "generated"
			}
			return prop
		}
	}
	for _, p := range []string{"No", "Null"} {
		if rest, ok := strings.CutPrefix(problem, p); ok {
			return strings.ToLower(rest[:1]) + rest[1:]
		}
	}
	return "?" + problem
}

// judgedValid are error fixtures this project accepts in strict mode, with the
// reason; docs/conformance.md lists them.
var judgedValid = map[string]string{
	"caliperEntityAggregateMeasure-MalformedMaxMetricValueNotAnInt.json":     intAsDecimal,
	"caliperEntityAggregateMeasure-MalformedMetricValueNotAnInt.json":        intAsDecimal,
	"caliperEntityAssignableDigitalResource-MalformedMaxScoreNotAFloat.json": intAsDecimal,
	"caliperEntityScore-MalformedMaxScoreNotAnInt.json":                      intAsDecimal,
}

const intAsDecimal = "The only fault is a whole number written without a decimal point (`25` for `25.0`) " +
	"in a decimal property. JSON has one number type and the value is a valid xsd:decimal; " +
	"JavaScript sensors (caliper-js) cannot write `25.0`. Rejecting it would refuse correct data."

type tally struct{ accepted, rejected int }

// TestConformance runs every spec fixture through decode and validation in
// both modes, checks strict mode's verdicts and messages, and checks that
// docs/conformance.md holds the table this run produced.
func TestConformance(t *testing.T) {
	valid := fixture.Glob(t, "caliper/fixtures-v1p2/*.json")
	invalid := fixture.Glob(t, "caliper/fixtures-v1p2/commonErrorFixtures/*.json")
	if len(valid) < 145 || len(invalid) < 279 {
		t.Fatalf("found %d valid and %d invalid fixtures, want at least 145 and 279", len(valid), len(invalid))
	}
	counts := map[string]map[Mode]*tally{}
	count := func(group string, mode Mode, err error) {
		if counts[group] == nil {
			counts[group] = map[Mode]*tally{Strict: {}, Lenient: {}}
		}
		if err == nil {
			counts[group][mode].accepted++
		} else {
			counts[group][mode].rejected++
		}
	}
	var acceptedInvalid []string
	for _, f := range valid {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		group := "valid documents (standalone)"
		if notStandalone[name] {
			group = "valid fragments (not standalone items)"
		}
		for _, mode := range []Mode{Strict, Lenient} {
			err := prepare(mode, wrap(raw))
			count(group, mode, err)
			if !notStandalone[name] && err != nil {
				t.Errorf("%s rejected in %s mode: %v", name, mode, err)
			}
			if notStandalone[name] && err == nil && mode == Strict {
				t.Errorf("%s (not a standalone item) accepted in strict mode", name)
			}
		}
	}
	for _, f := range invalid {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		lenientErr := prepare(Lenient, wrap(raw))
		count("invalid documents (commonErrorFixtures)", Lenient, lenientErr)
		err = prepare(Strict, wrap(raw))
		count("invalid documents (commonErrorFixtures)", Strict, err)
		if err == nil {
			acceptedInvalid = append(acceptedInvalid, name)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error is not *Error: %v", name, err)
			continue
		}
		prop := faultProperty(name)
		if !json.Valid(raw) {
			prop = "" // the fixture is not JSON: the fault is the syntax error
		}
		if !namesFault(e, prop) {
			t.Errorf("%s: no problem names %q: %v", name, prop, e)
		}
	}
	for _, name := range acceptedInvalid {
		if judgedValid[name] == "" {
			t.Errorf("%s accepted in strict mode", name)
		}
	}
	if len(acceptedInvalid) != len(judgedValid) {
		t.Errorf("strict mode accepted %d error fixtures, %d are judged valid: %v", len(acceptedInvalid), len(judgedValid), acceptedInvalid)
	}

	doc := conformanceTable(counts)
	if *updateConformance {
		if err := os.WriteFile(conformanceDoc, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(conformanceDoc)
	if err != nil || !bytes.Contains(have, tableOnly(doc)) {
		t.Errorf("docs/conformance.md is not the table this run produced; run\n  go test ./ingest/caliper -run TestConformance -update-conformance\n%s", tableOnly(doc))
	}
}

// namesFault reports whether a problem's path names prop (or, for invalid
// JSON, the detail says so).
func namesFault(e *Error, prop string) bool {
	for _, p := range e.Problems {
		switch {
		case prop == "" && strings.Contains(p.Message, "invalid JSON"):
			return true
		case prop != "" && pathNames(p.Path, prop):
			return true
		}
	}
	return false
}

// pathNames: data[0].object.isPartOf[2].type names "isPartOf" and "type".
func pathNames(path, prop string) bool {
	for _, seg := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' }) {
		if strings.EqualFold(strings.TrimRight(seg, "]0123456789"), prop) {
			return true
		}
	}
	return false
}

const tableStart, tableEnd = "<!-- conformance table: generated by TestConformance -->", "<!-- end of generated table -->"

func tableOnly(doc []byte) []byte {
	start := bytes.Index(doc, []byte(tableStart))
	end := bytes.Index(doc, []byte(tableEnd))
	return doc[start : end+len(tableEnd)]
}

func conformanceTable(counts map[string]map[Mode]*tally) []byte {
	var b bytes.Buffer
	b.WriteString(tableStart + "\n\n")
	b.WriteString("| fixtures | count | strict: accepted | strict: rejected | lenient: accepted | lenient: rejected |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	groups := make([]string, 0, len(counts))
	for g := range counts {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		s, l := counts[g][Strict], counts[g][Lenient]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", g, s.accepted+s.rejected, s.accepted, s.rejected, l.accepted, l.rejected)
	}
	b.WriteString("\nError fixtures accepted in strict mode, judged valid:\n\n")
	names := make([]string, 0, len(judgedValid))
	for n := range judgedValid {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "- `%s`: %s\n", n, judgedValid[n])
	}
	b.WriteString("\n" + tableEnd + "\n")
	return append(conformanceIntro(), b.Bytes()...)
}

func conformanceIntro() []byte {
	b, err := os.ReadFile(conformanceDoc)
	if err != nil {
		return []byte("# Caliper conformance\n\n")
	}
	if i := bytes.Index(b, []byte(tableStart)); i >= 0 {
		return b[:i]
	}
	return b
}
