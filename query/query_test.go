package query

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store"
)

func TestParseFilter(t *testing.T) {
	zero := time.Time{}
	for _, tc := range []struct {
		name  string
		query string
		check func(f store.EventFilter) bool
		param string // the parameter the error names; "" for no error
	}{
		{"OK", "actor=a&actor=b&course=c", func(f store.EventFilter) bool {
			return len(f.Actors) == 2 && f.Courses[0] == "c" && f.Since == nil
		}, ""},
		{"ZeroSinceIsGiven", "since=0001-01-01T00:00:00Z", func(f store.EventFilter) bool {
			return f.Since != nil && f.Since.Equal(zero)
		}, ""},
		{"ZeroUntilIsGiven", "until=0001-01-01T00:00:00Z", func(f store.EventFilter) bool {
			return f.Until != nil && f.Until.Equal(zero)
		}, ""},
		{"OffsetToUTC", "since=2025-09-01T02:00:00%2B02:00", func(f store.EventFilter) bool {
			return f.Since.Location() == time.UTC && f.Since.Hour() == 0
		}, ""},
		{"ErrEmptyValue", "actor=", nil, "actor"},
		{"ErrNUL", "course=a%00", nil, "course"},
		{"ErrInvalidUTF8", "object=%ff", nil, "object"},
		{"ErrTwice", "since=2025-01-01T00:00:00Z&since=2025-01-02T00:00:00Z", nil, "since"},
		{"ErrUntilBeforeSince", "since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z", nil, "until"},
		{"ErrContainsArray", "contains=[1]", nil, "contains"},
		{"ErrContainsNUL", `contains={"a":"\u0000"}`, nil, "contains"},
		{"ErrContainsSurrogate", `contains={"a":"\udfff"}`, nil, "contains"},
		{"ErrContainsHuge", `contains={"a":1e999}`, nil, "contains"},
		{"ContainsPair", `contains={"a":"\ud83d\ude00"}`, func(f store.EventFilter) bool { return len(f.Contains) == 1 }, ""},
		{"ErrUnknown", "colour=red", nil, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(strings.ReplaceAll(tc.query, `"`, "%22"))
			if err != nil {
				t.Fatal(err)
			}
			err = checkKnown(v, ExportParams)
			var f store.EventFilter
			if err == nil {
				f, err = parseFilter(v, 7)
			}
			var pe *ParamError
			if tc.param != "" {
				if !errors.As(err, &pe) || pe.Param != tc.param {
					t.Fatalf("error %v, want a ParamError naming %q", err, tc.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.TenantID != 7 || !tc.check(f) {
				t.Errorf("filter %+v", f)
			}
		})
	}
}

func TestCursor(t *testing.T) {
	fp := fingerprint(url.Values{"actor": {"a"}}, 1)
	for _, p := range []store.Position{{}, {Tx: 1, Seq: 2}, {Tx: 1<<64 - 1, Seq: 1<<63 - 1}} {
		for _, asc := range []bool{false, true} {
			got, gotAsc, err := decodeCursor(encodeCursor(p, asc, fp), fp)
			if err != nil || got != p || gotAsc != asc {
				t.Errorf("round trip of %+v %v: %+v %v %v", p, asc, got, gotAsc, err)
			}
		}
	}
	other := fingerprint(url.Values{"actor": {"b"}}, 1)
	if _, _, err := decodeCursor(encodeCursor(store.Position{Seq: 1}, false, fp), other); err == nil {
		t.Error("a cursor was accepted by another query")
	}
	if fingerprint(url.Values{"actor": {"a"}}, 2) == fp {
		t.Error("the tenant is not part of the fingerprint")
	}
}

// FuzzCursor: any string either decodes to a position or is a ParamError
// naming the cursor; what encodes decodes back.
func FuzzCursor(f *testing.F) {
	fp := fingerprint(url.Values{}, 1)
	f.Add(encodeCursor(store.Position{Tx: 5, Seq: 9}, true, fp))
	f.Add("")
	f.Add("AQ")
	f.Add("garbage\x00")
	f.Fuzz(func(t *testing.T, s string) {
		p, asc, err := decodeCursor(s, fp)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param != "cursor" {
				t.Fatalf("error %v is not a cursor ParamError", err)
			}
			return
		}
		again, asc2, err := decodeCursor(encodeCursor(p, asc, fp), fp)
		if err != nil || again != p || asc2 != asc {
			t.Fatalf("re-encoded cursor: %+v %v %v", again, asc2, err)
		}
	})
}

// FuzzParams: any raw query either parses or is a ParamError; a filter that
// parses holds only text a store can compare.
func FuzzParams(f *testing.F) {
	for _, s := range []string{
		"actor=a&since=2025-01-01T00:00:00Z",
		"until=0001-01-01T00:00:00Z",
		`contains={"a":{"b":[1,2,"\u00e9"]}}`,
		`contains={"a":"\ud800"}`,
		"course=%ff&x=1",
		"by=action,day&limit=5",
		"format=csv",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		err = checkKnown(v, append(ExportParams, "by", "limit"))
		var fl store.EventFilter
		if err == nil {
			fl, err = parseFilter(v, 1)
		}
		if err != nil {
			var pe *ParamError
			if _, noName := v[""]; !errors.As(err, &pe) || (pe.Param == "" && !noName) {
				t.Fatalf("error %v is not a ParamError naming a parameter", err)
			}
			return
		}
		for _, list := range [][]string{fl.Actors, fl.Actions, fl.Types, fl.Objects, fl.ObjectTypes, fl.Courses, fl.Sessions, fl.EdApps, fl.Profiles, fl.Sensors} {
			for _, s := range list {
				if CheckText("x", s) != nil {
					t.Fatalf("filter holds %q", s)
				}
			}
		}
		for _, doc := range fl.Contains {
			if storableJSON(doc) != "" {
				t.Fatalf("contains holds %s", doc)
			}
		}
	})
}
