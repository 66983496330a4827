package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Erasure of one actor (EraseActor on each backend), by this rule
// (docs/privacy.md):
//   - every event whose actor is the IRI is deleted;
//   - in every other event, entity and envelope skeleton of the tenant, a
//     JSON object whose "id" is the IRI is replaced by {"id": ErasedIRI}
//     (keeping its "type" alone: a name or an email beside the id goes too),
//     and a string equal to the IRI, or an object key equal to it, becomes
//     ErasedIRI; the indexed columns that held it hold ErasedIRI;
//   - the entity whose id is the IRI is deleted;
//   - an envelope left with nothing but the deleted events is deleted;
//   - roll-ups: the deleted events' counts are subtracted and the actor
//     sketches of their days rebuilt from the events that remain, so stats
//     stay equal to a scan;
//   - an audit record keeps when, which key, the counts and a keyed hash of
//     the IRI, never the IRI.
// Strings that merely contain the IRI (a longer URL) are not touched.
//
// It runs in two steps, so that a large store answers in about the time
// the actor's own events take. EraseActor, in one transaction, does what
// indexes find: the actor's events, the events whose object or course is
// the IRI, the entities, the envelopes that held the deleted events, the
// roll-up counts. It leaves a sweep (table erasure_sweeps) for the rest:
// the IRI in any other place of the events and envelopes stored before it
// (group members, graders, extensions), found only by reading every row,
// and the actor sketches to rebuild. SweepErasures does the sweep in short
// transactions of a bounded number of rows (serve runs it in the
// background, lrs erase to the end); the audit record says when it ended.

// ErasedIRI replaces an erased actor's IRI wherever it is kept.
const ErasedIRI = "urn:lrs:erased"

// EraseRequest names the actor to erase and who asks.
type EraseRequest struct {
	TenantID int64
	Actor    string // the actor's IRI
	KeyID    int64  // the admin key that asked; 0 from the command line
	DryRun   bool   // count, change nothing, record nothing
}

// ActorErasure counts what an erasure removed (or, on a dry run, would
// remove at once: a dry run does not sweep).
type ActorErasure struct {
	ID                int64  `json:"id,omitempty"` // the audit record; 0 on a dry run
	DryRun            bool   `json:"dryRun"`
	Complete          bool   `json:"complete"` // the sweep has ended
	Subject           string `json:"subject"`  // the audit record's hash of the IRI
	EventsDeleted     int64  `json:"eventsDeleted"`
	EventsRedacted    int64  `json:"eventsRedacted"`
	EntitiesDeleted   int64  `json:"entitiesDeleted"`
	EntitiesRedacted  int64  `json:"entitiesRedacted"`
	EnvelopesDeleted  int64  `json:"envelopesDeleted"`
	EnvelopesRedacted int64  `json:"envelopesRedacted"`
}

// ErasureRecord is an erasure's audit record.
type ErasureRecord struct {
	ActorErasure
	At          time.Time  `json:"at"`
	KeyID       int64      `json:"keyId,omitempty"` // 0: the command line
	CompletedAt *time.Time `json:"completedAt,omitempty"`
}

// Sweep sizes: rows of events (by seq) or envelopes (by id) read per
// transaction, and days whose actor sketches are rebuilt per transaction.
const (
	sweepRows       = 20000
	sweepSketchDays = 4
)

// errDryRun rolls back a dry run's transaction; the counts are kept.
var errDryRun = errors.New("dry run")

// auditKeyName is the settings row holding the key of audit hashes.
const auditKeyName = "erasure_audit_key"

// newAuditKey is a candidate key of audit hashes, kept if the store has none.
func newAuditKey() []byte {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand)
	return key
}

// auditSubject is the audit record's name for an erased IRI: an HMAC with
// the database's own key, so that the audit table alone does not let one
// test guesses (users/1, users/2, …), while an operator with the database
// can check whether a given IRI was erased.
func auditSubject(key []byte, tenantID int64, iri string) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%d\x00%s", tenantID, iri)
	return hex.EncodeToString(m.Sum(nil))
}

// redact returns data with the IRI replaced by the rule above, and whether
// anything changed (data itself when nothing did).
func redact(data []byte, iri string) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, fmt.Errorf("redact: %w", err)
	}
	v, changed := redactValue(v, iri)
	if !changed {
		return data, false, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false, fmt.Errorf("redact: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true, nil
}

func redactValue(v any, iri string) (any, bool) {
	switch x := v.(type) {
	case string:
		if x == iri {
			return ErasedIRI, true
		}
	case []any:
		changed := false
		for i, e := range x {
			var c bool
			if x[i], c = redactValue(e, iri); c {
				changed = true
			}
		}
		return x, changed
	case map[string]any:
		if id, ok := x["id"].(string); ok && id == iri {
			out := map[string]any{"id": ErasedIRI}
			if t, ok := x["type"]; ok {
				out["type"] = t
			}
			return out, true
		}
		changed := false
		for k, e := range x {
			var c bool
			if x[k], c = redactValue(e, iri); c {
				changed = true
			}
		}
		if e, ok := x[iri]; ok { // a key naming the actor
			delete(x, iri)
			x[ErasedIRI] = e
			changed = true
		}
		return x, changed
	}
	return v, false
}

// within reports whether p is at or before the roll-up position pos, that
// is, whether the roll-ups hold the event stored at p.
func (p Position) within(pos Position) bool {
	return p.Tx < pos.Tx || p.Tx == pos.Tx && p.Seq <= pos.Seq
}

// redactColumn is an indexed column's value after erasing iri.
func redactColumn(v, iri string) string {
	if v == iri {
		return ErasedIRI
	}
	return v
}

// dropUnfilled removes from a rebuilt envelope the references to events
// that are no longer stored (erased, or expired): found says which were.
func (d *skeletonDoc) dropUnfilled(refs map[uuid.UUID][]int, found map[uuid.UUID]bool) {
	var gone []int
	for id, positions := range refs {
		if !found[id] {
			gone = append(gone, positions...)
		}
	}
	slices.Sort(gone)
	for i := len(gone) - 1; i >= 0; i-- {
		d.Data = slices.Delete(d.Data, gone[i], gone[i]+1)
	}
}

// onlyDeletedEvents reports whether skeleton holds nothing but references to
// the events in deleted: the envelope can go with them.
func onlyDeletedEvents(skeleton []byte, deleted map[uuid.UUID]bool) bool {
	env, refs, err := parseSkeleton(skeleton)
	if err != nil {
		return false
	}
	n := 0
	for id, positions := range refs {
		if !deleted[id] {
			return false
		}
		n += len(positions)
	}
	return n == len(env.Data)
}

// sweep is an erasure_sweeps row.
type sweep struct {
	erasure, tenant                   int64
	iri                               string
	eventsThrough, eventsAt           int64
	envelopesThrough, envelopesAt     int64
	sketches                          []sketchKey
	eventsRedacted, envelopesRedacted int64
}

// addCounts returns the audit record's counts with the sweep's added.
func (w sweep) addCounts(counts []byte) (string, error) {
	var c ActorErasure
	if err := json.Unmarshal(counts, &c); err != nil {
		return "", fmt.Errorf("erasure %d: counts: %w", w.erasure, err)
	}
	c.EventsRedacted += w.eventsRedacted
	c.EnvelopesRedacted += w.envelopesRedacted
	c.ID, c.Complete = 0, false // kept in their own columns
	b, err := json.Marshal(c)
	return string(b), err
}

// withCounts fills r from an audit record's counts.
func (r ErasureRecord) withCounts(counts []byte) (ErasureRecord, error) {
	id, at, key, done := r.ID, r.At, r.KeyID, r.CompletedAt
	if err := json.Unmarshal(counts, &r.ActorErasure); err != nil {
		return r, fmt.Errorf("erasure %d: counts: %w", id, err)
	}
	r.ID, r.At, r.KeyID, r.CompletedAt = id, at, key, done
	r.Complete = done != nil
	return r, nil
}
