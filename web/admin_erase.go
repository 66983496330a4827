package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// eraseActor erases one actor of the key's tenant (docs/privacy.md): its
// events, its entity and every other stored occurrence of its IRI; with
// dry_run=true it only counts. The IRI is never logged (the request log has
// the path, not the query), only the audit record's hash of it.
func (s *Server) eraseActor(c echo.Context) error {
	params := c.QueryParams()
	for k := range params {
		if k != "id" && k != "dry_run" {
			return paramProblem(k, "unknown parameter; this endpoint takes id and dry_run")
		}
	}
	if len(params["id"]) != 1 || params.Get("id") == "" {
		return paramProblem("id", "give the actor's IRI once")
	}
	iri := params.Get("id")
	if err := query.CheckText("id", iri); err != nil {
		return err
	}
	if u, err := url.Parse(iri); err != nil || u.Scheme == "" {
		return paramProblem("id", "must be the actor's IRI (an absolute URI such as https://example.edu/users/554433)")
	}
	dry := false
	switch v := params["dry_run"]; {
	case len(v) == 0:
	case len(v) == 1 && (v[0] == "true" || v[0] == "false"):
		dry = v[0] == "true"
	default:
		return paramProblem("dry_run", "must be true or false, once")
	}
	k := keyFrom(c)
	ctx := c.Request().Context()
	res, err := s.admin.EraseActor(ctx, store.EraseRequest{TenantID: k.TenantID, Actor: iri, KeyID: k.ID, DryRun: dry})
	if err != nil {
		return err
	}
	loggerFrom(ctx, s.log).Info("actor erasure", slog.Bool("dry_run", dry), slog.String("subject", res.Subject),
		slog.Int64("events_deleted", res.EventsDeleted), slog.Int64("events_redacted", res.EventsRedacted))
	if dry {
		return c.JSON(http.StatusOK, res)
	}
	// Sweep for a moment before answering: a small store is done, and the
	// answer is final; a large one goes on in the background (every node
	// sweeps) and the record says when it ends.
	wait := s.cfg.EraseSweepWait
	if wait == 0 {
		wait = DefaultEraseSweepWait
	}
	if _, err := store.SweepFor(ctx, s.admin, wait); err != nil {
		loggerFrom(ctx, s.log).Warn("erasure sweep", "err", err)
	}
	if recs, err := s.admin.Erasures(ctx, k.TenantID, res.ID); err == nil {
		res = recs[0].ActorErasure
	}
	location := "/api/v1/erasures/" + strconv.FormatInt(res.ID, 10)
	c.Response().Header().Set("Location", location)
	if res.Complete {
		return c.JSON(http.StatusOK, res)
	}
	return c.JSON(http.StatusAccepted, res)
}

// DefaultEraseSweepWait is how long DELETE /api/v1/actors sweeps before
// answering: a store of up to a few hundred thousand events is done.
const DefaultEraseSweepWait = 2 * time.Second

// listErasures answers the tenant's erasure records, newest first.
func (s *Server) listErasures(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	recs, err := s.admin.Erasures(c.Request().Context(), keyFrom(c).TenantID, 0)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []store.ErasureRecord{}
	}
	return c.JSON(http.StatusOK, map[string]any{"erasures": recs})
}

// getErasure answers one erasure record of the tenant.
func (s *Server) getErasure(c echo.Context) error {
	if err := onlyParams(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return newProblem(http.StatusNotFound, "not-found", "the tenant has no erasure "+strconv.Quote(c.Param("id")))
	}
	recs, err := s.admin.Erasures(c.Request().Context(), keyFrom(c).TenantID, id)
	if isNotFound(err) {
		return newProblem(http.StatusNotFound, "not-found", "the tenant has no erasure "+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recs[0])
}

// onlyParams refuses any query parameter.
func onlyParams(c echo.Context) error {
	for k := range c.QueryParams() {
		return paramProblem(k, "unknown parameter; this endpoint takes none")
	}
	return nil
}
