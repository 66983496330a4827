package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Backend is everything lrs asks of a store; Postgres and SQLite implement it
// and the same contract tests run against both.
type Backend interface {
	Close()
	Ping(ctx context.Context) error
	// Ready reports whether a write would succeed now, and the schema: an
	// error is a *NotReady (matching ErrUnavailable).
	Ready(ctx context.Context) (SchemaStatus, error)
	SchemaStatus(ctx context.Context) (SchemaStatus, error)
	SaveEnvelope(ctx context.Context, env *Envelope) (SaveResult, error)
	CreateKey(ctx context.Context, tenant, label string, scopes []string) (Key, string, error)
	EnsureTenant(ctx context.Context, name string) (int64, error)
	KeyByToken(ctx context.Context, token string) (Key, error)
	ListKeys(ctx context.Context) ([]Key, error)
	RevokeKey(ctx context.Context, id int64) error
	SetKeyRateLimit(ctx context.Context, id int64, eventsPerSec *float64) error
	// IssueKey creates a key with a label, scopes, an expiry and a rate
	// limit at once; FlushKeyUse writes the last-used times noted by
	// KeyByToken now rather than with the next batch (keys_api.go).
	IssueKey(ctx context.Context, spec KeySpec) (Key, string, error)
	FlushKeyUse(ctx context.Context) error
	Tenants(ctx context.Context) ([]Tenant, error)
	CreateTenant(ctx context.Context, name string) (Tenant, error)
	DeleteTenant(ctx context.Context, name string, dryRun bool) (TenantDeletion, error)
	// EraseActor erases an actor from a tenant (erase.go); SweepErasures
	// does one step of the rest in the background; Erasures lists the
	// tenant's audit records (id > 0: that one).
	EraseActor(ctx context.Context, r EraseRequest) (ActorErasure, error)
	SweepErasures(ctx context.Context) (bool, error)
	Erasures(ctx context.Context, tenant, id int64) ([]ErasureRecord, error)
	ListEvents(ctx context.Context, f EventFilter, after *Position, ascending bool, limit int) ([]StoredEvent, error)
	ExportEvents(ctx context.Context, f EventFilter, dataOnly bool, fn func(*StoredEvent) error) error
	EventByID(ctx context.Context, tenantID int64, id uuid.UUID) (StoredEvent, error)
	EnvelopeByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error)
	EntityByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error)
	Stats(ctx context.Context, q StatsQuery) (StatsAnswer, error)
	// Rollup adds what was stored since the last call to the roll-ups that
	// answer stats (rollup.go) and returns how many events it added.
	Rollup(ctx context.Context) (int, error)
	TableCounts(ctx context.Context) (TableCounts, error)
	// SaveCheckpoint and Checkpoints keep how far lrs import --follow has
	// stored each tracking log (checkpoint.go).
	SaveCheckpoint(ctx context.Context, c Checkpoint) error
	Checkpoints(ctx context.Context, sink string) ([]Checkpoint, error)
	// StreamHead, StreamEvents and WatchCommits serve the live stream
	// (stream.go): where a tenant's readable events end, what every
	// listed tenant stored after its position (one statement), and a
	// wake-up after each commit.
	StreamHead(ctx context.Context, tenantID int64) (Position, error)
	StreamEvents(ctx context.Context, from []TenantAfter, limit int) (events []LiveEvent, held bool, err error)
	WatchCommits(ctx context.Context, wake func()) error
	// StreamTicketKey is the secret that signs stream tickets, one per
	// database (stream_ticket.go).
	StreamTicketKey(ctx context.Context) ([]byte, error)
	// Forwarders (forward.go): settings and status per tenant, the lease
	// of the node delivering, progress after each batch, dead letters.
	CreateForwarder(ctx context.Context, f Forwarder) (Forwarder, error)
	Forwarders(ctx context.Context, tenantID int64) ([]Forwarder, error)
	Forwarder(ctx context.Context, tenantID, id int64) (Forwarder, error)
	UpdateForwarder(ctx context.Context, tenantID, id int64, u ForwarderUpdate) (Forwarder, error)
	DeleteForwarder(ctx context.Context, tenantID, id int64) error
	LeaseForwarder(ctx context.Context, id int64, owner string, ttl time.Duration) (Forwarder, bool, error)
	ReleaseForwarder(ctx context.Context, id int64, owner string) error
	AdvanceForwarder(ctx context.Context, id int64, owner string, p ForwardProgress) error
	FailForwarder(ctx context.Context, id int64, owner, msg string, leaseUntil time.Time) error
	DeadLetters(ctx context.Context, tenantID, forwarderID int64) ([]DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, tenantID, forwarderID, id int64) (DeadLetter, error)
	FinishReplay(ctx context.Context, id int64, delivered bool, status int, response string) error
	ForwardBacklog(ctx context.Context, tenantID int64, after Position) (events int64, oldest time.Time, err error)
	// ForwardKey is the database's key sealing forwarders' credentials
	// when lrs is given none (stream_ticket.go).
	ForwardKey(ctx context.Context) ([]byte, error)
	PoolStats() PoolStats
	Copier
}

// TableCounts is how many rows the main tables hold.
type TableCounts struct {
	Envelopes, Events, Entities int64
}

var (
	_ Backend = (*Postgres)(nil)
	_ Backend = (*SQLite)(nil)
)

// IsPostgresURL reports whether url names a PostgreSQL database; anything
// else (sqlite:PATH, file:PATH or a plain path) is an embedded database file.
func IsPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens the backend url names.
func Open(ctx context.Context, url string) (Backend, error) {
	if IsPostgresURL(url) {
		return OpenPostgres(ctx, url)
	}
	return OpenSQLite(ctx, sqlitePath(url))
}
