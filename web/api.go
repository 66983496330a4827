package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// Querier answers the read API's list, stats and export requests.
type Querier interface {
	Events(ctx context.Context, tenantID int64, path string, params url.Values) (*query.Page, error)
	Stats(ctx context.Context, tenantID int64, params url.Values) (*query.StatsResult, error)
	Export(ctx context.Context, w io.Writer, format string, f store.EventFilter) (int, error)
}

// Lookups fetch single records by id.
type Lookups interface {
	EventByID(ctx context.Context, tenantID int64, id uuid.UUID) (store.StoredEvent, error)
	EnvelopeByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error)
	EntityByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error)
}

func (s *Server) listEvents(c echo.Context) error {
	page, err := s.query.Events(c.Request().Context(), keyFrom(c).TenantID, c.Request().URL.Path, c.QueryParams())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getEvent(c echo.Context) error {
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	raw, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	id, err := uuid.Parse(strings.TrimPrefix(strings.ToLower(raw), "urn:uuid:"))
	if err != nil {
		return paramProblem("id", "must be an event id, urn:uuid:<uuid> or the bare UUID")
	}
	ev, err := s.lookups.EventByID(c.Request().Context(), keyFrom(c).TenantID, id)
	if err != nil {
		return err
	}
	// What the event JSON (as sent) does not say: the envelope it came in
	// and when it was stored.
	h := c.Response().Header()
	h.Set("Link", "</api/v1/envelopes/"+ev.EnvelopeID+`>; rel="envelope"`)
	h.Set("X-Stored-At", ev.StoredAt.UTC().Format(time.RFC3339Nano))
	return c.JSONBlob(http.StatusOK, ev.Data)
}

func (s *Server) getEnvelope(c echo.Context) error {
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	raw, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if !store.IsEnvelopeID(raw) {
		return paramProblem("id", "must be an envelope id (the envelopeId of the ingest summary)")
	}
	env, err := s.lookups.EnvelopeByID(c.Request().Context(), keyFrom(c).TenantID, raw)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, env)
}

func (s *Server) getEntity(c echo.Context) error {
	params := c.QueryParams()
	for k := range params {
		if k != "id" {
			return paramProblem(k, "unknown parameter; this endpoint takes id")
		}
	}
	if len(params["id"]) != 1 || params.Get("id") == "" {
		return paramProblem("id", "give the entity's IRI once")
	}
	if err := query.CheckText("id", params.Get("id")); err != nil {
		return err
	}
	data, err := s.lookups.EntityByID(c.Request().Context(), keyFrom(c).TenantID, params.Get("id"))
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, data)
}

func (s *Server) stats(c echo.Context) error {
	res, err := s.query.Stats(c.Request().Context(), keyFrom(c).TenantID, c.QueryParams())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// export streams the matching events. Once the first byte is sent the status
// cannot change, so a failure part-way aborts the connection: the client sees
// a broken transfer, never a short file that looks complete.
func (s *Server) export(c echo.Context) error {
	params := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "ticket" { // authentication (streamAuth), not a filter
			params[k] = v
		}
	}
	format, f, err := query.PrepareExport(keyFrom(c).TenantID, params)
	if err != nil {
		return err
	}
	res := c.Response()
	// An export may take longer than the server's write timeout.
	_ = http.NewResponseController(res.Writer).SetWriteDeadline(time.Time{})
	res.Header().Set(echo.HeaderContentType, query.ExportFormats[format])
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="events.`+format+`"`)
	res.WriteHeader(http.StatusOK)
	n, err := s.query.Export(c.Request().Context(), res, format, f)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			loggerFrom(c.Request().Context(), s.log).Error("export failed", slog.Int("events_written", n), slog.Any("err", err))
		}
		panic(http.ErrAbortHandler)
	}
	loggerFrom(c.Request().Context(), s.log).Info("export", slog.String("format", format), slog.Int("events", n))
	return nil
}

func paramProblem(param, msg string) error {
	return &query.ParamError{Param: param, Message: msg}
}

// pathParam returns a path parameter percent-decoded: Echo matches on the
// raw path, and many HTTP libraries send urn%3Auuid%3A… for an event id.
func pathParam(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return "", paramProblem(name, "is not validly percent-encoded")
	}
	return v, nil
}

func firstParam(v url.Values) string {
	for k := range v {
		return k
	}
	return ""
}
