package web

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// uiFiles is the web UI: one static page over the read API. The token a
// user types stays in the browser (sessionStorage) and goes only in the
// Authorization header of the API calls.
//
//go:embed ui/index.html
var uiFiles embed.FS

func (s *Server) ui(c echo.Context) error {
	page, err := uiFiles.ReadFile("ui/index.html")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline' 'self'; img-src 'self' data: blob:")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return c.HTMLBlob(http.StatusOK, page)
}
