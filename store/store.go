// Package store persists envelopes, events, entities, tenants and API keys.
// Postgres is the production backend.
package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Errors returned by every backend. Each backend translates its driver's
// errors into these at its edge (see translate in postgres.go and
// sqlite.go), so callers decide with errors.Is alone and never import a
// driver. An error that matches none of them is a bug or a broken database.
var (
	// ErrNotFound: no such row for this tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write collides with what is stored (a *ConflictError
	// matches it too).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database cannot do it now (connection refused or
	// lost, too many clients, shutting down, busy or locked, disk full,
	// read-only) and nothing was stored; the same request may succeed later.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrOutcomeUnknown: the connection was lost while committing, so the
	// write may or may not have been stored. It matches ErrUnavailable too.
	// Retrying an envelope is safe: event ids dedupe.
	ErrOutcomeUnknown = errors.New("commit outcome unknown")
	// ErrSchemaBehind: the schema is not the one this binary needs.
	ErrSchemaBehind = errors.New("database schema is not current")
)

// unavailable marks err as ErrUnavailable, keeping its text and chain.
func unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// outcomeUnknown marks a failed commit whose effect cannot be known.
func outcomeUnknown(err error) error {
	return &outcomeError{err: err}
}

type outcomeError struct{ err error }

func (e *outcomeError) Error() string   { return "commit outcome unknown: " + e.err.Error() }
func (e *outcomeError) Unwrap() []error { return []error{ErrOutcomeUnknown, ErrUnavailable, e.err} }

// ConflictError reports event ids the tenant already has with other content.
// Nothing of the envelope that caused it was stored. It matches ErrConflict.
type ConflictError struct {
	IDs []uuid.UUID
}

// Is makes errors.Is(err, ErrConflict) hold for a *ConflictError.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

func (e *ConflictError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = "urn:uuid:" + id.String()
	}
	return "event ids already stored with different content: " + strings.Join(ids, ", ")
}

// Envelope is one accepted envelope, ready to store: its metadata and its
// items split into events and entities. Event ids are unique within it.
type Envelope struct {
	TenantID    int64
	APIKeyID    int64 // 0 when not received through an API key
	Sensor      string
	SendTime    time.Time
	DataVersion string
	ItemCount   int
	Events      []Event
	Entities    []Entity
	// Skeleton is the envelope as received with each event replaced by
	// {"$event": "<uuid>"}, from which GET /api/v1/envelopes/{id} rebuilds it.
	Skeleton []byte
}

// Event is one Caliper event: the JSON as sent plus the indexed columns.
// Empty strings are stored as NULL.
type Event struct {
	ID         uuid.UUID
	Type       string
	Action     string
	ActorID    string
	ObjectID   string
	ObjectType string
	GroupID    string
	SessionID  string
	EdAppID    string
	Profile    string
	EventTime  time.Time
	Data       []byte
}

// Entity is one entity sent as an envelope item ("describes"). Type is empty
// for a bare IRI item, which never replaces a stored description.
type Entity struct {
	ID   string
	Type string
	Data []byte
}

// SaveResult says what storing an envelope did.
type SaveResult struct {
	EnvelopeID   string `json:"envelopeId"` // opaque (see envelopeIDs)
	EventsStored int    `json:"eventsStored"`
	Duplicates   int    `json:"duplicates"`
	Entities     int    `json:"entities"`
}
