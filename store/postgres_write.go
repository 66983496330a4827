package store

import "context"

const insertEnvelopeSQL = `
INSERT INTO envelopes (
    tenant_id,
    sensor,
    send_time,
    data_version,
    api_key_id,
    item_count,
    skeleton
) VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, $7)
RETURNING id`

// conflictingEventsSQL finds, among ids that were already stored, those whose
// stored JSON differs from what was sent (jsonb equality ignores key order,
// white space and number formatting).
const conflictingEventsSQL = `
SELECT e.id
FROM unnest($2::uuid[], $3::jsonb[]) AS sent(id, data)
JOIN events e ON e.tenant_id = $1 AND e.id = sent.id
WHERE e.data <> sent.data
ORDER BY e.id`

// SaveEnvelope stores env atomically: the envelope row, its new events and its
// entities, or nothing. Events already stored with identical content are
// counted as duplicates; with different content the result is a *ConflictError.
// It waits its turn first come, first served, and is committed together with
// the envelopes queued beside it (see groupWriter and saveGroup).
func (s *Postgres) SaveEnvelope(ctx context.Context, env *Envelope) (SaveResult, error) {
	return s.group.save(ctx, env)
}

// GroupStats says how many commits have stored how many envelopes.
func (s *Postgres) GroupStats() GroupStats { return s.group.stats() }
