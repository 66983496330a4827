package forward

import (
	"errors"
	"testing"
	"time"
)

// TestSealer: credentials open under the key they were sealed with; under
// another key they are ErrOtherKey; a changed byte fails to open; nothing
// seals as nil.
func TestSealer(t *testing.T) {
	a, err := NewSealer([]byte("first forwarder key"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSealer([]byte("second forwarder key"))
	if err != nil {
		t.Fatal(err)
	}
	c := Credentials{Token: "tok", Secret: "0123456789abcdef"}
	sealed, err := a.Seal(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Open(sealed); err != nil || got != c {
		t.Fatalf("open: %+v %v", got, err)
	}
	if _, err := b.Open(sealed); !errors.Is(err, ErrOtherKey) {
		t.Fatalf("open under another key: %v", err)
	}
	bad := append([]byte(nil), sealed...)
	bad[len(bad)-1] ^= 1
	if _, err := a.Open(bad); err == nil {
		t.Fatal("a changed byte opened")
	}
	if none, err := a.Seal(Credentials{}); err != nil || none != nil {
		t.Fatalf("no credentials sealed as %v %v", none, err)
	}
	if got, err := a.Open(nil); err != nil || got != (Credentials{}) {
		t.Fatalf("nil opened as %+v %v", got, err)
	}
	if _, err := NewSealer(nil); err == nil {
		t.Fatal("empty key taken")
	}
}

// TestSpecCheck: each unusable setting is refused naming its field;
// defaults are filled.
func TestSpecCheck(t *testing.T) {
	wait := 2 * time.Minute
	for _, c := range []struct {
		name  string
		spec  Spec
		field string
	}{
		{"ErrNoKind", Spec{URL: "https://x.example"}, "kind"},
		{"ErrKind", Spec{Kind: "smtp", URL: "https://x.example"}, "kind"},
		{"ErrURL", Spec{Kind: "caliper", URL: "/relative"}, "url"},
		{"ErrFragment", Spec{Kind: "caliper", URL: "https://x.example/#a"}, "url"},
		{"ErrTokenAndHeader", Spec{Kind: "caliper", URL: "https://x.example", Token: "a", Header: "X-K: b"}, "header"},
		{"ErrHeaderSetByLrs", Spec{Kind: "caliper", URL: "https://x.example", Header: "Content-Type: text/plain"}, "header"},
		{"ErrHeaderLineBreak", Spec{Kind: "caliper", URL: "https://x.example", Header: "X-K: a\r\nX-L: b"}, "header"},
		{"ErrTokenLineBreak", Spec{Kind: "caliper", URL: "https://x.example", Token: "a\nb"}, "token"},
		{"ErrWebhookShortSecret", Spec{Kind: "webhook", URL: "https://x.example", Secret: "short"}, "secret"},
		{"ErrCaliperSecret", Spec{Kind: "caliper", URL: "https://x.example", Secret: "0123456789abcdef"}, "secret"},
		{"ErrBatch", Spec{Kind: "caliper", URL: "https://x.example", Batch: MaxBatch + 1}, "batch"},
		{"ErrMaxWait", Spec{Kind: "caliper", URL: "https://x.example", MaxWait: &wait}, "maxWait"},
		{"ErrOnReject", Spec{Kind: "caliper", URL: "https://x.example", OnReject: "drop"}, "onReject"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.check()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("%v, want a FieldError for %s", err, c.field)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		s := Spec{Kind: "webhook", URL: "https://x.example/hook", Secret: "0123456789abcdef", Header: "X-Api-Key: k"}
		if err := s.check(); err != nil {
			t.Fatal(err)
		}
		if s.Batch != DefaultBatch || *s.MaxWait != DefaultMaxWait || s.OnReject != "dead-letter" {
			t.Fatalf("defaults: %+v", s)
		}
	})
}
