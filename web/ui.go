package web

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// uiFiles is the web UI: a page, its style sheets and ES modules over the
// read API, and the vendored chart library (web/ui/vendor). Nothing is
// loaded from elsewhere. The token a user types stays in the browser tab
// (sessionStorage) and goes only in the Authorization header of API calls.
//
//go:embed ui/index.html ui/*.css ui/js/*.js ui/vendor/*.js ui/vendor/*.css
var uiFiles embed.FS

// uiCSP is the policy of every UI response: scripts and styles only from
// the server's own files (no inline code, no eval), API calls only to the
// same origin, and no framing (clickjacking). Style attributes set through
// the CSSOM by scripts (element.style) are not inline styles and stay allowed.
const uiCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// uiAsset is one embedded file with what its response needs.
type uiAsset struct {
	body        []byte
	contentType string
	etag        string
}

// uiAssets are the UI's files by path below /ui/ ("" is the page), read
// once: they are part of the binary.
var uiAssets = func() map[string]uiAsset {
	out := map[string]uiAsset{}
	err := fs.WalkDir(uiFiles, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := uiFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) { // not left to the host's mime tables
		case ".js":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".html":
			ct = "text/html; charset=utf-8"
		}
		name := strings.TrimPrefix(p, "ui/")
		if name == "index.html" {
			name = ""
		}
		out[name] = uiAsset{body: body, contentType: ct, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic("web: embedded UI: " + err.Error())
	}
	return out
}()

// ui serves GET /ui/*: the page at /ui/, its assets below it. Clients
// revalidate every time (no-cache) and get 304 while the binary is the same.
func (s *Server) ui(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; the UI keeps its state after # in the URL")
	}
	a, ok := uiAssets[c.Param("*")]
	if !ok {
		return echo.ErrNotFound
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.contentType, a.body)
}
