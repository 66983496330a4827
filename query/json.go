package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// storableJSON says what in doc (valid JSON) no stored event can hold, so
// that no store could match it and PostgreSQL's jsonb would refuse it: a
// \u0000 escape, a lone UTF-16 surrogate escape, a number beyond float64's
// range (PostgreSQL's numeric stops at about 1e131072; float64, which the
// embedded store compares with, at 1.8e308). It returns "" when there is nothing of the kind.
func storableJSON(doc []byte) string {
	if msg := checkEscapes(doc); msg != "" {
		return msg
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "" // io.EOF: the document was valid JSON already
		}
		if n, ok := tok.(json.Number); ok {
			// Overflow only: a number too small for float64 reads as 0
			// here, but PostgreSQL's numeric keeps it exactly.
			if f, err := strconv.ParseFloat(string(n), 64); errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
				return "holds the number " + abbreviate(string(n)) + ", out of range"
			}
		}
	}
}

// checkEscapes scans the strings of doc for \u0000 and for surrogate
// escapes that do not form a pair.
func checkEscapes(doc []byte) string {
	inString := false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			i++
			if i >= len(doc) || doc[i] != 'u' {
				continue
			}
			r, ok := hex4(doc[i+1:])
			if !ok {
				continue
			}
			i += 4
			switch {
			case r == 0:
				return `must not contain \u0000`
			case r >= 0xDC00 && r <= 0xDFFF:
				return "holds a lone UTF-16 surrogate (\\u" + string(doc[i-3:i+1]) + ")"
			case r >= 0xD800 && r <= 0xDBFF:
				lo, ok := -1, false
				if i+2 < len(doc) && doc[i+1] == '\\' && doc[i+2] == 'u' {
					var v int
					v, ok = hex4(doc[i+3:])
					lo = v
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "holds a lone UTF-16 surrogate (\\u" + string(doc[i-3:i+1]) + ")"
				}
				i += 6
			}
		}
	}
	return ""
}

func hex4(b []byte) (int, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return int(v), err == nil
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:20] + "…"
	}
	return s
}
