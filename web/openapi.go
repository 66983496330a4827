package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc is the OpenAPI 3 description of the whole HTTP API. A test keeps
// it in step with the routes and parameters the server really has.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, openAPIDoc)
}

// noParams refuses any query parameter on an endpoint that takes none (the
// probes, the Caliper configuration, this document), as every endpoint
// refuses parameters it does not know: a typo never passes unnoticed.
func noParams(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(c.QueryParams()) > 0 {
			return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
		}
		return h(c)
	}
}
