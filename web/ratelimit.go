package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/store"
)

// RateLimits are token buckets per key and per client IP; a zero rate is no
// limit. A bucket holds one second's worth (at least 1). See
// docs/configuration.md, "Rate limits".
type RateLimits struct {
	EventsPerSec    float64 // per key, unless the key has its own (store.Key.RateLimit)
	RequestsPerSec  float64 // per key, every authenticated request
	AnonymousPerSec float64 // per client IP, requests without a valid key (probes excepted)
}

// Problem "limit" values, and the metric's label.
const (
	limitEvents    = "events"
	limitRequests  = "requests"
	limitAnonymous = "anonymous"
)

// bucket is a token bucket that may go into debt: an envelope is admitted
// while the bucket is not empty and then charged all its events, so that an
// envelope larger than the bucket still passes, and the key waits that much
// longer afterwards. (golang.org/x/time/rate refuses any charge above its
// burst, which would refuse such an envelope for ever.)
type bucket struct {
	tokens float64
	last   time.Time
}

// refill brings b up to now at rate, capped at one second's worth.
func (b *bucket) refill(now time.Time, rate float64) {
	capacity := math.Max(rate, 1)
	if b.last.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = math.Min(capacity, b.tokens+rate*now.Sub(b.last).Seconds())
	}
	b.last = now
}

// wait is how long until b holds a whole token again.
func (b *bucket) wait(rate float64) time.Duration {
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}

// buckets are the token buckets of one limit, by key id or client IP.
type buckets[K comparable] struct {
	mu sync.Mutex
	m  map[K]*bucket
}

// admit reports whether k has a token at rate now, taking cost tokens if
// so (cost 0 only checks); else how long until it will.
func (bs *buckets[K]) admit(k K, rate, cost float64, now time.Time) (bool, time.Duration) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[K]*bucket{}
	}
	b := bs.m[k]
	if b == nil {
		if len(bs.m) >= 10000 {
			bs.sweep(now, rate)
		}
		b = &bucket{}
		bs.m[k] = b
	}
	b.refill(now, rate)
	if b.tokens < 1 {
		return false, b.wait(rate)
	}
	b.tokens -= cost
	return true, 0
}

// charge takes cost tokens from k's bucket, into debt if need be.
func (bs *buckets[K]) charge(k K, rate, cost float64, now time.Time) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b := bs.m[k]; b != nil {
		b.refill(now, rate)
		b.tokens -= cost
	}
}

// sweep forgets the buckets that have been idle long enough to be full
// again: a new bucket starts full, so nothing changes for them.
func (bs *buckets[K]) sweep(now time.Time, rate float64) {
	for k, b := range bs.m {
		if b.tokens+rate*now.Sub(b.last).Seconds() >= math.Max(rate, 1) {
			delete(bs.m, k)
		}
	}
}

// limiter holds the server's buckets.
type limiter struct {
	cfg       RateLimits
	events    buckets[int64]
	requests  buckets[int64]
	anonymous buckets[string]
}

// eventRate is key's events-per-second limit; 0 is none.
func (l *limiter) eventRate(k store.Key) float64 {
	if k.RateLimit != nil {
		return *k.RateLimit
	}
	return l.cfg.EventsPerSec
}

// rateLimited is the 429 for limit, with Retry-After in whole seconds.
func rateLimited(limit, detail string, wait time.Duration) *Problem {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	p := newProblem(http.StatusTooManyRequests, "rate-limited",
		detail+"; nothing was stored, retry after "+strconv.Itoa(secs)+" s")
	p.Limit = limit
	p.header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	return p
}

// limitKey admits an authenticated request: its key's requests/s, and on an
// ingest route, that its events bucket is not empty (the events are charged
// once the envelope is valid, by chargeEvents).
func (s *Server) limitKey(c echo.Context, k store.Key) error {
	now := time.Now()
	if r := s.limiter.cfg.RequestsPerSec; r > 0 {
		if ok, wait := s.limiter.requests.admit(k.ID, r, 1, now); !ok {
			s.metrics.rateLimited(limitRequests)
			return rateLimited(limitRequests, "key "+strconv.FormatInt(k.ID, 10)+" is limited to "+
				formatRate(r)+" requests/s (--rate-limit-requests)", wait)
		}
	}
	if r := s.limiter.eventRate(k); r > 0 && s.isIngestRoute(c) {
		if ok, wait := s.limiter.events.admit(k.ID, r, 0, now); !ok {
			s.metrics.rateLimited(limitEvents)
			how := "its own limit, lrs keys create --rate-limit"
			if k.RateLimit == nil {
				how = "--rate-limit"
			}
			return rateLimited(limitEvents, "key "+strconv.FormatInt(k.ID, 10)+" is limited to "+
				formatRate(r)+" events/s ("+how+")", wait)
		}
	}
	return nil
}

// chargeEvents takes a valid envelope's events from its key's bucket.
func (s *Server) chargeEvents(k store.Key, events int) {
	if r := s.limiter.eventRate(k); r > 0 && events > 0 {
		s.limiter.events.charge(k.ID, r, float64(events), time.Now())
	}
}

// limitAnonymous admits a request that has no valid key, by client IP.
func (s *Server) limitAnonymous(c echo.Context) error {
	r := s.limiter.cfg.AnonymousPerSec
	if r <= 0 {
		return nil
	}
	ip := c.RealIP()
	if ok, wait := s.limiter.anonymous.admit(ip, r, 1, time.Now()); !ok {
		s.metrics.rateLimited(limitAnonymous)
		return rateLimited(limitAnonymous, "requests without a valid key from "+ip+" are limited to "+
			formatRate(r)+" per second (--rate-limit-ip)", wait)
	}
	return nil
}

// anonymousLimit applies limitAnonymous to the routes that need no key
// (the probes excepted: load balancers call them often and from few IPs).
func (s *Server) anonymousLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.limitAnonymous(c); err != nil {
			return err
		}
		return next(c)
	}
}

func formatRate(r float64) string { return strconv.FormatFloat(r, 'f', -1, 64) }
