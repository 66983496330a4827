package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
)

// postCaliper is the Caliper endpoint: one envelope per request, stored
// atomically; 200 with an empty body once it has committed. A JSON array of
// envelopes (how Open edX's event-routing-backends batches) is postEnvelopes.
func (s *Server) postCaliper(c echo.Context) error {
	body, err := readBody(c, s.cfg.MaxBody)
	if err != nil {
		return err
	}
	key := keyFrom(c)
	src := ingest.Source{TenantID: key.TenantID, APIKeyID: key.ID}
	if isJSONArray(body) {
		return s.postEnvelopes(c, src, body)
	}
	res, err := s.ingestEnvelope(c, src, body)
	if err != nil {
		return err
	}
	if wantsRepresentation(c.Request().Header.Values("Prefer")) {
		c.Response().Header().Set("Preference-Applied", "return=representation")
		return c.JSON(http.StatusOK, res)
	}
	return c.NoContent(http.StatusOK)
}

// ingestEnvelope validates and stores one envelope, recording its size,
// events and the time each step took. Refusals are counted where they become
// problems (errorHandler, postEnvelopes).
func (s *Server) ingestEnvelope(c echo.Context, src ingest.Source, body []byte) (ingest.Result, error) {
	start := time.Now()
	b, err := s.ingest.Prepare(src, body)
	events := 0
	if err == nil {
		events = len(b.Rows.Events)
		s.chargeEvents(keyFrom(c), events)
	}
	s.metrics.received(len(body), events, time.Since(start))
	if err != nil {
		return ingest.Result{}, err
	}
	start = time.Now()
	res, err := s.ingest.Save(c.Request().Context(), b)
	s.metrics.saved(keyFrom(c).Tenant, res.EventsStored, res.Duplicates, time.Since(start), err == nil)
	return res, err
}

// wantsRepresentation reports an RFC 7240 "Prefer: return=representation".
func wantsRepresentation(prefer []string) bool {
	for _, h := range prefer {
		for _, p := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=representation") {
				return true
			}
		}
	}
	return false
}

// endpointConfig is the Caliper 1.2 endpoint configuration (camelCase, per the spec text).
type endpointConfig struct {
	SupportedVersions   []string       `json:"caliperSupportedVersions"`
	MaximumPayloadSize  int64          `json:"caliperMaximumPayloadSize"`
	SupportedExtensions map[string]any `json:"caliperSupportedExtensions"`
}

// caliperConfig answers GET on the endpoint. It needs no token: it says
// nothing about any tenant.
func (s *Server) caliperConfig(c echo.Context) error {
	return c.JSON(http.StatusOK, endpointConfig{
		SupportedVersions:   caliper.SupportedVersions,
		MaximumPayloadSize:  s.cfg.MaxBody / 1024,
		SupportedExtensions: map[string]any{},
	})
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
