package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/ingest"
)

// envelopeOutcome is what happened to one envelope of a batch.
type envelopeOutcome struct {
	Index  int `json:"index"`
	Status int `json:"status"`
	*ingest.Result
	Problem *Problem `json:"problem,omitempty"`
}

// batchResponse is the body POST /caliper answers an array of envelopes with.
type batchResponse struct {
	Envelopes []envelopeOutcome `json:"envelopes"`
	Stored    int               `json:"stored"`  // envelopes stored (or all duplicates)
	Refused   int               `json:"refused"` // envelopes not stored
}

// postEnvelopes stores a JSON array of envelopes, each its own atomic unit,
// in order. The status is 200 when every envelope was stored; otherwise 503
// when any refusal is worth retrying (resending the array is safe: stored
// events are duplicates), else the refusals' common status, else 400.
func (s *Server) postEnvelopes(c echo.Context, src ingest.Source, body []byte) error {
	envelopes, err := splitArray(body)
	if err != nil {
		return err
	}
	resp := batchResponse{Envelopes: make([]envelopeOutcome, len(envelopes))}
	status := http.StatusOK
	retry := false
	for i, env := range envelopes {
		out := envelopeOutcome{Index: i, Status: http.StatusOK}
		res, err := s.ingestEnvelope(c, src, env)
		if err != nil {
			p := s.toProblem(err, c)
			s.metrics.refusedEnvelope(keyFrom(c).Tenant, p)
			p.Detail = "envelope " + strconv.Itoa(i) + ": " + p.Detail
			out.Status, out.Problem = p.Status, p
			resp.Refused++
			retry = retry || p.Status >= 500
			switch {
			case status == http.StatusOK:
				status = p.Status
			case status != p.Status:
				status = http.StatusBadRequest
			}
		} else {
			out.Result = &res
			resp.Stored++
		}
		resp.Envelopes[i] = out
	}
	if retry {
		status = http.StatusServiceUnavailable
		c.Response().Header().Set("Retry-After", "5")
	}
	return c.JSON(status, resp)
}

// isJSONArray reports whether body's first non-space byte opens an array.
func isJSONArray(body []byte) bool {
	t := bytes.TrimLeft(body, " \t\r\n")
	return len(t) > 0 && t[0] == '['
}

// splitArray cuts a JSON array into its elements' bytes, without decoding them.
func splitArray(body []byte) ([]json.RawMessage, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, newProblem(http.StatusBadRequest, "invalid-envelope",
			"body is a JSON array but not valid JSON: "+err.Error())
	}
	if len(elems) == 0 {
		return nil, newProblem(http.StatusBadRequest, "invalid-envelope",
			"body is an empty array; send an envelope or an array of envelopes")
	}
	if !isEnvelope(elems[0]) {
		return nil, newProblem(http.StatusBadRequest, "invalid-envelope",
			"body is a JSON array of Caliper items, not of envelopes; wrap the items in an envelope "+
				`{"sensor", "sendTime", "dataVersion", "data": [...]}`)
	}
	return elems, nil
}

// isEnvelope reports whether an array element is meant as an envelope (it
// has an envelope field), as opposed to a bare event or entity.
func isEnvelope(elem json.RawMessage) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(elem, &fields) != nil {
		return true // let the envelope decoder name the fault
	}
	for _, f := range []string{"sensor", "sendTime", "dataVersion", "data"} {
		if _, ok := fields[f]; ok {
			return true
		}
	}
	return false
}
