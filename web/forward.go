package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/forward"
	"github.com/lrs-dev/lrs/store"
)

// Forwarding manages forwarders (forward.Service).
type Forwarding interface {
	Create(ctx context.Context, tenantID int64, spec forward.Spec) (forward.View, error)
	List(ctx context.Context, tenantID int64) ([]forward.View, error)
	Get(ctx context.Context, tenantID, id int64) (forward.View, error)
	Update(ctx context.Context, tenantID, id int64, p forward.Patch) (forward.View, error)
	Delete(ctx context.Context, tenantID, id int64) error
	DeadLetters(ctx context.Context, tenantID, id int64) ([]forward.DeadLetterView, error)
	Replay(ctx context.Context, tenantID, id, deadLetter int64) (forward.DeadLetterView, error)
}

// forwardRoutes registers the forwarders' API: admin keys manage their own
// tenant's forwarders.
func (s *Server) forwardRoutes(e *echo.Echo) {
	admin := s.requireScope(store.ScopeAdmin)
	get := []string{http.MethodGet, http.MethodHead}
	e.POST("/api/v1/forwarders", s.createForwarder, admin, requireJSON)
	e.Match(get, "/api/v1/forwarders", s.listForwarders, admin)
	e.Match(get, "/api/v1/forwarders/:id", s.getForwarder, admin)
	e.PATCH("/api/v1/forwarders/:id", s.patchForwarder, admin, requireJSON)
	e.DELETE("/api/v1/forwarders/:id", s.deleteForwarder, admin)
	e.Match(get, "/api/v1/forwarders/:id/dead-letters", s.listDeadLetters, admin)
	e.POST("/api/v1/forwarders/:id/dead-letters/:dl/replay", s.replayDeadLetter, admin)
}

// forwarderBody is the body of POST and PATCH /api/v1/forwarders.
type forwarderBody struct {
	Kind     *string `json:"kind"`
	URL      *string `json:"url"`
	Token    *string `json:"token"`
	Header   *string `json:"header"`
	Secret   *string `json:"secret"`
	Filter   *string `json:"filter"`
	From     *string `json:"from"`
	Batch    *int    `json:"batch"`
	MaxWait  *string `json:"maxWait"`
	OnReject *string `json:"onReject"`
	Paused   *bool   `json:"paused"`
}

const forwarderFields = "kind, url, token, header, secret, filter, from, batch, maxWait, onReject, paused"

func (s *Server) forwarding() (Forwarding, error) {
	if s.forwarders == nil {
		return nil, errors.New("forwarding not configured")
	}
	return s.forwarders, nil
}

// readForwarderBody reads and decodes the JSON body; a *Problem naming the field at fault.
func readForwarderBody(c echo.Context) (forwarderBody, *time.Duration, error) {
	var req forwarderBody
	if len(c.QueryParams()) > 0 {
		return req, nil, paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		return req, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return req, nil, bodyProblem(te.Field, "must be a "+te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return req, nil, bodyProblem(field, "unknown field; want "+forwarderFields)
		}
		return req, nil, newProblem(http.StatusBadRequest, "invalid-body", "the body must be one JSON object: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, nil, newProblem(http.StatusBadRequest, "invalid-body", "the body must be one JSON object, with nothing after it")
	}
	if req.MaxWait == nil {
		return req, nil, nil
	}
	d, err := time.ParseDuration(*req.MaxWait)
	if err != nil {
		return req, nil, bodyProblem("maxWait", "must be a duration such as 2s or 500ms")
	}
	return req, &d, nil
}

// forwardProblem maps the service's errors to problems.
func forwardProblem(err error, id int64) error {
	var fe *forward.FieldError
	switch {
	case errors.As(err, &fe):
		return bodyProblem(fe.Field, fe.Message)
	case errors.Is(err, store.ErrNotFound) && id > 0:
		return newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("the tenant has no forwarder %d", id))
	}
	return err
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) createForwarder(c echo.Context) error {
	fw, err := s.forwarding()
	if err != nil {
		return err
	}
	req, maxWait, err := readForwarderBody(c)
	if err != nil {
		return err
	}
	spec := forward.Spec{Kind: str(req.Kind), URL: str(req.URL), Token: str(req.Token), Header: str(req.Header), Secret: str(req.Secret),
		Filter: str(req.Filter), From: str(req.From), MaxWait: maxWait, OnReject: str(req.OnReject)}
	if req.Batch != nil {
		if *req.Batch == 0 {
			return bodyProblem("batch", fmt.Sprintf("must be from 1 to %d events", forward.MaxBatch))
		}
		spec.Batch = *req.Batch
	}
	if req.Paused != nil {
		spec.Paused = *req.Paused
	}
	v, err := fw.Create(c.Request().Context(), keyFrom(c).TenantID, spec)
	if err != nil {
		return forwardProblem(err, 0)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/forwarders/"+strconv.FormatInt(v.ID, 10))
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) listForwarders(c echo.Context) error {
	fw, err := s.forwarding()
	if err != nil {
		return err
	}
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	list, err := fw.List(c.Request().Context(), keyFrom(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"forwarders": list})
}

// forwarderID reads the path's forwarder id; a 404 for one that cannot be.
func forwarderID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		what := "forwarder"
		if name == "dl" {
			what = "dead letter"
		}
		return 0, newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("no %s %q: ids are positive integers", what, c.Param(name)))
	}
	return id, nil
}

// forwarderCall is the common part of the handlers of one forwarder.
func (s *Server) forwarderCall(c echo.Context, noParams bool, fn func(fw Forwarding, tenant, id int64) error) error {
	fw, err := s.forwarding()
	if err != nil {
		return err
	}
	if noParams && len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	id, err := forwarderID(c, "id")
	if err != nil {
		return err
	}
	return forwardProblem(fn(fw, keyFrom(c).TenantID, id), id)
}

func (s *Server) getForwarder(c echo.Context) error {
	return s.forwarderCall(c, true, func(fw Forwarding, tenant, id int64) error {
		v, err := fw.Get(c.Request().Context(), tenant, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	})
}

func (s *Server) deleteForwarder(c echo.Context) error {
	return s.forwarderCall(c, true, func(fw Forwarding, tenant, id int64) error {
		if err := fw.Delete(c.Request().Context(), tenant, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
}

func (s *Server) patchForwarder(c echo.Context) error {
	return s.forwarderCall(c, false, func(fw Forwarding, tenant, id int64) error {
		req, maxWait, err := readForwarderBody(c)
		if err != nil {
			return err
		}
		switch {
		case req.Kind != nil:
			return bodyProblem("kind", "cannot be changed; create another forwarder")
		case req.From != nil:
			return bodyProblem("from", "is where a new forwarder starts; it cannot be changed")
		}
		v, err := fw.Update(c.Request().Context(), tenant, id, forward.Patch{URL: req.URL, Token: req.Token, Header: req.Header,
			Secret: req.Secret, Filter: req.Filter, Batch: req.Batch, MaxWait: maxWait, OnReject: req.OnReject, Paused: req.Paused})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, v)
	})
}

func (s *Server) listDeadLetters(c echo.Context) error {
	return s.forwarderCall(c, true, func(fw Forwarding, tenant, id int64) error {
		list, err := fw.DeadLetters(c.Request().Context(), tenant, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"deadLetters": list})
	})
}

func (s *Server) replayDeadLetter(c echo.Context) error {
	return s.forwarderCall(c, true, func(fw Forwarding, tenant, id int64) error {
		dl, err := forwarderID(c, "dl")
		if err != nil {
			return err
		}
		v, err := fw.Replay(c.Request().Context(), tenant, id, dl)
		if errors.Is(err, store.ErrNotFound) {
			return newProblem(http.StatusNotFound, "not-found", fmt.Sprintf("forwarder %d has no dead letter %d", id, dl))
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, v)
	})
}
