// Package forward pushes each tenant's stored events, in stored order, to
// receivers: another Caliper endpoint (kind caliper) or a signed JSON
// webhook. The events table is the queue; a forwarder keeps its position
// in it. Service manages forwarders (the API and the CLI), Worker delivers
// them inside lrs serve.
package forward

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// Limits and defaults of a forwarder's settings.
const (
	DefaultBatch   = 100
	MaxBatch       = 1000
	DefaultMaxWait = time.Second
	MaxMaxWait     = time.Minute
)

// FieldError is a setting that cannot be used; Field is its name in the
// API's JSON (the CLI maps it to its flag).
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Spec is a new forwarder.
type Spec struct {
	Kind     string // caliper or webhook
	URL      string
	Token    string // bearer token
	Header   string // or a header "Name: value"
	Secret   string // webhook: the signing secret (required)
	Filter   string // the read API's filter parameters, as a query string
	From     string // now (default), beginning, or a cursor
	Batch    int    // 0: DefaultBatch
	MaxWait  *time.Duration
	OnReject string // dead-letter (default) or block
	Paused   bool
}

// Patch changes a forwarder's settings; nil fields stay.
type Patch struct {
	URL      *string
	Token    *string // "" removes it
	Header   *string // "" removes it
	Secret   *string
	Filter   *string
	Batch    *int
	MaxWait  *time.Duration
	OnReject *string
	Paused   *bool
}

func checkKind(kind string) error {
	if kind != store.ForwardCaliper && kind != store.ForwardWebhook {
		return &FieldError{"kind", fmt.Sprintf("must be %s or %s", store.ForwardCaliper, store.ForwardWebhook)}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return &FieldError{"url", "must be an absolute http:// or https:// URL without a #fragment"}
	}
	return nil
}

// checkHeader reads "Name: value".
func checkHeader(h string) error {
	name, value, ok := strings.Cut(h, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !isToken(name) || checkText("header", value) != nil || value == "" {
		return &FieldError{"header", "must be 'Name: value', such as 'X-Api-Key: 3f…'"}
	}
	switch http.CanonicalHeaderKey(name) {
	case "Content-Type", "Content-Length", "Host", "X-Lrs-Signature", "X-Lrs-Timestamp":
		return &FieldError{"header", name + " is set by lrs; choose another header"}
	}
	return nil
}

// isToken reports an HTTP token (RFC 9110): a header's name.
func isToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r > 0x7e || r <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}

func checkText(field, v string) error {
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &FieldError{field, "must not contain control characters or line breaks"}
	}
	return nil
}

func checkBatch(n int) error {
	if n < 1 || n > MaxBatch {
		return &FieldError{"batch", fmt.Sprintf("must be from 1 to %d events", MaxBatch)}
	}
	return nil
}

func checkMaxWait(d time.Duration) error {
	if d < 0 || d > MaxMaxWait {
		return &FieldError{"maxWait", "must be a duration from 0s to 1m, such as 2s or 500ms"}
	}
	return nil
}

func checkOnReject(v string) error {
	if v != store.RejectDeadLetter && v != store.RejectBlock {
		return &FieldError{"onReject", fmt.Sprintf("must be %s (park the batch and go on) or %s (retry it until it is taken)", store.RejectDeadLetter, store.RejectBlock)}
	}
	return nil
}

// checkCredentials checks what a forwarder of kind authenticates with.
func checkCredentials(kind string, c Credentials) error {
	if c.Token != "" && c.Header != "" {
		return &FieldError{"header", "give a token or a header, not both"}
	}
	if err := checkText("token", c.Token); err != nil {
		return err
	}
	if c.Header != "" {
		if err := checkHeader(c.Header); err != nil {
			return err
		}
	}
	if err := checkText("secret", c.Secret); err != nil {
		return err
	}
	switch {
	case kind == store.ForwardWebhook && len(c.Secret) < 16:
		return &FieldError{"secret", "a webhook needs a signing secret of at least 16 characters"}
	case kind == store.ForwardCaliper && c.Secret != "":
		return &FieldError{"secret", "only webhooks are signed; a caliper forwarder takes a token or a header"}
	}
	return nil
}

// check validates s and fills its defaults.
func (s *Spec) check() error {
	if s.Kind == "" {
		return &FieldError{"kind", "required: caliper or webhook"}
	}
	if err := checkKind(s.Kind); err != nil {
		return err
	}
	if err := checkURL(s.URL); err != nil {
		return err
	}
	if err := checkCredentials(s.Kind, Credentials{Token: s.Token, Header: s.Header, Secret: s.Secret}); err != nil {
		return err
	}
	if s.Batch == 0 {
		s.Batch = DefaultBatch
	}
	if err := checkBatch(s.Batch); err != nil {
		return err
	}
	if s.MaxWait == nil {
		d := DefaultMaxWait
		s.MaxWait = &d
	}
	if err := checkMaxWait(*s.MaxWait); err != nil {
		return err
	}
	if s.OnReject == "" {
		s.OnReject = store.RejectDeadLetter
	}
	return checkOnReject(s.OnReject)
}
