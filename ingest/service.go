// Package ingest is the write path: it decodes Caliper envelopes, validates
// their items and hands them to a store as one atomic batch.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
)

// Store is what ingest needs of a backend.
type Store interface {
	SaveEnvelope(ctx context.Context, env *store.Envelope) (store.SaveResult, error)
}

// Service ingests envelopes into a Store.
type Service struct {
	store     Store
	validator *Validator
}

// NewService returns a Service writing to st.
func NewService(st Store, v *Validator) *Service {
	return &Service{store: st, validator: v}
}

// Source says on whose behalf an envelope is stored.
type Source struct {
	TenantID int64
	APIKeyID int64
}

// Result is what ingesting an envelope did.
type Result = store.SaveResult

// Batch is a decoded, validated envelope ready to store.
type Batch struct {
	Rows  *store.Envelope
	index map[uuid.UUID]int // event id → position in data, to name conflicts
	dups  int               // events repeated within the envelope
}

// Prepare decodes and validates an envelope body and builds the rows to
// store. Errors are *Error: malformed, unsupported version, or an event id
// repeated with different content.
func (s *Service) Prepare(src Source, body []byte) (*Batch, error) {
	env, err := DecodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	if err := s.validator.Validate(env); err != nil {
		return nil, err
	}
	return buildBatch(src, env)
}

// Save stores a prepared batch atomically. An event already stored with other
// content makes it an *Error of KindConflict; any other error means the store
// failed and nothing was acknowledged.
func (s *Service) Save(ctx context.Context, b *Batch) (Result, error) {
	res, err := s.store.SaveEnvelope(ctx, b.Rows)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		var r report
		for _, id := range conflict.IDs {
			i := b.index[id]
			r.add(i, itemPath(i)+".id", "event urn:uuid:%s is already stored with different content", id)
		}
		return Result{}, r.err(KindConflict)
	}
	if err != nil {
		return Result{}, fmt.Errorf("store envelope: %w", err)
	}
	res.Duplicates += b.dups
	return res, nil
}

// Ingest prepares and saves one envelope body.
func (s *Service) Ingest(ctx context.Context, src Source, body []byte) (Result, error) {
	b, err := s.Prepare(src, body)
	if err != nil {
		return Result{}, err
	}
	return s.Save(ctx, b)
}

// buildBatch turns validated items into store rows. An event repeated within
// the envelope is kept once if identical and is a conflict otherwise.
func buildBatch(src Source, env *Envelope) (*Batch, error) {
	batch := &store.Envelope{
		TenantID:    src.TenantID,
		APIKeyID:    src.APIKeyID,
		Sensor:      env.Sensor,
		SendTime:    env.SendTime,
		DataVersion: env.DataVersion,
		ItemCount:   len(env.Items),
	}
	index := make(map[uuid.UUID]int, len(env.Items))
	entityAt := map[string]int{}
	dups := 0
	var r report
	for i, it := range env.Items {
		switch doc := it.Doc.(type) {
		case string:
			batch.Entities = upsertEntity(batch.Entities, entityAt, store.Entity{ID: doc, Data: it.Raw})
		case map[string]any:
			if !isEvent(doc) {
				typ, _ := doc["type"].(string)
				id, _ := doc["id"].(string)
				batch.Entities = upsertEntity(batch.Entities, entityAt, store.Entity{ID: id, Type: typ, Data: it.Raw})
				continue
			}
			ev, err := eventRow(doc, it.Raw)
			if err != nil {
				r.add(i, itemPath(i), "%v", err)
				continue
			}
			if first, seen := index[ev.ID]; seen {
				if !store.EqualJSON(env.Items[first].Doc, doc) {
					r.add(i, itemPath(i)+".id", "event urn:uuid:%s appears twice in this envelope with different content (also at data[%d])", ev.ID, first)
				} else {
					dups++
				}
				continue
			}
			index[ev.ID] = i
			batch.Events = append(batch.Events, ev)
		}
	}
	if err := r.err(KindConflict); err != nil {
		return nil, err
	}
	batch.Skeleton = skeleton(env)
	return &Batch{Rows: batch, index: index, dups: dups}, nil
}

// skeleton is the envelope as received with each event replaced by a reference
// to its id: the events are stored once, in the events table.
func skeleton(env *Envelope) []byte {
	var b bytes.Buffer
	b.Grow(128 + 56*len(env.Items))
	b.WriteString(`{"sensor":`)
	writeJSONString(&b, env.Sensor)
	b.WriteString(`,"sendTime":`)
	writeJSONString(&b, env.rawSendTime)
	b.WriteString(`,"dataVersion":`)
	writeJSONString(&b, env.rawDataVersion)
	b.WriteString(`,"data":[`)
	for i, it := range env.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		if doc, ok := it.Doc.(map[string]any); ok && isEvent(doc) {
			b.WriteString(`{"$event":"`)
			id, _ := parseEventID(doc["id"].(string))
			b.WriteString(id.String())
			b.WriteString(`"}`)
			continue
		}
		b.Write(it.Raw)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// upsertEntity keeps one row per entity id, the last full description winning
// (a bare IRI never replaces a description), as the store does across envelopes.
func upsertEntity(rows []store.Entity, at map[string]int, e store.Entity) []store.Entity {
	i, seen := at[e.ID]
	if !seen {
		at[e.ID] = len(rows)
		return append(rows, e)
	}
	if e.Type != "" {
		rows[i] = e
	}
	return rows
}

func eventRow(doc map[string]any, raw []byte) (store.Event, error) {
	id, err := parseEventID(doc["id"].(string))
	if err != nil {
		return store.Event{}, err
	}
	t, err := ParseDateTime(doc["eventTime"].(string))
	if err != nil {
		return store.Event{}, err
	}
	ev := store.Event{
		ID:        id,
		Type:      stringOf(doc["type"]),
		Action:    stringOf(doc["action"]),
		ActorID:   refID(doc["actor"]),
		ObjectID:  refID(doc["object"]),
		GroupID:   refID(doc["group"]),
		SessionID: refID(doc["session"]),
		EdAppID:   refID(doc["edApp"]),
		Profile:   stringOf(doc["profile"]),
		EventTime: t,
		Data:      raw,
	}
	if obj, ok := doc["object"].(map[string]any); ok {
		ev.ObjectType = stringOf(obj["type"])
	}
	return ev, nil
}

// refID is the id of an entity-valued property: the IRI itself, or the object's id.
func refID(v any) string {
	switch e := v.(type) {
	case string:
		return e
	case map[string]any:
		return stringOf(e["id"])
	}
	return ""
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}
