package caliper

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// value checks one property value against its rule.
func (c *checker) value(path string, v any, rl *rule) {
	if rl.list {
		arr, ok := v.([]any)
		if !ok {
			c.add(path, "must be a list, got %s", jsonKind(v))
			return
		}
		single := *rl
		single.list = false
		for j, e := range arr {
			c.value(path+"["+strconv.Itoa(j)+"]", e, &single)
		}
		return
	}
	switch rl.kind {
	case kindAny:
	case kindString:
		if _, ok := v.(string); !ok {
			c.add(path, "must be a string, got %s", jsonKind(v))
		}
	case kindNumber:
		if _, ok := v.(json.Number); !ok {
			c.add(path, "must be a number, got %s", describe(v))
		}
	case kindInteger:
		n, ok := v.(json.Number)
		if !ok {
			c.add(path, "must be an integer, got %s", describe(v))
		} else if !isInteger(n) {
			c.add(path, "must be an integer, got %s", n)
		}
	case kindBoolean:
		if _, ok := v.(bool); !ok {
			c.add(path, "must be true or false, got %s", describe(v))
		}
	case kindDateTime:
		c.dateTime(path, v)
	case kindDuration:
		if s, ok := v.(string); !ok || !isDuration(s) {
			c.add(path, "must be an ISO 8601 duration such as PT1H30M, got %s", describe(v))
		}
	case kindObject:
		if _, ok := v.(map[string]any); !ok {
			c.add(path, "must be a JSON object, got %s", describe(v))
		}
	case kindEnum, kindVocab:
		if s, ok := v.(string); !ok || !rl.words[s] {
			c.add(path, "must be one of %s; got %s", strings.Join(sortedKeys(rl.words), ", "), describe(v))
		}
	case kindAction:
		if s, ok := v.(string); !ok || !actionTerms[s] {
			c.add(path, "must be a Caliper action term, got %s", describe(v))
		}
	case kindProfile:
		c.profile(path, v)
	case kindEntity:
		switch e := v.(type) {
		case string:
			if !isIRI(e) {
				c.add(path, "must be %s or its IRI, got %q", rl.expect, truncate(e))
			}
		case map[string]any:
			c.entity(path, e, rl.allowed, false)
		default:
			c.add(path, "must be %s or its IRI, got %s", rl.expect, jsonKind(v))
		}
	}
}

func (c *checker) dateTime(path string, v any) {
	s, ok := v.(string)
	if !ok {
		c.add(path, "must be an ISO 8601 date-time string, got %s", jsonKind(v))
		return
	}
	if _, err := ParseDateTime(s); err != nil {
		c.add(path, "must be an ISO 8601 date-time such as 2018-11-15T10:15:00.000Z, got %q", truncate(s))
	}
}

func isInteger(n json.Number) bool {
	if _, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return true
	}
	f, ok := new(big.Float).SetString(string(n))
	return ok && f.IsInt()
}

// durationRE is ISO 8601 / xsd:duration: PnYnMnDTnHnMnS, at least one part.
var durationRE = regexp.MustCompile(`^-?P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)

func isDuration(s string) bool {
	return durationRE.MatchString(s) && s != "P" && s != "-P" && !strings.HasSuffix(s, "T")
}

// ItemPath is the path of an envelope item: data[i].
func ItemPath(i int) string { return "data[" + strconv.Itoa(i) + "]" }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "an unknown value"
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(truncate(x))
	case json.Number:
		return "the number " + string(x)
	}
	return jsonKind(v)
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
