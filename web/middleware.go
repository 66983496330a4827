package web

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/store"
)

type ctxKey int

const (
	loggerKey ctxKey = iota
)

// loggerFrom returns the request's logger (which carries its request id), or def.
func loggerFrom(ctx context.Context, def *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return def
}

// requestLog gives each request a logger carrying its id and logs one line when it ends.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		log := s.log.With(slog.String("request_id", id))
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), loggerKey, log)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		res := c.Response()
		level := slog.LevelInfo
		switch {
		case res.Status >= 500:
			level = slog.LevelError
		case res.Status < 400 && (req.URL.Path == "/healthz" || req.URL.Path == "/readyz"):
			level = slog.LevelDebug // probes every few seconds; a failing one stays at INFO
		}
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("client", c.RealIP()),
			slog.Int("status", res.Status),
			slog.Int64("bytes_in", req.ContentLength),
			slog.Int64("bytes_out", res.Size),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("user_agent", req.UserAgent()),
		}
		if k := keyFrom(c); k.ID != 0 {
			attrs = append(attrs, slog.String("tenant", k.Tenant), slog.Int64("key_id", k.ID))
		}
		if p, ok := c.Get(problemContextKey).(*Problem); ok { // why it was refused
			detail := p.Detail
			if len(detail) > 200 {
				detail = detail[:200] + "…"
			}
			attrs = append(attrs, slog.String("problem", strings.TrimPrefix(p.Type, problemBase)), slog.String("detail", detail))
		}
		log.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}

const (
	keyContextKey     = "lrs.key"
	problemContextKey = "lrs.problem"
)

// requireScope authenticates the bearer token and checks the key holds scope.
// Caliper 1.2 asks for 401 for every authentication and privilege failure.
func (s *Server) requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := s.bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				if err := s.limitAnonymous(c); err != nil {
					return err
				}
				return unauthorized("", "an Authorization header is required: Bearer <token>, or Basic with the token as the password")
			}
			key, err := s.keys.KeyByToken(c.Request().Context(), token)
			if err != nil {
				if isNotFound(err) {
					if err := s.limitAnonymous(c); err != nil {
						return err
					}
					return unauthorized("invalid_token", "the token is unknown, revoked or expired")
				}
				return err
			}
			c.Set(keyContextKey, key) // also for the request log of a refusal
			if !key.HasScope(scope) {
				return unauthorized("insufficient_scope", "the key lacks the "+scope+" scope")
			}
			if err := s.limitKey(c, key); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func keyFrom(c echo.Context) store.Key {
	k, _ := c.Get(keyContextKey).(store.Key)
	return k
}

// bearerToken extracts the token from an Authorization header. A bare token
// (no scheme), as caliper-java sends, is accepted only when configured.
func (s *Server) bearerToken(header string) (string, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", false
	}
	scheme, rest, found := strings.Cut(header, " ")
	if found && strings.EqualFold(scheme, "Bearer") {
		rest = strings.TrimSpace(rest)
		return rest, rest != ""
	}
	if found && strings.EqualFold(scheme, "Basic") {
		return basicToken(strings.TrimSpace(rest))
	}
	if s.cfg.AcceptBareToken && !found {
		return header, true
	}
	return "", false
}

// basicToken reads HTTP Basic credentials (RFC 7617), as Open edX's
// event-routing-backends sends them: the token is the password and the
// username is ignored; a token given as the username alone is taken too.
func basicToken(credentials string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(credentials)
	if err != nil {
		return "", false
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	if pass == "" {
		pass = user
	}
	return pass, pass != ""
}

// requireJSON refuses any body that is not application/json (parameters such as charset allowed).
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ct := c.Request().Header.Get(echo.HeaderContentType)
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			if ct == "" {
				ct = "none"
			}
			return newProblem(http.StatusUnsupportedMediaType, "unsupported-media-type",
				"Content-Type must be application/json, got "+ct)
		}
		return next(c)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
