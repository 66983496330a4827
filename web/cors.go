package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// CORS headers: what browser sensors and dashboards send, and what their
// scripts may read from an answer (docs/configuration.md, "CORS").
var (
	corsAllowHeaders  = []string{echo.HeaderAuthorization, echo.HeaderContentType, echo.HeaderContentEncoding, "Prefer", echo.HeaderXRequestID}
	corsExposeHeaders = []string{"Retry-After", echo.HeaderXRequestID, "Preference-Applied", echo.HeaderContentDisposition, echo.HeaderWWWAuthenticate}
)

// corsMaxAge is how long (seconds) a browser may reuse a preflight's answer.
const corsMaxAge = 3600

// cors answers preflights for origins — before routing reaches
// authentication, which a preflight never carries — and marks the answers
// to allowed origins. "*" allows any origin and then never credentials
// (the Fetch standard forbids both at once); listed origins may send them.
func cors(origins []string) echo.MiddlewareFunc {
	wildcard := len(origins) == 1 && origins[0] == "*"
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     origins,
		AllowMethods:     []string{http.MethodGet, http.MethodHead, http.MethodPost},
		AllowHeaders:     corsAllowHeaders,
		ExposeHeaders:    corsExposeHeaders,
		AllowCredentials: !wildcard,
		MaxAge:           corsMaxAge,
	})
}
