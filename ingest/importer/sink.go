package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
)

// StoreSink writes envelopes to the local store through the ingest service:
// the same validation, dedupe and atomicity as POST /caliper.
type StoreSink struct {
	Service *ingest.Service
	Source  ingest.Source
}

// Store ingests one envelope.
func (s StoreSink) Store(ctx context.Context, env []byte) (ingest.Result, error) {
	return s.Service.Ingest(ctx, s.Source, env)
}

// EndpointSink posts envelopes to a Caliper endpoint — another lrs or any
// store that speaks the Caliper Sensor API —, retrying with exponential
// backoff on network errors, 429 and 5xx.
type EndpointSink struct {
	URL, Token string
	Client     *http.Client
	MaxTries   int           // default 8
	BaseDelay  time.Duration // default 500ms, doubled each retry, with jitter
}

// Store posts one envelope.
func (s EndpointSink) Store(ctx context.Context, env []byte) (ingest.Result, error) {
	tries, delay := s.MaxTries, s.BaseDelay
	if tries <= 0 {
		tries = 8
	}
	if delay <= 0 {
		delay = 500 * time.Millisecond
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	var lastErr error
	for i := 0; i < tries; i++ {
		if i > 0 {
			wait := delay<<(i-1) + time.Duration(rand.Int64N(int64(delay)))
			select {
			case <-ctx.Done():
				return ingest.Result{}, ctx.Err()
			case <-time.After(wait):
			}
		}
		res, retry, err := s.post(ctx, client, env)
		if err == nil || !retry {
			return res, err
		}
		lastErr = err
	}
	return ingest.Result{}, fmt.Errorf("gave up after %d tries: %w", tries, lastErr)
}

func (s EndpointSink) post(ctx context.Context, client *http.Client, env []byte) (ingest.Result, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(env))
	if err != nil {
		return ingest.Result{}, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Prefer", "return=representation")
	res, err := client.Do(req)
	if err != nil {
		return ingest.Result{}, true, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		var r ingest.Result
		if json.Unmarshal(body, &r) != nil || r.EventsStored+r.Duplicates == 0 {
			// A store that ignores Prefer: count every event as stored.
			var env struct{ Data []json.RawMessage }
			json.Unmarshal(envBody(req), &env)
			r = ingest.Result{EventsStored: len(env.Data)}
		}
		return r, false, nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return ingest.Result{}, true, fmt.Errorf("%s: %d %s", s.URL, res.StatusCode, truncate(body))
	case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusConflict:
		var p struct {
			Problems  []caliper.Problem `json:"problems"`
			Truncated bool              `json:"truncated"`
		}
		if json.Unmarshal(body, &p) == nil && len(p.Problems) > 0 {
			return ingest.Result{}, false, &caliper.Error{Kind: caliper.KindMalformed, Problems: p.Problems, Truncated: p.Truncated}
		}
	}
	return ingest.Result{}, false, fmt.Errorf("%s: %d %s", s.URL, res.StatusCode, truncate(body))
}

func envBody(req *http.Request) []byte {
	if req.GetBody == nil {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(rc)
	return b
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
