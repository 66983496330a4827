package query

import (
	"net/url"

	"github.com/lrs-dev/lrs/store"
)

// Forwarders (package forward) select events with the read API's filters,
// kept as a query string, and start and report their position as cursors
// of ascending sync with those filters: a forwarder's position can resume
// GET /api/v1/events?ascending=true or the live stream, and their cursors
// can start a forwarder.

// ForwardFilter reads a forwarder's filter for tenant: the filter
// parameters of GET /api/v1/events as a query string ("course=…&action=…").
// Bad input is a *ParamError naming the parameter.
func ForwardFilter(filter string, tenantID int64) (store.EventFilter, url.Values, error) {
	params, err := url.ParseQuery(filter)
	if err != nil {
		return store.EventFilter{}, nil, &ParamError{Message: "is not a query string such as course=…&action=…: " + err.Error()}
	}
	if err := checkKnown(params, filterParams); err != nil {
		return store.EventFilter{}, nil, err
	}
	f, err := parseFilter(params, tenantID)
	return f, params, err
}

// ForwardCursor is the ascending cursor just after pos for the filter
// params of tenant.
func ForwardCursor(params url.Values, tenantID int64, pos store.Position) string {
	return encodeCursor(pos, true, syncFingerprint(params, tenantID))
}

// ForwardPosition reads an ascending cursor made for the filter params of
// tenant (by GET /api/v1/events?ascending=true, the stream or a
// forwarder); a *ParamError for any other.
func ForwardPosition(params url.Values, tenantID int64, cursor string) (store.Position, error) {
	pos, asc, err := decodeCursor(cursor, syncFingerprint(params, tenantID))
	if err != nil {
		return store.Position{}, err
	}
	if !asc {
		return store.Position{}, &ParamError{Param: "cursor", Message: "was made for a descending page; a forwarder starts from an ascending (ascending=true) cursor"}
	}
	return pos, nil
}

func syncFingerprint(params url.Values, tenantID int64) [8]byte {
	p := url.Values{}
	for k, vs := range params {
		p[k] = vs
	}
	p.Set("ascending", "true")
	return fingerprint(p, tenantID)
}
