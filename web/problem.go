package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// Problem is an RFC 7807 problem document, the body of every error response.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Parameter string            `json:"parameter,omitempty"`
	Limit     string            `json:"limit,omitempty"` // which rate limit refused it (429)
	Problems  []caliper.Problem `json:"problems,omitempty"`
	Truncated bool              `json:"truncated,omitempty"`
	RequestID string            `json:"requestId,omitempty"`

	header http.Header // extra response headers, such as WWW-Authenticate
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// problemType URIs name each kind of error so that clients can switch on them.
const problemBase = "https://lrs.dev/problems/"

func newProblem(status int, kind, detail string) *Problem {
	return &Problem{Type: problemBase + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

// unauthorized builds a 401 with the RFC 6750 challenge.
func unauthorized(code, detail string) *Problem {
	p := newProblem(http.StatusUnauthorized, "unauthorized", detail)
	challenge := `Bearer realm="lrs"`
	if code != "" {
		challenge += `, error="` + code + `", error_description="` + detail + `"`
	}
	p.header = http.Header{"WWW-Authenticate": {challenge}}
	return p
}

// errorHandler maps every error a handler returns to a problem response, in one place.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.toProblem(err, c)
	c.Set(problemContextKey, p) // for the request log
	if s.isIngestRoute(c) {
		s.metrics.refusedEnvelope(keyFrom(c).Tenant, p)
	}
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	for k, vs := range p.header {
		for _, v := range vs {
			c.Response().Header().Add(k, v)
		}
	}
	if bodyUnread(c.Request()) {
		// Answer now and close, instead of net/http reading the body first.
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = writeJSON(c.Response(), p)
}

// isIngestRoute reports a request that posts events (Caliper or Open edX).
func (s *Server) isIngestRoute(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (c.Path() == s.cfg.CaliperPath || c.Path() == "/edx")
}

func (s *Server) toProblem(err error, c echo.Context) *Problem {
	var (
		p   *Problem
		ie  *caliper.Error
		he  *echo.HTTPError
		pe  *query.ParamError
		log = loggerFrom(c.Request().Context(), s.log)
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &ie):
		return ingestProblem(ie)
	case errors.As(err, &pe):
		p := newProblem(http.StatusBadRequest, "invalid-parameter", pe.Error())
		p.Parameter = pe.Param
		return p
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		return newProblem(he.Code, "http", msg)
	case errors.Is(err, store.ErrNotFound):
		return newProblem(http.StatusNotFound, "not-found", "no such resource")
	case errors.Is(err, store.ErrConflict):
		return newProblem(http.StatusConflict, "conflict", "the request conflicts with what is stored; nothing was stored")
	case errors.Is(err, store.ErrOutcomeUnknown):
		// The connection broke during COMMIT: the envelope may be stored.
		log.Warn("storage outcome unknown", slog.Any("err", err))
		return unavailableProblem("outcome-unknown", "storage failed while committing: the request may or may not have been stored. "+
			"Retrying it is safe: events are stored once by id, so a retry never stores one twice")
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		log.Warn("storage unavailable", slog.Any("err", err))
		return unavailableProblem("unavailable", "storage is unavailable; nothing was stored, retry later")
	case errors.Is(err, context.Canceled):
		return newProblem(499, "canceled", "request canceled") // client is gone; nobody reads this
	}
	log.Error("request failed", slog.Any("err", err))
	return newProblem(http.StatusInternalServerError, "internal", "internal error; nothing was stored. The request id identifies it in the logs")
}

// retryAfter is the Retry-After (seconds) of every 503: long enough for a
// restarting database or a freed disk, short enough that sensors do not
// buffer for long.
const retryAfter = "5"

// unavailableProblem is a 503 with Retry-After.
func unavailableProblem(kind, detail string) *Problem {
	p := newProblem(http.StatusServiceUnavailable, kind, detail)
	p.header = http.Header{"Retry-After": {retryAfter}}
	return p
}

func ingestProblem(e *caliper.Error) *Problem {
	var p *Problem
	switch e.Kind {
	case caliper.KindUnsupportedVersion:
		p = newProblem(http.StatusUnprocessableEntity, "unsupported-version", e.Error())
	case caliper.KindTooComplex:
		p = newProblem(http.StatusRequestEntityTooLarge, "too-large", e.Error())
	case caliper.KindConflict:
		p = newProblem(http.StatusConflict, "conflict", "event ids already stored with different content; nothing from this envelope was stored")
	default:
		p = newProblem(http.StatusBadRequest, "invalid-envelope", e.Error())
	}
	p.Problems = e.Problems
	p.Truncated = e.Truncated
	return p
}
