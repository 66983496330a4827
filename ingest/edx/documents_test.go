package edx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// scanned renders what ScanDocuments reports, one entry per call:
// "3 doc {…}", "1 comment", "2 blank", "4 bad".
func scanned(t *testing.T, input string) []string {
	t.Helper()
	var out []string
	err := ScanDocuments(strings.NewReader(input), func(d Doc) error {
		switch d.Kind {
		case DocumentLine:
			var c bytes.Buffer
			json.Compact(&c, d.JSON)
			out = append(out, fmt.Sprintf("%d doc %s", d.Line, c.String()))
		case CommentLine:
			out = append(out, fmt.Sprintf("%d comment", d.Line))
		case BlankLine:
			out = append(out, fmt.Sprintf("%d blank", d.Line))
		case BadLine:
			out = append(out, fmt.Sprintf("%d bad", d.Line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScanDocuments(t *testing.T) {
	for _, c := range []struct {
		name, input string
		want        []string
	}{
		{"NDJSON", "{\"a\":1}\n\n{\"a\":2}\n", []string{"1 doc {\"a\":1}", "2 blank", "3 doc {\"a\":2}"}},
		{"comment first", "# exported 2013-05-14\n# by hand\n{\"a\":1}\n{\"a\":2}", []string{"1 comment", "2 comment", "3 doc {\"a\":1}", "4 doc {\"a\":2}"}},
		{"broken line", "{\"a\":1}\n{\"a\": nope}\n{\"a\":3}\n", []string{"1 doc {\"a\":1}", "2 bad", "3 doc {\"a\":3}"}},
		{"broken first line", "{\"a\": 1, \"b\n{\"a\":2}\n{\"a\":3}\n", []string{"1 bad", "2 doc {\"a\":2}", "3 doc {\"a\":3}"}},
		{"pretty object", "# one envelope\n{\n  \"sensor\": \"s\",\n\n  \"data\": [{\"a\": 1}]\n}\n",
			[]string{"1 comment", "4 blank", "2 doc {\"sensor\":\"s\",\"data\":[{\"a\":1}]}"}},
		{"pretty array", "[\n  {\n    \"a\": 1\n  },\n  {\"a\": 2}\n]\n", []string{"2 doc {\"a\":1}", "5 doc {\"a\":2}"}},
		{"array line", "[{\"a\":1},{\"a\":2}]\n{\"a\":3}", []string{"1 doc {\"a\":1}", "1 doc {\"a\":2}", "2 doc {\"a\":3}"}},
		{"broken pretty object", "{\n  \"a\": 1,\n  \"b\": oops\n}\n", []string{"3 bad"}},
		{"text", "hello\nworld\n", []string{"1 bad"}},
		{"only comments", "# nothing\n\n", []string{"1 comment", "2 blank"}},
		{"empty", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := scanned(t, c.input)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// FuzzScanDocuments: any input is read without panic; every report
// names a line of the input, documents are valid JSON and bad lines say why.
func FuzzScanDocuments(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n# c\n\n{\"b\":2}", "{\n\"a\":[1,\n2]\n}", "[\n{},\n{}\n]", "{\"a\n{}\n", "#\n[1,2", "\x1f\x8b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte{'\n'}) + 1
		err := ScanDocuments(bytes.NewReader(in), func(d Doc) error {
			if d.Line < 1 || d.Line > lines {
				t.Fatalf("line %d of %d", d.Line, lines)
			}
			if d.Kind == DocumentLine && !json.Valid(d.JSON) {
				t.Fatalf("invalid document %q", d.JSON)
			}
			if d.Kind == BadLine && d.Err == nil {
				t.Fatal("a bad line without a reason")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSplitBody: a POST /edx body is read by the rule of lrs import —
// blank and # comment lines skipped wherever they are, a broken NDJSON line
// reported at its line — and a body that is neither NDJSON nor one JSON
// document is an error.
func TestSplitBody(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       string // "line:kind" per document, or "error"
	}{
		{"NDJSON with comments", "# exported by hand\n{\"a\":1}\n\n   \n# more\n{\"a\":2}\n", "2:doc 6:doc"},
		{"broken line", "{\"a\":1}\n{oops}\n{\"a\":3}", "1:doc 2:bad 3:doc"},
		{"one object", "{\"a\":1}", "1:doc"},
		{"pretty object", "{\n  \"a\": 1\n}\n", "1:doc"},
		{"array", "[{\"a\":1},\n{\"a\":2}]", "1:doc 2:doc"},
		{"comment then array", "# one batch\n[{\"a\":1},{\"a\":2}]\n", "2:doc 2:doc"},
		{"broken array", "[{\"a\":1},\n{\"a\":2}", "error"},
		{"text", "hello\n", "error"},
		{"only comments", "# nothing\n\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			docs, err := SplitBody([]byte(c.body))
			var got []string
			for _, d := range docs {
				kind := "doc"
				if d.Kind == BadLine {
					kind = "bad"
				}
				got = append(got, fmt.Sprintf("%d:%s", d.Line, kind))
			}
			g := strings.Join(got, " ")
			if err != nil {
				g = "error"
			}
			if g != c.want {
				t.Errorf("got %q (%v), want %q", g, err, c.want)
			}
		})
	}
}
