package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
)

// Envelope ids are opaque: the row's sequence number is never shown, since
// it would tell every tenant how many envelopes all tenants send. The
// public id is the AES encryption of one block holding the sequence and the
// tenant, under a key each database makes for itself (the settings table),
// in base64url: 22 characters. It decodes only for its own tenant and
// database; anything else is ErrNotFound.

const envelopeKeyName = "envelope_id_key"

// envelopeIDs turns row ids into public ids and back, loading the key on
// first use (so that opening a store never writes).
type envelopeIDs struct {
	mu    sync.Mutex
	block cipher.Block
	// load returns the database's key, creating it (with the random
	// candidate) if it has none yet.
	load func(ctx context.Context, candidate []byte) ([]byte, error)
}

func (e *envelopeIDs) cipher(ctx context.Context) (cipher.Block, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.block != nil {
		return e.block, nil
	}
	candidate := make([]byte, 16)
	if _, err := rand.Read(candidate); err != nil {
		return nil, fmt.Errorf("envelope id key: %w", err)
	}
	key, err := e.load(ctx, candidate)
	if err != nil {
		return nil, fmt.Errorf("envelope id key: %w", err)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope id key: %w", err)
	}
	e.block = b
	return b, nil
}

// encoder returns the function that makes tenant's public envelope ids from row ids.
func (e *envelopeIDs) encoder(ctx context.Context, tenant int64) (func(int64) string, error) {
	b, err := e.cipher(ctx)
	if err != nil {
		return nil, err
	}
	return func(id int64) string { return encodeEnvelopeID(b, tenant, id) }, nil
}

// decode returns the row id a public id names for tenant, or ErrNotFound. A
// plain positive number is taken as a row id, as envelope ids were before
// they became opaque, so that ids already handed out keep working; the
// tenant check still applies to it.
func (e *envelopeIDs) decode(ctx context.Context, tenant int64, public string) (int64, error) {
	if n, err := strconv.ParseInt(public, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	b, err := e.cipher(ctx)
	if err != nil {
		return 0, err
	}
	return decodeEnvelopeID(b, tenant, public)
}

// IsEnvelopeID reports whether s has the form of an envelope id: 22
// base64url characters, or a positive number (an id handed out before ids
// were opaque). It says nothing of whether the envelope exists.
func IsEnvelopeID(s string) bool {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n > 0
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 16
}

func encodeEnvelopeID(b cipher.Block, tenant, id int64) string {
	var block [16]byte
	binary.BigEndian.PutUint64(block[:8], uint64(id))
	binary.BigEndian.PutUint64(block[8:], uint64(tenant))
	b.Encrypt(block[:], block[:])
	return base64.RawURLEncoding.EncodeToString(block[:])
}

func decodeEnvelopeID(b cipher.Block, tenant int64, public string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(public)
	if err != nil || len(raw) != 16 {
		return 0, ErrNotFound
	}
	b.Decrypt(raw, raw)
	id, owner := int64(binary.BigEndian.Uint64(raw[:8])), int64(binary.BigEndian.Uint64(raw[8:]))
	if owner != tenant || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}
