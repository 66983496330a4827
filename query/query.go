// Package query is the read path: it turns HTTP query parameters into store
// filters, pages through events with opaque keyset cursors, and writes
// exports. It knows nothing of HTTP servers; web calls it.
package query

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lrs-dev/lrs/internal/hll"
	"github.com/lrs-dev/lrs/store"
)

// Limits of the read API.
const (
	DefaultLimit      = 100
	MaxLimit          = 1000
	DefaultStatsLimit = 100
	MaxStatsLimit     = 10000
)

// ParamError is a bad query parameter; the message says what is wrong with it.
type ParamError struct {
	Param   string
	Message string
}

func (e *ParamError) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

// filterParams are the parameters every event-selecting endpoint takes.
var filterParams = []string{
	"actor", "action", "type", "object", "object_type", "course", "session", "edapp",
	"profile", "sensor", "since", "until", "stored_since", "contains",
}

// Endpoint parameter sets, filters included.
var (
	EventsParams = append(slices.Clone(filterParams), "limit", "ascending", "cursor")
	StatsParams  = append(slices.Clone(filterParams), "by", "limit", "count")
	ExportParams = append(slices.Clone(filterParams), "format")
)

// checkKnown rejects parameters the endpoint does not take (a typo must not
// silently widen a query) and values no stored text can match (see CheckText).
func checkKnown(v url.Values, known []string) error {
	var unknown []string
	for k := range v {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		if unknown[0] == "" {
			return &ParamError{Param: "", Message: "a parameter has no name (a stray = or &)"}
		}
		return &ParamError{Param: unknown[0], Message: "unknown parameter; this endpoint takes " + strings.Join(known, ", ")}
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, val := range v[k] {
			if err := CheckText(k, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckText refuses a parameter value that is not valid UTF-8 or holds a
// NUL byte: no stored text can contain either, and PostgreSQL refuses such
// a value outright.
func CheckText(param, value string) error {
	if !utf8.ValidString(value) {
		return &ParamError{Param: param, Message: "must be valid UTF-8"}
	}
	if strings.IndexByte(value, 0) >= 0 {
		return &ParamError{Param: param, Message: "must not contain a NUL byte"}
	}
	return nil
}

// parseFilter reads the filter parameters for tenant.
func parseFilter(v url.Values, tenantID int64) (store.EventFilter, error) {
	f := store.EventFilter{TenantID: tenantID}
	lists := map[string]*[]string{
		"actor": &f.Actors, "action": &f.Actions, "type": &f.Types, "object": &f.Objects,
		"object_type": &f.ObjectTypes, "course": &f.Courses, "session": &f.Sessions,
		"edapp": &f.EdApps, "profile": &f.Profiles, "sensor": &f.Sensors,
	}
	for name, dst := range lists {
		for _, val := range v[name] {
			if val == "" {
				return f, &ParamError{Param: name, Message: "must not be empty"}
			}
			*dst = append(*dst, val)
		}
	}
	// A given time always filters, even the zero time 0001-01-01T00:00:00Z.
	for name, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until, "stored_since": &f.StoredSince} {
		vals := v[name]
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 {
			return f, &ParamError{Param: name, Message: "give it once"}
		}
		t, err := time.Parse(time.RFC3339Nano, vals[0])
		if err != nil {
			return f, &ParamError{Param: name, Message: "must be an RFC 3339 date-time such as 2025-09-01T00:00:00Z"}
		}
		t = t.UTC()
		*dst = &t
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return f, &ParamError{Param: "until", Message: "must be after since"}
	}
	for _, doc := range v["contains"] {
		var obj map[string]any
		if err := json.Unmarshal([]byte(doc), &obj); err != nil || obj == nil {
			return f, &ParamError{Param: "contains", Message: `must be a JSON object, such as {"extensions":{"attempt":2}}`}
		}
		if msg := storableJSON([]byte(doc)); msg != "" {
			return f, &ParamError{Param: "contains", Message: msg}
		}
		f.Contains = append(f.Contains, []byte(doc))
	}
	return f, nil
}

func parseInt(v url.Values, name string, def, max int) (int, error) {
	vals := v[name]
	if len(vals) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(vals[0])
	if err != nil || n < 1 || n > max || len(vals) > 1 {
		return 0, &ParamError{Param: name, Message: fmt.Sprintf("must be a whole number from 1 to %d, given once", max)}
	}
	return n, nil
}

func parseBool(v url.Values, name string) (bool, error) {
	vals := v[name]
	if len(vals) == 0 {
		return false, nil
	}
	b, err := strconv.ParseBool(vals[0])
	if err != nil || len(vals) > 1 {
		return false, &ParamError{Param: name, Message: "must be true or false, given once"}
	}
	return b, nil
}

// Store is what the read path needs of a backend.
type Store interface {
	ListEvents(ctx context.Context, f store.EventFilter, after *store.Position, ascending bool, limit int) ([]store.StoredEvent, error)
	ExportEvents(ctx context.Context, f store.EventFilter, dataOnly bool, fn func(*store.StoredEvent) error) error
	Stats(ctx context.Context, q store.StatsQuery) (store.StatsAnswer, error)
}

// Service answers read queries for one store.
type Service struct {
	store Store
}

// NewService returns a Service reading st.
func NewService(st Store) *Service { return &Service{store: st} }

// Page is one page of events.
type Page struct {
	Events []json.RawMessage `json:"events"`
	// More is the URL of the next page, or "" when this page is the last (so far).
	More string `json:"more"`
	// Cursor marks the end of this page; a syncing client keeps it to ask
	// later for what is stored after it.
	Cursor string `json:"cursor,omitempty"`
}

// Events answers GET /api/v1/events: params are the request's query; path
// is the endpoint's path, for the more URL.
func (s *Service) Events(ctx context.Context, tenantID int64, path string, params url.Values) (*Page, error) {
	if err := checkKnown(params, EventsParams); err != nil {
		return nil, err
	}
	f, err := parseFilter(params, tenantID)
	if err != nil {
		return nil, err
	}
	limit, err := parseInt(params, "limit", DefaultLimit, MaxLimit)
	if err != nil {
		return nil, err
	}
	ascending, err := parseBool(params, "ascending")
	if err != nil {
		return nil, err
	}
	fp := fingerprint(params, tenantID)
	var after *store.Position
	if c := params.Get("cursor"); c != "" {
		pos, asc, err := decodeCursor(c, fp)
		if err != nil {
			return nil, err
		}
		if asc != ascending {
			return nil, &ParamError{Param: "cursor", Message: "was made for the other direction (ascending)"}
		}
		after = &pos
	}
	events, err := s.store.ListEvents(ctx, f, after, ascending, limit)
	if err != nil {
		return nil, err
	}
	page := &Page{Events: make([]json.RawMessage, len(events))}
	for i := range events {
		page.Events[i] = events[i].Data
	}
	last := after
	if len(events) > 0 {
		last = &events[len(events)-1].Position
	}
	if last != nil {
		page.Cursor = encodeCursor(*last, ascending, fp)
	}
	if len(events) == limit {
		next := url.Values{}
		for k, vs := range params {
			next[k] = vs
		}
		next.Set("cursor", page.Cursor)
		page.More = path + "?" + next.Encode()
	}
	return page, nil
}

// fingerprint identifies a query's filter and direction, so a cursor cannot
// be replayed against another query, where its position would mean nothing.
func fingerprint(params url.Values, tenantID int64) [8]byte {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "cursor" && k != "limit" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	fmt.Fprintf(h, "%d\n", tenantID)
	for _, k := range keys {
		vs := slices.Clone(params[k])
		sort.Strings(vs)
		fmt.Fprintf(h, "%s=%q\n", k, vs)
	}
	var fp [8]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

// A cursor is base64url(version, flags, tx, seq, fingerprint): opaque to clients.
const cursorVersion = 1

func encodeCursor(p store.Position, ascending bool, fp [8]byte) string {
	b := make([]byte, 0, 26)
	b = append(b, cursorVersion)
	flags := byte(0)
	if ascending {
		flags = 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, p.Tx)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Seq))
	b = append(b, fp[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errCursor = &ParamError{Param: "cursor", Message: "is not a cursor this server made; use the more URL or cursor of a previous page"}

func decodeCursor(s string, fp [8]byte) (store.Position, bool, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 26 || b[0] != cursorVersion || b[1] > 1 {
		return store.Position{}, false, errCursor
	}
	if [8]byte(b[18:26]) != fp {
		return store.Position{}, false, &ParamError{Param: "cursor", Message: "belongs to a query with other filters"}
	}
	return store.Position{Tx: binary.BigEndian.Uint64(b[2:10]), Seq: int64(binary.BigEndian.Uint64(b[10:18]))}, b[1] == 1, nil
}

// StatDimensions are the names events can be counted by (the by parameter
// of GET /api/v1/stats). Each store holds the SQL of every one of them.
var StatDimensions = []string{"action", "type", "object", "actor", "course", "day", "hour"}

// StatsResult is the answer of GET /api/v1/stats.
type StatsResult struct {
	By     []string         `json:"by"`
	Groups []map[string]any `json:"groups"`
	// Count is what was counted: "events", or "actors" (distinct).
	Count string `json:"count"`
	// Truncated: more groups exist than limit allowed.
	Truncated bool `json:"truncated"`
	// Source is where the counts come from: "rollup" (roll-ups plus the
	// events stored since they were updated) or "scan" (the events).
	Source string `json:"source"`
	// Approximate: counts are HyperLogLog estimates, within ApproxError
	// (relative standard error) of the exact count.
	Approximate bool     `json:"approximate"`
	ApproxError *float64 `json:"approximate_error,omitempty"`
}

// Stats answers GET /api/v1/stats.
func (s *Service) Stats(ctx context.Context, tenantID int64, params url.Values) (*StatsResult, error) {
	if err := checkKnown(params, StatsParams); err != nil {
		return nil, err
	}
	f, err := parseFilter(params, tenantID)
	if err != nil {
		return nil, err
	}
	limit, err := parseInt(params, "limit", DefaultStatsLimit, MaxStatsLimit)
	if err != nil {
		return nil, err
	}
	var by []string
	for _, v := range params["by"] {
		for _, d := range strings.Split(v, ",") {
			if !slices.Contains(StatDimensions, d) {
				return nil, &ParamError{Param: "by", Message: fmt.Sprintf("unknown dimension %q; use one or two of %s", d, strings.Join(StatDimensions, ", "))}
			}
			if slices.Contains(by, d) {
				return nil, &ParamError{Param: "by", Message: fmt.Sprintf("%q given twice", d)}
			}
			by = append(by, d)
		}
	}
	if len(by) == 0 || len(by) > 2 {
		return nil, &ParamError{Param: "by", Message: "give one or two of " + strings.Join(StatDimensions, ", ")}
	}
	q := store.StatsQuery{Filter: f, By: by, Limit: limit + 1}
	switch params.Get("count") {
	case "", "events":
	case "actors":
		q.Distinct = store.DistinctActors
	default:
		return nil, &ParamError{Param: "count", Message: "use events or actors"}
	}
	ans, err := s.store.Stats(ctx, q)
	if err != nil {
		return nil, err
	}
	rows := ans.Rows
	res := &StatsResult{By: by, Count: "events", Groups: make([]map[string]any, 0, len(rows)), Source: ans.Source, Approximate: ans.Approximate}
	if q.Distinct != "" {
		res.Count = "actors"
	}
	if ans.Approximate {
		e := hll.StdError
		res.ApproxError = &e
	}
	if len(rows) > limit {
		rows, res.Truncated = rows[:limit], true
	}
	for _, r := range rows {
		g := make(map[string]any, len(by)+1)
		for i, d := range by {
			g[d] = r.Keys[i] // nil (JSON null) for events without that property
		}
		g["count"] = r.Count
		res.Groups = append(res.Groups, g)
	}
	return res, nil
}

// ErrClientGone is returned by an export whose client stopped reading.
var ErrClientGone = errors.New("client stopped reading")
