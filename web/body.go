package web

import (
	"bytes"
	"compress/gzip"

	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// readBody reads the request body, inflating a gzip Content-Encoding, and
// refuses with 413 a body whose (decompressed) size passes limit: reading
// stops at limit+1 bytes, so a gzip bomb costs no more than an honest body.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	req := c.Request()
	tooLarge := newProblem(http.StatusRequestEntityTooLarge, "too-large",
		"request body exceeds the maximum of "+formatBytes(limit))
	gzipped, err := gzipEncoded(req.Header.Values(echo.HeaderContentEncoding))
	if err != nil {
		return nil, err
	}
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	var src io.Reader = req.Body
	size := max(req.ContentLength, 0) + 1
	if gzipped {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, newProblem(http.StatusBadRequest, "body", "Content-Encoding is gzip but the body is not gzip data: "+err.Error())
		}
		defer zr.Close()
		src, size = zr, min(4*size, limit+1)
	}
	// Size the buffer from Content-Length when given: ReadAll's doubling
	// would copy a 5 MiB envelope a dozen times.
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if n > limit {
		return nil, tooLarge
	}
	if err != nil {
		return nil, newProblem(http.StatusBadRequest, "body", "could not read request body: "+err.Error())
	}
	return buf.Bytes(), nil
}

// gzipEncoded reads Content-Encoding: none or identity is a plain body, gzip
// (or its alias x-gzip) a compressed one; anything else is 415.
func gzipEncoded(values []string) (bool, error) {
	gzipped := false
	for _, v := range values {
		for _, enc := range strings.Split(v, ",") {
			switch enc = strings.ToLower(strings.TrimSpace(enc)); enc {
			case "", "identity":
			case "gzip", "x-gzip":
				if gzipped {
					return false, errUnsupportedEncoding("gzip, gzip")
				}
				gzipped = true
			default:
				return false, errUnsupportedEncoding(enc)
			}
		}
	}
	return gzipped, nil
}

func errUnsupportedEncoding(enc string) error {
	p := newProblem(http.StatusUnsupportedMediaType, "unsupported-encoding",
		"Content-Encoding "+enc+" is not supported; send the body plain or gzip-compressed")
	p.header = http.Header{"Accept-Encoding": {"gzip"}}
	return p
}
