// Package ingest is the write path: it decodes and validates Caliper
// envelopes with package caliper and hands each to a store as one atomic batch.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
)

// Store is what ingest needs of a backend.
type Store interface {
	SaveEnvelope(ctx context.Context, env *store.Envelope) (store.SaveResult, error)
}

// Service ingests envelopes into a Store.
type Service struct {
	store     Store
	validator *caliper.Validator
}

// NewService returns a Service writing to st.
func NewService(st Store, v *caliper.Validator) *Service {
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
// store. Errors are *caliper.Error: malformed, unsupported version, or an
// event id repeated with different content.
func (s *Service) Prepare(src Source, body []byte) (*Batch, error) {
	env, err := caliper.DecodeEnvelope(body)
	if err != nil {
		return nil, err
	}
	if err := s.validator.Validate(env); err != nil {
		return nil, err
	}
	return buildBatch(src, env), nil
}

// Save stores a prepared batch atomically. An event already stored with other
// content makes it a *caliper.Error of KindConflict; any other error means
// the store failed and nothing was acknowledged.
func (s *Service) Save(ctx context.Context, b *Batch) (Result, error) {
	res, err := s.store.SaveEnvelope(ctx, b.Rows)
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		var r caliper.Report
		for _, id := range conflict.IDs {
			i := b.index[id]
			r.Add(i, caliper.ItemPath(i)+".id", "event urn:uuid:%s is already stored with different content", id)
		}
		return Result{}, r.Err(caliper.KindConflict)
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

// buildBatch turns validated items into store rows. The validator made sure
// that an event the envelope repeats is an identical copy: it is kept once.
func buildBatch(src Source, env *caliper.Envelope) *Batch {
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
	for i, it := range env.Items {
		switch doc := it.Doc.(type) {
		case string:
			batch.Entities = upsertEntity(batch.Entities, entityAt, store.Entity{ID: doc, Data: it.Raw})
		case map[string]any:
			if !caliper.IsEvent(doc) {
				typ, _ := doc["type"].(string)
				id, _ := doc["id"].(string)
				batch.Entities = upsertEntity(batch.Entities, entityAt, store.Entity{ID: id, Type: typ, Data: it.Raw})
				continue
			}
			ev := eventRow(doc, it.Raw)
			if _, seen := index[ev.ID]; seen {
				dups++
				continue
			}
			index[ev.ID] = i
			batch.Events = append(batch.Events, ev)
		}
	}
	batch.Skeleton = skeleton(env)
	return &Batch{Rows: batch, index: index, dups: dups}
}

// skeleton is the envelope as received with each event replaced by a reference
// to its id: the events are stored once, in the events table.
func skeleton(env *caliper.Envelope) []byte {
	var b bytes.Buffer
	b.Grow(128 + 56*len(env.Items))
	b.WriteString(`{"sensor":`)
	writeJSONString(&b, env.Sensor)
	b.WriteString(`,"sendTime":`)
	writeJSONString(&b, env.RawSendTime)
	b.WriteString(`,"dataVersion":`)
	writeJSONString(&b, env.RawDataVersion)
	b.WriteString(`,"data":[`)
	for i, it := range env.Items {
		if i > 0 {
			b.WriteByte(',')
		}
		if doc, ok := it.Doc.(map[string]any); ok && caliper.IsEvent(doc) {
			b.WriteString(`{"$event":"`)
			id, _ := caliper.EventID(doc["id"].(string))
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

// eventRow builds the row of a validated event: its id and time parse.
func eventRow(doc map[string]any, raw []byte) store.Event {
	id, _ := caliper.EventID(doc["id"].(string))
	t, _ := caliper.ParseDateTime(doc["eventTime"].(string))
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
	return ev
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
