package forward

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// Headers of a webhook delivery: the receiver recomputes
// HMAC-SHA256(secret, timestamp + "." + body) and compares it with the
// signature (docs/forwarding.md).
const (
	HeaderTimestamp = "X-Lrs-Timestamp" // unix seconds when the batch was signed
	HeaderSignature = "X-Lrs-Signature" // "v1=" + hex of the HMAC
	HeaderForwarder = "X-Lrs-Forwarder" // the forwarder's id
)

// Caliper data versions of the envelopes a caliper forwarder sends.
const (
	caliper12 = "http://purl.imsglobal.org/ctx/caliper/v1p2"
	caliper11 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
)

// answer is what the receiver said to one batch.
type answer struct {
	status     int // 0: no answer (network error, timeout)
	body       string
	retryAfter time.Duration // from Retry-After, 0 if none
	err        error         // the request failed
}

// outcome classifies an answer: delivered, retry later, or refused for good.
type outcome int

const (
	delivered outcome = iota
	retry
	refused
)

func (a answer) outcome() outcome {
	switch s := a.status; {
	case a.err != nil || s == 0:
		return retry
	case s >= 200 && s < 300:
		return delivered
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return retry
	case s >= 400:
		return refused
	}
	return retry // 1xx, 3xx not followed: the receiver is misconfigured, try again later
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	b := strings.TrimSpace(a.body)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("receiver answered %d %s", a.status, b)
}

// dataVersion is the Caliper version of a stored event (its @context): 1.1
// events travel in a 1.1 envelope, everything else in a 1.2 one.
func dataVersion(data []byte) string {
	var ev struct {
		Context json.RawMessage `json:"@context"`
	}
	if json.Unmarshal(data, &ev) == nil && bytes.Contains(ev.Context, []byte("caliper/v1p1")) {
		return caliper11
	}
	return caliper12
}

// runs cuts evs where the Caliper version changes: one envelope holds one version.
func runs(evs []store.StoredEvent) [][]store.StoredEvent {
	var out [][]store.StoredEvent
	start := 0
	for i := 1; i <= len(evs); i++ {
		if i == len(evs) || dataVersion(evs[i].Data) != dataVersion(evs[start].Data) {
			out = append(out, evs[start:i])
			start = i
		}
	}
	return out
}

// body builds the request body of one batch.
func (d *delivery) body(evs []store.StoredEvent, cursor string) ([]byte, error) {
	data := make([]json.RawMessage, len(evs))
	for i := range evs {
		data[i] = evs[i].Data
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	if d.f.Kind == store.ForwardWebhook {
		return json.Marshal(struct {
			Forwarder int64             `json:"forwarder"`
			Tenant    string            `json:"tenant"`
			SentAt    string            `json:"sentAt"`
			Cursor    string            `json:"cursor"`
			Events    []json.RawMessage `json:"events"`
		}{d.f.ID, d.f.Tenant, now, cursor, data})
	}
	return json.Marshal(struct {
		Sensor      string            `json:"sensor"`
		SendTime    string            `json:"sendTime"`
		DataVersion string            `json:"dataVersion"`
		Data        []json.RawMessage `json:"data"`
	}{d.w.cfg.Sensor, now, dataVersion(evs[0].Data), data})
}

// Sign returns the X-Lrs-Signature value of a webhook body sent at
// timestamp (unix seconds) with secret.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// send posts one batch (of one Caliper version) and reads the answer.
func (d *delivery) send(ctx context.Context, evs []store.StoredEvent, cursor string) answer {
	body, err := d.body(evs, cursor)
	if err != nil {
		return answer{err: fmt.Errorf("encode batch: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, d.w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.f.URL, bytes.NewReader(body))
	if err != nil {
		return answer{err: fmt.Errorf("request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lrs-forwarder")
	req.Header.Set(HeaderForwarder, strconv.FormatInt(d.f.ID, 10))
	switch {
	case d.creds.Token != "":
		req.Header.Set("Authorization", "Bearer "+d.creds.Token)
	case d.creds.Header != "":
		name, value, _ := strings.Cut(d.creds.Header, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if d.f.Kind == store.ForwardWebhook {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(d.creds.Secret, ts, body))
	}
	res, err := d.w.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %v", d.w.cfg.Timeout)
		}
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	a := answer{status: res.StatusCode, body: string(b), retryAfter: parseRetryAfter(res.Header.Get("Retry-After"))}
	if err != nil && a.outcome() == delivered {
		// The answer was cut: the batch may or may not be stored; send it again (receivers dedupe).
		return answer{err: fmt.Errorf("read answer: %w", err)}
	}
	return a
}

// parseRetryAfter reads Retry-After: seconds or an HTTP date; 0 if absent
// or unreadable, at most 10 minutes.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), 10*time.Minute)
}
