package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestHostileParameters: values no store can hold or match get 400 naming
// the parameter on every read endpoint and both stores — never a 5xx, and
// never an export cut short. Oddities that are valid stay valid.
func TestHostileParameters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		endpoints := []string{"/api/v1/events?", "/api/v1/stats?by=action&", "/api/v1/export?"}
		refused := []struct{ param, value string }{
			{"actor", "a\x00b"},
			{"actor", "\xff"},
			{"course", "https://example.edu/\xc3\x28"},
			{"sensor", "\x00"},
			{"type", "View\x00Event"},
			{"contains", `{"a":"\u0000"}`},
			{"contains", `{"a":{"b":["x\u0000"]}}`},
			{"contains", `{"\u0000":1}`},
			{"contains", `{"a":"\ud800"}`},
			{"contains", `{"a":"\udc00x"}`},
			{"contains", `{"a":"\ud800\u0041"}`},
			{"contains", `{"a":1e200000}`},
			{"contains", `{"a":-1e400}`},
			{"contains", "{\"a\":\"\x00\"}"},
			{"contains", "{\"a\":\"\xfe\"}"},
			{"since", "2025-01-01T00:00:00Z\x00"},
			{"cursor", "\x00"},
		}
		for _, ep := range endpoints {
			for _, tc := range refused {
				path := ep + url.Values{tc.param: {tc.value}}.Encode()
				res, body := rb.get(t, rb.readToken, path)
				var prob struct{ Parameter string }
				json.Unmarshal(body, &prob)
				if res.StatusCode != 400 || prob.Parameter != tc.param {
					t.Errorf("%s: %d naming %q, want 400 naming %q: %.200s", path, res.StatusCode, prob.Parameter, tc.param, body)
				}
			}
		}
		for _, id := range []string{"a\x00b", "https://example.edu/\xff"} {
			res, body := rb.get(t, rb.readToken, "/api/v1/entities?"+url.Values{"id": {id}}.Encode())
			if res.StatusCode != 400 || !strings.Contains(string(body), `"parameter":"id"`) {
				t.Errorf("entities?id=%q: %d %s", id, res.StatusCode, body)
			}
		}
		accepted := []struct{ param, value string }{
			{"contains", `{"a":"\ud83d\ude00"}`}, // a surrogate pair is one character
			{"contains", `{"a":"\\u0000"}`},      // an escaped backslash: the text \u0000
			{"contains", `{"a":"\\ud800"}`},
			{"contains", `{"a":1e-300}`},
			{"contains", `{"a":1e-400}`},
			{"actor", "https://example.edu/users/é"},
		}
		for _, ep := range endpoints {
			for _, tc := range accepted {
				path := ep + url.Values{tc.param: {tc.value}}.Encode()
				if res, body := rb.get(t, rb.readToken, path); res.StatusCode != 200 {
					t.Errorf("%s: %d %.200s", path, res.StatusCode, body)
				}
			}
		}
	})
}

// TestZeroTimeIsGiven: a bound at 0001-01-01T00:00:00Z filters like any
// other time (it is not "no filter").
func TestZeroTimeIsGiven(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		if got := rb.all(t, rb.readToken, "until=0001-01-01T00:00:00Z"); len(got) != 0 {
			t.Errorf("until=0001-01-01: %d events, want none", len(got))
		}
		if got := rb.all(t, rb.readToken, "since=0001-01-01T00:00:00Z&limit=1000"); len(got) != 240 {
			t.Errorf("since=0001-01-01: %d events, want 240", len(got))
		}
		if got := rb.all(t, rb.readToken, "stored_since=0001-01-01T00:00:00Z&limit=1000"); len(got) != 240 {
			t.Errorf("stored_since=0001-01-01: %d events, want 240", len(got))
		}
		res, body := rb.get(t, rb.readToken, "/api/v1/events?since=0001-01-01T00:00:00Z&until=0001-01-01T00:00:00Z")
		if res.StatusCode != 400 || !strings.Contains(string(body), `"parameter":"until"`) {
			t.Errorf("since = until at the zero time: %d %s", res.StatusCode, body)
		}
	})
}
