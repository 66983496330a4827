package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
)

// Admin is what the admin API (keys, erasure) asks of the store.
type Admin interface {
	IssueKey(ctx context.Context, spec store.KeySpec) (store.Key, string, error)
	ListKeys(ctx context.Context) ([]store.Key, error)
	RevokeKey(ctx context.Context, id int64) error
	EraseActor(ctx context.Context, r store.EraseRequest) (store.ActorErasure, error)
	SweepErasures(ctx context.Context) (bool, error)
	Erasures(ctx context.Context, tenant, id int64) ([]store.ErasureRecord, error)
}

// adminRoutes registers the admin API: keys with the admin scope manage
// their own tenant. The routes sit beside the /api/v1 group (which wants the
// read scope) rather than in it, so that a key without admin is told so.
func (s *Server) adminRoutes(e *echo.Echo) {
	admin := s.requireScope(store.ScopeAdmin)
	e.POST("/api/v1/keys", s.createKey, admin, requireJSON)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/keys", s.listKeys, admin)
	e.DELETE("/api/v1/keys", s.revokeKey, admin)
	e.DELETE("/api/v1/actors", s.eraseActor, admin)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/erasures", s.listErasures, admin)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/erasures/:id", s.getErasure, admin)
}

// keyJSON is a key on the wire; Token only in the answer that creates it.
type keyJSON struct {
	ID         int64      `json:"id"`
	Tenant     string     `json:"tenant"`
	Label      string     `json:"label"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RateLimit  *float64   `json:"rateLimit,omitempty"`
	Token      string     `json:"token,omitempty"`
}

func toKeyJSON(k store.Key) keyJSON {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return keyJSON{ID: k.ID, Tenant: k.Tenant, Label: k.Label, Scopes: k.Scopes, CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: utc(k.ExpiresAt), RevokedAt: utc(k.RevokedAt), LastUsedAt: utc(k.LastUsedAt), RateLimit: k.RateLimit}
}

// maxKeyLabel bounds a key's label, in characters.
const maxKeyLabel = 200

// newKeyRequest is the body of POST /api/v1/keys.
type newKeyRequest struct {
	Label     string   `json:"label"`
	Scopes    []string `json:"scopes"`
	ExpiresAt *string  `json:"expiresAt"`
	RateLimit *float64 `json:"rateLimit"`
}

// bodyProblem is a 400 naming the field of a JSON body at fault.
func bodyProblem(field, msg string) *Problem {
	p := newProblem(http.StatusBadRequest, "invalid-body", field+": "+msg+"; nothing was created")
	p.Problems = []caliper.Problem{{Index: -1, Path: field, Message: msg}}
	return p
}

// parseNewKey reads and checks the body of POST /api/v1/keys against now.
func parseNewKey(body []byte, now time.Time) (store.KeySpec, error) {
	var req newKeyRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return store.KeySpec{}, bodyProblem(te.Field, "must be a "+te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return store.KeySpec{}, bodyProblem(field, "unknown field; want label, scopes, expiresAt, rateLimit")
		}
		return store.KeySpec{}, newProblem(http.StatusBadRequest, "invalid-body", "the body must be one JSON object: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return store.KeySpec{}, newProblem(http.StatusBadRequest, "invalid-body", "the body must be one JSON object, with nothing after it")
	}
	spec := store.KeySpec{Label: req.Label, RateLimit: req.RateLimit}
	if utf8.RuneCountInString(req.Label) > maxKeyLabel || strings.ContainsFunc(req.Label, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return spec, bodyProblem("label", fmt.Sprintf("at most %d characters, no control characters", maxKeyLabel))
	}
	if len(req.Scopes) == 0 {
		return spec, bodyProblem("scopes", "give at least one of "+strings.Join(store.ValidScopes, ", "))
	}
	for i, sc := range req.Scopes {
		if !slices.Contains(store.ValidScopes, sc) {
			return spec, bodyProblem("scopes["+strconv.Itoa(i)+"]", fmt.Sprintf("unknown scope %q; want %s", sc, strings.Join(store.ValidScopes, ", ")))
		}
		if !slices.Contains(spec.Scopes, sc) {
			spec.Scopes = append(spec.Scopes, sc)
		}
	}
	if req.ExpiresAt != nil {
		at, err := time.Parse(time.RFC3339Nano, *req.ExpiresAt)
		if err != nil {
			return spec, bodyProblem("expiresAt", "must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
		}
		if !at.After(now) {
			return spec, bodyProblem("expiresAt", "must be in the future")
		}
		spec.ExpiresAt = &at
	}
	if r := req.RateLimit; r != nil && *r < 0 {
		return spec, bodyProblem("rateLimit", "must be 0 (no limit) or more events per second")
	}
	return spec, nil
}

// createKey makes a key for the caller's own tenant; the token is in this
// answer only.
func (s *Server) createKey(c echo.Context) error {
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	body, err := readBody(c, 64<<10)
	if err != nil {
		return err
	}
	spec, err := parseNewKey(body, time.Now())
	if err != nil {
		return err
	}
	spec.Tenant = keyFrom(c).Tenant
	k, token, err := s.admin.IssueKey(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	out := toKeyJSON(k)
	out.Token = token
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, out)
}

// tenantKeys returns the keys of tenant, oldest first.
func (s *Server) tenantKeys(ctx context.Context, tenant int64) ([]keyJSON, error) {
	all, err := s.admin.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := []keyJSON{}
	for _, k := range all {
		if k.TenantID == tenant {
			out = append(out, toKeyJSON(k))
		}
	}
	return out, nil
}

func (s *Server) listKeys(c echo.Context) error {
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	keys, err := s.tenantKeys(c.Request().Context(), keyFrom(c).TenantID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"keys": keys})
}

// revokeKey revokes one of the tenant's keys (the caller's own included):
// the next request with it is refused, on every node.
func (s *Server) revokeKey(c echo.Context) error {
	params := c.QueryParams()
	for k := range params {
		if k != "id" {
			return paramProblem(k, "unknown parameter; this endpoint takes id")
		}
	}
	if len(params["id"]) != 1 {
		return paramProblem("id", "give the key's id once")
	}
	id, err := strconv.ParseInt(params.Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return paramProblem("id", "must be a key id (a positive integer, as GET /api/v1/keys lists)")
	}
	ctx := c.Request().Context()
	keys, err := s.tenantKeys(ctx, keyFrom(c).TenantID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(keys, func(k keyJSON) bool { return k.ID == id })
	if i < 0 {
		return newProblem(http.StatusNotFound, "not-found", "the tenant has no key "+strconv.FormatInt(id, 10))
	}
	if err := s.admin.RevokeKey(ctx, id); err != nil {
		return err
	}
	if keys, err = s.tenantKeys(ctx, keyFrom(c).TenantID); err != nil {
		return err
	}
	if i = slices.IndexFunc(keys, func(k keyJSON) bool { return k.ID == id }); i < 0 {
		return newProblem(http.StatusNotFound, "not-found", "the tenant has no key "+strconv.FormatInt(id, 10))
	}
	return c.JSON(http.StatusOK, keys[i])
}
