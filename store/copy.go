package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// The row types below are a store as its tables hold it, in neutral Go
// types, so that any backend can read what another wrote: they are what
// lrs copy moves. Row ids are kept (envelope ids are made from the
// envelope's row id and its tenant's, API keys are known by id); an event's
// place in stored order is given anew by the store it is loaded into.

// TenantRow is a row of tenants.
type TenantRow struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// KeyRow is a row of api_keys: the token's hash, never the token.
type KeyRow struct {
	ID        int64
	TenantID  int64
	Label     string
	Scopes    []string
	TokenHash []byte
	CreatedAt time.Time
	RevokedAt *time.Time
	RateLimit *float64
	ExpiresAt *time.Time
}

// Setting is a row of settings (the envelope id key, say).
type Setting struct {
	Name  string
	Value []byte
}

// EnvelopeRow is a row of envelopes. APIKeyID is 0 and Skeleton nil where
// the column is NULL.
type EnvelopeRow struct {
	ID          int64
	TenantID    int64
	Sensor      string
	SendTime    time.Time
	DataVersion string
	ReceivedAt  time.Time
	APIKeyID    int64
	ItemCount   int
	Skeleton    []byte
}

// EventRow is a row of events. Position is where the event stands in the
// stored order of the store it was read from; it is not loaded.
type EventRow struct {
	Event
	Position
	TenantID   int64
	EnvelopeID int64
	StoredAt   time.Time
}

// EntityRow is a row of entities; Type is empty where it is NULL.
type EntityRow struct {
	TenantID   int64
	ID         string
	Type       string
	EnvelopeID int64
	FirstSeen  time.Time
	UpdatedAt  time.Time
	Data       []byte
}

// EntityKey is where a page of entities starts: after this (tenant, id).
type EntityKey struct {
	TenantID int64
	ID       string
}

// Batch is rows to load in one transaction, in the order of the foreign
// keys (settings, tenants, keys, envelopes, events, entities).
type Batch struct {
	Settings  []Setting
	Tenants   []TenantRow
	Keys      []KeyRow
	Envelopes []EnvelopeRow
	Events    []EventRow
	Entities  []EntityRow
}

// CopyState is what a store to copy into holds already.
type CopyState struct {
	Tenants  int64
	Counts   TableCounts
	Settings []Setting
	// LastEvents is, per tenant, the id of the event loaded last (the
	// highest seq): where an interrupted copy of that tenant resumes.
	LastEvents map[int64]uuid.UUID
}

// Snapshot reads a store as of one moment, page by page (keyset pages of at
// most limit rows and about maxPageBytes of JSON). Pages of events stop
// short of transactions that may still commit, as ascending ListEvents
// pages do, so that a copy resumed after the last event it loaded never
// misses one that committed late.
type Snapshot interface {
	Counts(ctx context.Context) (TableCounts, error)
	Settings(ctx context.Context) ([]Setting, error)
	Tenants(ctx context.Context, after int64, limit int) ([]TenantRow, error)
	Keys(ctx context.Context, after int64, limit int) ([]KeyRow, error)
	Envelopes(ctx context.Context, after int64, limit int) ([]EnvelopeRow, error)
	// Events pages a tenant's events in stored order, after the position if any.
	Events(ctx context.Context, tenant int64, after *Position, limit int) ([]EventRow, error)
	Entities(ctx context.Context, after EntityKey, limit int) ([]EntityRow, error)
	// EventPosition is where the tenant's event id stands in stored order, or ErrNotFound.
	EventPosition(ctx context.Context, tenant int64, id uuid.UUID) (Position, error)
}

// Copier is what lrs copy needs of the stores at both ends.
type Copier interface {
	// PrepareCopy creates, in a store about to be copied, the settings that
	// must travel with it if it has none yet (the envelope id key).
	PrepareCopy(ctx context.Context) error
	// ReadSnapshot runs fn on one consistent, read-only view of the store.
	ReadSnapshot(ctx context.Context, fn func(Snapshot) error) error
	// CopyState reports what the store holds already, for a copy into it.
	CopyState(ctx context.Context) (CopyState, error)
	// Load writes b in one transaction, keeping row ids, so that loading
	// the same rows again changes nothing: tenants, envelopes, events and
	// settings already there are kept; keys take the label and scopes
	// loaded and stay revoked once revoked; entities take the row loaded.
	// Events are given the next places in stored order, in b's order. A
	// tenant name held by another id is ErrConflict.
	Load(ctx context.Context, b *Batch) error
}

// maxPageBytes bounds the JSON of one page read by a Snapshot: a page ends
// after the row that reaches it, so that memory stays bounded whatever the
// size of each event.
const maxPageBytes = 16 << 20
