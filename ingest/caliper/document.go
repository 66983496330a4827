package caliper

import (
	"bytes"
	"encoding/json"
	"errors"
)

// CheckDocument validates one JSON document the way the endpoint would: an
// envelope as it is; a single event or entity, or an array of them, wrapped
// in an envelope whose dataVersion follows the first item's @context. It
// returns the item offsets into doc (for line numbers) and the *Error, if any.
func (v *Validator) CheckDocument(doc []byte) ([]int, error) {
	body, delta := doc, 0 // delta: an item's offset in body minus its offset in doc
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{' && !looksLikeEnvelope(trimmed)) {
		items, bracket := trimmed, 0
		if trimmed[0] == '{' {
			items, bracket = append(append([]byte{'['}, trimmed...), ']'), 1
		}
		prefix := []byte(`{"sensor":"urn:lrs:validate","sendTime":"1970-01-01T00:00:00.000Z","dataVersion":"` +
			versionOf(trimmed) + `","data":`)
		body = append(append(prefix, items...), '}')
		lead := len(doc) - len(bytes.TrimLeft(doc, " \t\r\n"))
		delta = len(prefix) + bracket - lead
	}
	env, err := DecodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	offsets := make([]int, len(env.Items))
	for i, it := range env.Items {
		offsets[i] = it.Offset - delta
	}
	return offsets, v.Validate(env)
}

func looksLikeEnvelope(obj []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(obj, &probe) != nil {
		return true // let the envelope decoder Report the syntax error
	}
	_, hasData := probe["data"]
	_, hasVersion := probe["dataVersion"]
	_, hasSensor := probe["sensor"]
	return hasData || hasVersion || hasSensor
}

// versionOf picks the dataVersion for wrapping bare items: 1.1 when the first
// item's @context is a 1.1 context, else 1.2.
func versionOf(doc []byte) string {
	var first any
	if doc[0] == '[' {
		var arr []json.RawMessage
		if json.Unmarshal(doc, &arr) != nil || len(arr) == 0 {
			return V1p2
		}
		doc = arr[0]
	}
	var item struct {
		Context json.RawMessage `json:"@context"`
	}
	if json.Unmarshal(doc, &item) != nil {
		return V1p2
	}
	_ = json.Unmarshal(item.Context, &first)
	ctx, _ := first.(string)
	if arr, ok := first.([]any); ok && len(arr) > 0 {
		ctx, _ = arr[len(arr)-1].(string)
	}
	n := NormaliseIRI(ctx)
	if n == V1p1 || extensionEventTypes[n] != nil {
		return V1p1
	}
	return V1p2
}

// AsError returns err as an *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
