// Package store persists envelopes, events, entities, tenants and API keys.
// Postgres is the production backend.
package store

import (
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Errors returned by every backend.
var (
	ErrNotFound     = errors.New("not found")
	ErrSchemaBehind = errors.New("database schema is not current")
)

// ConflictError reports event ids the tenant already has with other content.
// Nothing of the envelope that caused it was stored.
type ConflictError struct {
	IDs []uuid.UUID
}

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
	EnvelopeID   int64 `json:"envelopeId"`
	EventsStored int   `json:"eventsStored"`
	Duplicates   int   `json:"duplicates"`
	Entities     int   `json:"entities"`
}
