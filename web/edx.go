package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
)

// EdxTransformer turns raw Open edX events into Caliper events.
type EdxTransformer interface {
	Transform(line []byte) edx.Result
	Sensor() string
}

// edxResponse is the summary POST /edx answers with.
type edxResponse struct {
	Stored     int    `json:"stored"`
	Duplicates int    `json:"duplicates"`
	EnvelopeID string `json:"envelopeId,omitempty"`
	*edx.Summary
}

// postEdx takes raw Open edX events — one, a JSON array or NDJSON, read by
// the rule lrs import reads files with (blank and # comment lines skipped) —,
// transforms them and stores the Caliper events exactly as POST /caliper
// would, as one atomic envelope. Lines that cannot be transformed are
// reported and skipped; unknown event names are counted.
func (s *Server) postEdx(c echo.Context) error {
	if s.edx == nil {
		return newProblem(http.StatusNotImplemented, "not-configured",
			"Open edX ingest is not configured: start lrs with --lms-url and --actor-secret (or --actor-map)")
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && mt != "application/x-ndjson") {
		return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type",
			"Content-Type must be application/json (one event or an array) or application/x-ndjson, got "+ct)
	}
	body, err := readBody(c, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	if err := caliper.CheckCost(body); err != nil {
		return err
	}
	docs, err := edx.SplitBody(body)
	if err != nil {
		return newProblem(http.StatusBadRequest, "invalid-body", err.Error())
	}
	sum := edx.NewSummary()
	var (
		events []map[string]any
		lineOf []int
	)
	for _, d := range docs {
		res := edx.Result{Outcome: edx.Invalid, Err: d.Err}
		if d.Kind == edx.DocumentLine {
			res = s.edx.Transform(d.JSON)
		}
		sum.Add(d.Line, res)
		for _, ev := range res.Events {
			events = append(events, ev)
			lineOf = append(lineOf, d.Line)
		}
	}
	resp := edxResponse{Summary: sum}
	if len(events) > 0 {
		env, err := edx.Envelope(s.edx.Sensor(), events)
		if err != nil {
			return err
		}
		key := keyFrom(c)
		res, err := s.ingestEnvelope(c, ingest.Source{TenantID: key.TenantID, APIKeyID: key.ID}, env)
		var ie *caliper.Error
		if errors.As(err, &ie) {
			// Name the input line of each problem, not its place in our envelope.
			for i, p := range ie.Problems {
				if p.Index >= 0 && p.Index < len(lineOf) {
					ie.Problems[i].Path = fmt.Sprintf("line %d: %s", lineOf[p.Index], p.Path)
					ie.Problems[i].Index = lineOf[p.Index]
				}
			}
			return ie
		}
		if err != nil {
			return err
		}
		resp.Stored, resp.Duplicates, resp.EnvelopeID = res.EventsStored, res.Duplicates, res.EnvelopeID
	}
	return c.JSON(http.StatusOK, resp)
}
