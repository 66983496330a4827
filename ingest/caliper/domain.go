package caliper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The data domain: JSON that both stores keep exactly and that PostgreSQL's
// jsonb accepts. PostgreSQL refuses \u0000 and unpaired surrogates in strings
// and numbers outside its numeric type; an object with a repeated key has no
// single meaning (jsonb keeps the last, SQLite's text both). Every such
// document is refused with the path of the value, so the embedded store,
// PostgreSQL and `lrs validate` give the same answer (docs/validation.md).
const (
	// Limits of PostgreSQL's numeric type: digits before and after the point.
	maxWholeDigits    = 131072
	maxFractionDigits = 16383
)

// frame is one open object or array during the scan.
type frame struct {
	object    bool
	index     int      // array: the element being read
	key       []byte   // object: the member being read (unescaped)
	expectKey bool     // object: the next string is a key
	keys      [][]byte // object: keys seen so far
	keySet    map[string]bool
}

// MaxValues is the decode cost budget: how many JSON values (strings,
// numbers, literals, objects, arrays — keys not counted) a body of n bytes may
// hold. Decoding into a tree costs some 50 bytes per value, so at one value
// per 4 bytes on average a body costs at most about 12 times its size; real
// Caliper, full of IRIs, averages well over 15 bytes per value, while
// [0,0,0,…] is 2 — the shape that made a 5 MiB body cost 218 MB.
func MaxValues(n int) int { return n/4 + 1024 }

// CheckCost refuses a JSON body holding more values than MaxValues allows,
// before anything decodes it.
func CheckCost(body []byte) error {
	var r Report
	values, _ := domainScan(body, &r)
	return costError(values, len(body))
}

func costError(values, size int) error {
	if values <= MaxValues(size) {
		return nil
	}
	return &Error{Kind: KindTooComplex, Problems: []Problem{{Index: -1, Message: fmt.Sprintf(
		"the body holds more than %d JSON values in %d bytes; at most one value per 4 bytes on average is accepted, so that decoding stays within a small multiple of the body's size",
		MaxValues(size), size)}}}
}

// domainScan checks body's strings, numbers and keys against the data domain
// and its nesting against MaxDepth, and counts its values, stopping once they
// pass MaxValues. It tolerates malformed JSON (the decoder reports that). It
// returns the count, and the offset where nesting passes MaxDepth or -1.
func domainScan(body []byte, r *Report) (values, tooDeep int) {
	var stack []frame
	budget := MaxValues(len(body))
	for i := 0; i < len(body); {
		c := body[i]
		if values > budget {
			return values, -1
		}
		switch {
		case c == '{' || c == '[':
			values++
			if len(stack) == MaxDepth {
				return values, i
			}
			// Reuse the frame's key slice: a scan allocates per depth, not per object.
			if len(stack) < cap(stack) {
				stack = stack[:len(stack)+1]
				f := &stack[len(stack)-1]
				*f = frame{object: c == '{', expectKey: c == '{', keys: f.keys[:0]}
			} else {
				stack = append(stack, frame{object: c == '{', expectKey: c == '{'})
			}
			i++
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i++
		case c == ',':
			if n := len(stack); n > 0 {
				if top := &stack[n-1]; top.object {
					top.expectKey = true
				} else {
					top.index++
				}
			}
			i++
		case c == ':':
			if n := len(stack); n > 0 {
				stack[n-1].expectKey = false
			}
			i++
		case c == '"':
			n := len(stack)
			isKey := n > 0 && stack[n-1].object && stack[n-1].expectKey
			end, s, fault := scanString(body, i, isKey)
			if !isKey {
				values++
			}
			if isKey {
				top := &stack[n-1]
				top.key = s
				if fault == "" && top.repeated(s) {
					fault = "the key " + quoteKey(string(s)) + " appears more than once in this object"
				}
			}
			if fault != "" {
				index, path := domainPath(stack)
				r.Add(index, path, "%s", fault)
			}
			i = end
		case c == '-' || '0' <= c && c <= '9':
			values++
			end := i + 1
			for end < len(body) && isNumberByte(body[end]) {
				end++
			}
			if fault := numberFault(string(body[i:end])); fault != "" {
				index, path := domainPath(stack)
				r.Add(index, path, "%s", fault)
			}
			i = end
		case c == 't' || c == 'f' || c == 'n':
			values++
			for i++; i < len(body) && 'a' <= body[i] && body[i] <= 'z'; i++ {
			}
		default:
			i++
		}
	}
	return values, -1
}

// repeated records key and reports whether the object already had it.
// Objects are small: a linear scan until they are not.
func (f *frame) repeated(key []byte) bool {
	if f.keySet != nil {
		if f.keySet[string(key)] {
			return true
		}
		f.keySet[string(key)] = true
		return false
	}
	for _, k := range f.keys {
		if bytes.Equal(k, key) {
			return true
		}
	}
	f.keys = append(f.keys, key)
	if len(f.keys) > 16 {
		f.keySet = make(map[string]bool, 2*len(f.keys))
		for _, k := range f.keys {
			f.keySet[string(k)] = true
		}
	}
	return false
}

// domainPath names where the scan is, in the validator's form
// ("data[2].actor.id"), with the item index when inside data.
func domainPath(stack []frame) (index int, path string) {
	var b strings.Builder
	index = -1
	for d, f := range stack {
		switch {
		case f.object && f.expectKey:
			// Between members (a key is being read): the object itself.
		case f.object:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(quoteKey(string(f.key)))
		default:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
			if d == 1 && stack[0].object && string(stack[0].key) == "data" {
				index = f.index
			}
		}
	}
	if top := len(stack) - 1; top >= 0 && stack[top].object && stack[top].expectKey {
		// The fault is in a key: name it.
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(quoteKey(string(stack[top].key)))
	}
	return index, b.String()
}

// scanString reads the string starting at body[i] (a quote). It returns the
// offset after it, its value when wanted (keys), and what breaks the domain.
func scanString(body []byte, i int, wantValue bool) (end int, value []byte, fault string) {
	j := i + 1
	escaped := false
	for j < len(body) && body[j] != '"' {
		if body[j] != '\\' {
			j++
			continue
		}
		escaped = true
		if j+1 < len(body) && body[j+1] == 'u' {
			n, f := escapeFault(body, j)
			if f != "" && fault == "" {
				fault = f
			}
			j += n
			continue
		}
		j += 2
	}
	if wantValue {
		raw := body[i+1 : min(j, len(body))]
		if escaped {
			value = unescape(raw)
		} else {
			value = raw // a sub-slice of the body: no copy
		}
	}
	return j + 1, value, fault
}

// escapeFault checks the \u escape at body[j]: no NUL, no unpaired
// surrogate. It returns how many bytes the escape (or surrogate pair) takes.
func escapeFault(body []byte, j int) (int, string) {
	cp, ok := hex4(body, j+2)
	switch {
	case !ok:
		return 2, "" // the decoder reports a bad escape
	case cp == 0:
		return 6, `the string contains \u0000, which PostgreSQL cannot store; remove it`
	case utf16.IsSurrogate(rune(cp)) && cp >= 0xDC00:
		return 6, "the string contains an unpaired low surrogate \\u" + strconv.FormatUint(uint64(cp), 16) + ", which is not Unicode text"
	case utf16.IsSurrogate(rune(cp)):
		if j+11 < len(body) && body[j+6] == '\\' && body[j+7] == 'u' {
			if lo, ok := hex4(body, j+8); ok && 0xDC00 <= lo && lo <= 0xDFFF {
				return 12, ""
			}
		}
		return 6, "the string contains an unpaired high surrogate \\u" + strconv.FormatUint(uint64(cp), 16) + ", which is not Unicode text"
	}
	return 6, ""
}

func hex4(b []byte, at int) (uint16, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return uint16(v), err == nil
}

// unescape decodes a JSON string's escapes, so that "a" and "\u0061" are one key.
func unescape(raw []byte) []byte {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return raw // malformed: the decoder reports it
	}
	return []byte(s)
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// numberFault reports a JSON number that PostgreSQL's numeric cannot hold:
// more than 131072 digits before the decimal point or 16383 after it.
func numberFault(s string) string {
	mant, exp, hasExp := strings.Cut(strings.TrimPrefix(s, "-"), "e")
	if !hasExp {
		mant, exp, hasExp = strings.Cut(mant, "E")
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	e := 0
	if hasExp {
		exp = strings.TrimPrefix(exp, "+")
		n, err := strconv.Atoi(exp)
		if err != nil || n > 1<<30 || n < -(1<<30) {
			return "the number " + truncate(s) + " is outside the range the store keeps exactly (PostgreSQL numeric)"
		}
		e = n
	}
	digits := intPart + frac
	first := strings.IndexFunc(digits, func(r rune) bool { return r != '0' })
	whole := 0
	if first >= 0 {
		whole = len(intPart) + e - first
	}
	scale := max(0, len(frac)-e)
	if whole > maxWholeDigits || scale > maxFractionDigits {
		return "the number " + truncate(s) + " is outside the range the store keeps exactly (PostgreSQL numeric: at most " +
			strconv.Itoa(maxWholeDigits) + " digits before the decimal point and " + strconv.Itoa(maxFractionDigits) + " after)"
	}
	return ""
}

// quoteKey shows a key in a path, control characters as JSON escapes.
func quoteKey(k string) string {
	if !strings.ContainsFunc(k, isControl) {
		return truncate(k)
	}
	var b strings.Builder
	for _, r := range k {
		if isControl(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return truncate(b.String())
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// MaxIdentifier is the longest identifier (IRI, type, action, profile, sensor)
// stored, in bytes: the spec asks stores to keep ids of at least 2048, and the
// stores index them (a PostgreSQL btree entry holds at most ~2.7 KB).
const MaxIdentifier = 2048

// indexedLengths checks, in both modes, the values the stores index: an
// event's type, action, profile and the ids of its actor, object, group,
// session and edApp (and the object's type); an entity item's id and type.
func (c *checker) indexedLengths(path string, doc any) {
	switch d := doc.(type) {
	case string:
		c.identifierLength(path, d)
	case map[string]any:
		c.identifierLength(path+".id", d["id"])
		c.identifierLength(path+".type", d["type"])
		if !IsEvent(d) {
			return
		}
		c.identifierLength(path+".action", d["action"])
		c.identifierLength(path+".profile", d["profile"])
		for _, name := range [...]string{"actor", "object", "group", "session", "edApp"} {
			switch ref := d[name].(type) {
			case string:
				c.identifierLength(path+"."+name, ref)
			case map[string]any:
				c.identifierLength(path+"."+name+".id", ref["id"])
				if name == "object" {
					c.identifierLength(path+".object.type", ref["type"])
				}
			}
		}
	}
}

func (c *checker) identifierLength(path string, v any) {
	if s, ok := v.(string); ok && len(s) > MaxIdentifier {
		c.add(path, "is %d bytes long; identifiers are limited to %d bytes (the store indexes them)", len(s), MaxIdentifier)
	}
}
