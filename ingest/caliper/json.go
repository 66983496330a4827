package caliper

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// EqualJSON compares two decoded JSON values (numbers as json.Number): key
// order does not matter and numbers compare by value, so 25 and 25.0 are
// equal, as in PostgreSQL's jsonb.
func EqualJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !EqualJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !EqualJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		return ok && numbersEqual(x, y)
	default:
		return a == b
	}
}

func numbersEqual(x, y json.Number) bool {
	if x == y {
		return true
	}
	fx, okx := new(big.Float).SetString(string(x))
	fy, oky := new(big.Float).SetString(string(y))
	return okx && oky && fx.Cmp(fy) == 0
}

// ContainsJSON reports whether doc contains pattern the way jsonb @> does:
// an object contains every key of the pattern object with a contained value;
// an array contains every element of the pattern array somewhere; scalars
// are equal.
func ContainsJSON(doc, pattern any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		d, ok := doc.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			dv, ok := d[k]
			if !ok || !ContainsJSON(dv, pv) {
				return false
			}
		}
		return true
	case []any:
		d, ok := doc.([]any)
		if !ok {
			return false
		}
		for _, pv := range p {
			found := false
			for _, dv := range d {
				if ContainsJSON(dv, pv) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	default:
		return EqualJSON(doc, pattern)
	}
}

// DecodeJSON decodes with numbers kept as json.Number.
func DecodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
