package store

import (
	"context"
	"errors"
	"testing"
)

func TestEnvelopeIDs(t *testing.T) {
	key := []byte("0123456789abcdef")
	loads := 0
	ids := envelopeIDs{load: func(context.Context, []byte) ([]byte, error) { loads++; return key, nil }}
	ctx := context.Background()
	enc, err := ids.encoder(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []int64{1, 2, 1 << 40} {
		public := enc(row)
		if !IsEnvelopeID(public) || len(public) != 22 {
			t.Errorf("%d: public id %q", row, public)
		}
		if got, err := ids.decode(ctx, 7, public); err != nil || got != row {
			t.Errorf("decode(%q) = %d, %v; want %d", public, got, err, row)
		}
		if _, err := ids.decode(ctx, 8, public); !errors.Is(err, ErrNotFound) {
			t.Errorf("another tenant decoded %q: %v", public, err)
		}
	}
	if enc(1)[:8] == enc(2)[:8] {
		t.Errorf("neighbouring rows share a prefix: %s %s", enc(1), enc(2))
	}
	if got, err := ids.decode(ctx, 7, "42"); err != nil || got != 42 {
		t.Errorf("legacy id: %d %v", got, err)
	}
	for _, bad := range []string{"", "0", "-1", "x", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA"} {
		if IsEnvelopeID(bad) {
			t.Errorf("IsEnvelopeID(%q)", bad)
		}
	}
	if loads != 1 {
		t.Errorf("key loaded %d times", loads)
	}
}
