package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scopes an API key may hold.
const (
	ScopeWrite = "write"
	ScopeRead  = "read"
	ScopeAdmin = "admin"
)

// ValidScopes lists every scope, in the order they are documented.
var ValidScopes = []string{ScopeWrite, ScopeRead, ScopeAdmin}

// tokenPrefix marks lrs tokens so that secret scanners and people can tell them apart.
const tokenPrefix = "lrs_"

// Key is an API key; the token itself is never stored.
type Key struct {
	ID        int64
	TenantID  int64
	Tenant    string
	Label     string
	Scopes    []string
	CreatedAt time.Time
	RevokedAt *time.Time
	// RateLimit is the key's own ingest limit in events per second: nil
	// takes the server's default (--rate-limit), 0 means none.
	RateLimit *float64
	// ExpiresAt: from then on the key is refused; nil, never.
	ExpiresAt *time.Time
	// LastUsedAt is when the key last authenticated a request, to within
	// keyUseEvery (written in batches); nil if never.
	LastUsedAt *time.Time
}

// Expired reports whether the key is past its expiry at now.
func (k Key) Expired(now time.Time) bool { return k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) }

// HasScope reports whether the key grants scope. Admin implies every scope.
func (k Key) HasScope(scope string) bool {
	return slices.Contains(k.Scopes, scope) || slices.Contains(k.Scopes, ScopeAdmin)
}

// ParseScopes splits a comma-separated scope list and checks each name.
func ParseScopes(s string) ([]string, error) {
	var scopes []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(ValidScopes, part) {
			return nil, fmt.Errorf("unknown scope %q (valid: %s)", part, strings.Join(ValidScopes, ", "))
		}
		if !slices.Contains(scopes, part) {
			scopes = append(scopes, part)
		}
	}
	if len(scopes) == 0 {
		return nil, fmt.Errorf("at least one scope is required (valid: %s)", strings.Join(ValidScopes, ", "))
	}
	return scopes, nil
}

// NewToken returns a fresh random token: 256 bits, base64url, with a prefix.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is how a token is kept at rest. Tokens carry 256 random bits, so
// a plain SHA-256 cannot be brute-forced and allows lookup by index.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
