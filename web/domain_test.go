package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store/pgtest"
)

// hostileCase is one value at the edge of the data domain (docs/validation.md).
type hostileCase struct {
	name string
	body []byte
	path string // "" means accepted (200); else the 400 names this path
}

func hostileCases() []hostileCase {
	id := func(n int) string {
		return "e1000000-0000-4000-8000-0000000000" + string(rune('0'+n/10)) + string(rune('0'+n%10))
	}
	ev := func(n int, extra ...string) []byte { return envelope(event(id(n), extra...)) }
	long := "https://example.edu/users/" + strings.Repeat("x", 10<<10)
	tinyFraction := "0." + strings.Repeat("0", 16383) + "1"
	return []hostileCase{
		{"NULInString", ev(1, "actor", `{"id":"https://example.edu/u/1","type":"Person","name":"a\u0000b"}`), "data[0].actor.name"},
		{"NULInKey", ev(2, "extensions", `{"a\u0000":1}`), `data[0].extensions.a\u0000`},
		{"LoneHighSurrogate", ev(3, "extensions", `{"s":"x\ud800y"}`), "data[0].extensions.s"},
		{"LoneLowSurrogate", ev(4, "extensions", `{"s":"\udc00"}`), "data[0].extensions.s"},
		{"HighSurrogateThenEscape", ev(5, "extensions", `{"s":"\ud800\n"}`), "data[0].extensions.s"},
		{"SurrogatePair", ev(6, "extensions", `{"s":"\ud83d\ude00 ok"}`), ""},
		{"HugeNumber", ev(7, "extensions", `{"n":1e200000}`), "data[0].extensions.n"},
		{"LargestWholeNumber", ev(8, "extensions", `{"n":1e131071}`), ""},
		{"TooManyWholeDigits", ev(9, "extensions", `{"n":1e131072}`), "data[0].extensions.n"},
		{"SmallestFraction", ev(10, "extensions", `{"n":1e-16383}`), ""},
		{"TooManyFractionDigits", ev(11, "extensions", `{"n":[1,1e-16384]}`), "data[0].extensions.n[1]"},
		{"LongFraction", ev(12, "extensions", `{"n":`+tinyFraction+`}`), "data[0].extensions.n"},
		{"ZeroWithHugeExponent", ev(13, "extensions", `{"n":0e-99999999999}`), "data[0].extensions.n"},
		{"OrdinaryNumbers", ev(14, "extensions", `{"n":[-0,1E+2,-1.5e-3,25.0,12345678901234567890123]}`), ""},
		{"LongActorID", ev(15, "actor", `{"id":"`+long+`","type":"Person"}`), "data[0].actor.id"},
		{"LongObjectIDAsIRI", ev(16, "object", `"`+long+`"`), "data[0].object"},
		{"LongAction", ev(17, "action", `"`+strings.Repeat("A", 3000)+`"`), "data[0].action"},
		{"LongSensor", []byte(strings.Replace(string(ev(18)), `"https://example.edu/sensors/1"`, `"`+long+`"`, 1)), "sensor"},
		{"LongEntityItem", envelope(`{"id":"` + long + `","type":"Document"}`), "data[0].id"},
		{"IdentifierAtLimit", ev(19, "actor", `{"id":"https://example.edu/u/`+strings.Repeat("x", caliper.MaxIdentifier-len("https://example.edu/u/"))+`","type":"Person"}`), ""},
		{"RepeatedKeyInEvent", []byte(strings.Replace(string(ev(20)), `"action":"Viewed"`, `"action":"Viewed","action":"Viewed"`, 1)), "data[0].action"},
		{"RepeatedKeyDeep", ev(21, "extensions", `{"a":{"b":[{"c":1,"c":2}]}}`), "data[0].extensions.a.b[0].c"},
		{"RepeatedKeyEscaped", ev(22, "extensions", `{"a":1,"\u0061":2}`), "data[0].extensions.a"},
		{"RepeatedEnvelopeField", []byte(strings.Replace(string(ev(23)), `"sensor":`, `"sensor":"https://example.edu/s/2","sensor":`, 1)), "sensor"},
		{"ManyKeysNoRepeat", ev(24, "extensions", manyKeys(40, false)), ""},
		{"ManyKeysRepeat", ev(25, "extensions", manyKeys(40, true)), "data[0].extensions.k0"},
		{"InvalidUTF8", append(ev(26)[:40:40], append([]byte{0xff, 0xfe}, ev(26)[40:]...)...), ""},
	}
}

func manyKeys(n int, repeatFirst bool) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strings.Repeat("i", i) + `":1`)
	}
	if repeatFirst {
		b.WriteString(`,"k":2`)
	}
	b.WriteByte('}')
	return strings.Replace(b.String(), `"k":`, `"k0":`, -1)
}

// TestHostileValues: the same answer from both stores and the validator
// (what `lrs validate` runs), and never a 5xx.
func TestHostileValues(t *testing.T) {
	pg, lite := setupMax(t, "postgres", 1<<20), setupMax(t, "sqlite", 1<<20)
	validator := caliper.NewValidator(caliper.Strict)
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			want := http.StatusOK
			if tc.path != "" || tc.name == "InvalidUTF8" {
				want = http.StatusBadRequest
			}
			for _, b := range []*bundle{pg, lite} {
				res := b.post(t, b.token, "application/json", tc.body)
				if want == http.StatusOK {
					msg, _ := io.ReadAll(res.Body)
					if res.StatusCode != http.StatusOK {
						t.Errorf("%s: status %d, want 200: %.300s", b.kind, res.StatusCode, msg)
					}
					continue
				}
				checkProblem(t, res, want, tc.path, "")
			}
			_, err := validator.CheckDocument(tc.body)
			if (err == nil) != (want == http.StatusOK) {
				t.Errorf("lrs validate: err %v, want accepted=%v", err, want == http.StatusOK)
			}
		})
	}
}

// TestDomainMatchesPostgres checks the domain's rules against PostgreSQL's
// own: every value the validator accepts, jsonb accepts, and every value it
// refuses for the store's sake, jsonb refuses too.
func TestDomainMatchesPostgres(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	values := []string{
		`"a\u0000b"`, `"\ud800"`, `"\udc00x"`, `"\ud83d\ude00"`, `"\ud800\n"`, `{"a\u0000":1}`,
		`1e131071`, `1e131072`, `-1e131071`, `1e-16383`, `1e-16384`, `0e-16383`, `0e-16384`, `0e131072`,
		`0.` + strings.Repeat("0", 16382) + `1`, `0.` + strings.Repeat("0", 16383) + `1`,
		`123.456e131066`, `123.456e131067`, `0.001e131074`, `0.001e131075`, `1.5e-16382`, `1.5e-16383`,
		`1e200000`, `1E-200000`, `-0`, `25.0`,
	}
	v := caliper.NewValidator(caliper.Strict)
	for _, val := range values {
		body := envelope(event("e2000000-0000-4000-8000-000000000001", "extensions", `{"v":`+val+`}`))
		_, verr := v.CheckDocument(body)
		var out string
		pgErr := conn.QueryRow(ctx, "SELECT ($1::text)::jsonb::text", val).Scan(&out)
		if (verr == nil) != (pgErr == nil) {
			t.Errorf("%.40s: validator err %v; PostgreSQL err %v", val, verr, pgErr)
		}
	}
}
