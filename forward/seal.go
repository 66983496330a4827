package forward

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
)

// Credentials are what a forwarder authenticates and signs with. They are
// stored sealed (AES-256-GCM) and never returned by the API or the CLI,
// which only say which are set (and the header's name).
type Credentials struct {
	Token  string `json:"token,omitempty"`  // sent as Authorization: Bearer TOKEN
	Header string `json:"header,omitempty"` // "Name: value", sent as is
	Secret string `json:"secret,omitempty"` // webhook: the HMAC-SHA256 key
}

// Sealer seals and opens credentials with a key derived (HKDF-SHA256) from
// a secret: --forward-key when given, else a random key kept in the
// database's settings. The first protects credentials in a stolen database
// dump or backup; the second only from the API and from reads of the
// forwarders table alone (docs/forwarding.md says which to choose).
type Sealer struct {
	aead cipher.AEAD
	id   [4]byte // names the key, so that opening with another says so
}

// sealVersion is the first byte of a sealed blob.
const sealVersion = 1

// NewSealer derives the sealing key from secret.
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) == 0 {
		return nil, errors.New("forwarder key: empty")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "lrs forwarder credentials v1", 32)
	if err != nil {
		return nil, fmt.Errorf("forwarder key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("forwarder key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("forwarder key: %w", err)
	}
	s := &Sealer{aead: aead}
	sum := sha256.Sum256(append([]byte("lrs forwarder key id\x00"), key...))
	copy(s.id[:], sum[:])
	return s, nil
}

// KeySource gives the database's own forwarder key (store.Backend).
type KeySource interface {
	ForwardKey(ctx context.Context) ([]byte, error)
}

// OpenSealer returns the sealer of configured (--forward-key), or when it
// is empty of the database's own key.
func OpenSealer(ctx context.Context, configured string, db KeySource) (*Sealer, error) {
	if configured != "" {
		return NewSealer([]byte(configured))
	}
	key, err := db.ForwardKey(ctx)
	if err != nil {
		return nil, err
	}
	return NewSealer(key)
}

// Seal encrypts c; nil when c holds nothing.
func (s *Sealer) Seal(c Credentials) ([]byte, error) {
	if c == (Credentials{}) {
		return nil, nil
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := append([]byte{sealVersion}, s.id[:]...)
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plain, out[:5]), nil
}

// ErrOtherKey is opening credentials sealed with another key.
var ErrOtherKey = errors.New("the credentials were sealed with another forwarder key: start lrs with the --forward-key (LRS_FORWARD_KEY) they were added with, or set them again")

// Open decrypts what Seal made; nil opens as no credentials.
func (s *Sealer) Open(sealed []byte) (Credentials, error) {
	var c Credentials
	if len(sealed) == 0 {
		return c, nil
	}
	n := s.aead.NonceSize()
	if len(sealed) < 5+n || sealed[0] != sealVersion {
		return c, errors.New("sealed credentials: unknown format")
	}
	if !bytes.Equal(sealed[1:5], s.id[:]) {
		return c, ErrOtherKey
	}
	plain, err := s.aead.Open(nil, sealed[5:5+n], sealed[5+n:], sealed[:5])
	if err != nil {
		return c, fmt.Errorf("sealed credentials: %w", err)
	}
	err = json.Unmarshal(plain, &c)
	return c, err
}
