package caliper

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/internal/fixture"
)

const sample = `{"sensor":"https://example.edu/s","sendTime":"2018-11-15T10:15:00.000Z","dataVersion":"https://purl.imsglobal.org/ctx/caliper/v1p1/","data":[` +
	`{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p1","id":"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594","type":"Event",` +
	`"actor":"https://example.edu/u/1","action":"Viewed","object":"https://example.edu/d/1","eventTime":"2018-11-15T10:15:00+0000"},` +
	` "https://example.edu/u/1" ]}`

func TestDecodeEnvelope(t *testing.T) {
	env, err := DecodeEnvelope([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if env.DataVersion != V1p1 {
		t.Errorf("dataVersion %q not normalised to %q", env.DataVersion, V1p1)
	}
	if !env.SendTime.Equal(time.Date(2018, 11, 15, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("sendTime %v", env.SendTime)
	}
	if len(env.Items) != 2 || string(env.Items[1].Raw) != `"https://example.edu/u/1"` || env.Items[0].Raw[0] != '{' {
		t.Fatalf("items %v", env.Items)
	}
	if !json.Valid(env.Items[0].Raw) {
		t.Errorf("item 0 raw is not the item's JSON: %s", env.Items[0].Raw)
	}
	if err := NewValidator(Strict).Validate(env); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestDecodeEnvelopeProblems(t *testing.T) {
	cases := map[string]struct {
		body  string
		kind  Kind
		paths []string
	}{
		"AllMissing":      {`{}`, KindMalformed, []string{"sensor", "sendTime", "dataVersion", "data"}},
		"WrongTypes":      {`{"sensor":1,"sendTime":true,"dataVersion":null,"data":[1]}`, KindMalformed, []string{"sensor", "sendTime", "dataVersion"}},
		"Unsupported":     {`{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p3","data":["a:b"]}`, KindUnsupportedVersion, []string{"dataVersion"}},
		"DataObject":      {`{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"` + V1p2 + `","data":{"a":[1]}}`, KindMalformed, []string{"data"}},
		"NestedStringsOK": {`{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"` + V1p2 + `","data":["a:` + strings.Repeat("[", 100) + `"]}`, 0, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeEnvelope([]byte(tc.body))
			if tc.kind == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind {
				t.Fatalf("error %v, want kind %d", err, tc.kind)
			}
			got := map[string]bool{}
			for _, p := range e.Problems {
				got[p.Path] = true
			}
			for _, p := range tc.paths {
				if !got[p] {
					t.Errorf("no problem at %q in %v", p, e.Problems)
				}
			}
		})
	}
}

func TestValidatorReportsEveryProblem(t *testing.T) {
	body := `{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"` + V1p2 + `","data":[` +
		`{"type":"ViewEvent","action":"Viewed","actor":{"type":"Person"},"object":5,"eventTime":"x","id":"urn:uuid:zz","@context":[]},` +
		`{"id":"https://x.edu/1"}, true]}`
	env, err := DecodeEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	if !errors.As(NewValidator(Strict).Validate(env), &e) {
		t.Fatal("want *Error")
	}
	want := []string{"data[0].@context", "data[0].id", "data[0].actor.id", "data[0].object", "data[0].eventTime", "data[1].type", "data[2]"}
	got := map[string]bool{}
	for _, p := range e.Problems {
		got[p.Path] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing problem at %s; got %v", w, e.Problems)
		}
	}
}

func TestProblemsCapped(t *testing.T) {
	items := make([]string, MaxProblems+50)
	for i := range items {
		items[i] = "7"
	}
	env, err := DecodeEnvelope([]byte(`{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"` + V1p2 + `","data":[` + strings.Join(items, ",") + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	if !errors.As(NewValidator(Strict).Validate(env), &e) || len(e.Problems) != MaxProblems || !e.Truncated {
		t.Fatalf("got %v", e)
	}
}

func TestEqualJSON(t *testing.T) {
	dec := func(s string) any {
		env, err := DecodeEnvelope([]byte(`{"sensor":"s:x","sendTime":"2018-11-15T10:15:00Z","dataVersion":"` + V1p2 + `","data":[` + s + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		return env.Items[0].Doc
	}
	if !EqualJSON(dec(`{"a":25.0,"b":[1,"x"]}`), dec(`{ "b":[1, "x"], "a":25 }`)) {
		t.Error("equal documents compared unequal")
	}
	if EqualJSON(dec(`{"a":1,"b":[1,"x"]}`), dec(`{"a":1,"b":["x",1]}`)) {
		t.Error("arrays in another order compared equal")
	}
}

func TestParseDateTime(t *testing.T) {
	for _, s := range []string{"2018-11-15T10:15:00.000Z", "2018-11-15T12:15:00+02:00", "2018-11-15T10:15:00.000+0000"} {
		if _, err := ParseDateTime(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"", "2018-11-15", "2018-11-15 10:15:00Z", "15/11/2018"} {
		if _, err := ParseDateTime(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// FuzzDecodeAndValidate: no input may crash the decoder or validator, and an
// accepted envelope's items are valid JSON that build a batch.
func FuzzDecodeAndValidate(f *testing.F) {
	f.Add([]byte(sample))
	var files []string // seeds from the spec's examples when they are there
	if root, err := fixture.Root(); err == nil {
		files, _ = filepath.Glob(filepath.Join(root, "caliper", "fixtures-v1p2", "caliperEnvelope*.json"))
	}
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`[{}]`))
	f.Add([]byte(`{"data":[`))
	f.Add([]byte(`{"sensor":"s","sensor":"\ud800","data":[{"a\u0000":1e-99999,"b":"\ud83d\ude00\`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := DecodeEnvelope(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		for _, it := range env.Items {
			if !json.Valid(it.Raw) {
				t.Fatalf("item raw is not JSON: %q", it.Raw)
			}
		}
		_ = NewValidator(Lenient).Validate(env)
		if NewValidator(Strict).Validate(env) != nil {
			return
		}
		// What the store builds its rows from must hold for a valid envelope.
		for _, it := range env.Items {
			doc, ok := it.Doc.(map[string]any)
			if !ok || !IsEvent(doc) {
				continue
			}
			if _, err := EventID(doc["id"].(string)); err != nil {
				t.Fatalf("valid event with a bad id: %v", err)
			}
			if _, err := ParseDateTime(doc["eventTime"].(string)); err != nil {
				t.Fatalf("valid event with a bad time: %v", err)
			}
		}
	})
}
