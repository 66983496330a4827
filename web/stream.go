package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/query"
)

// Streamer starts live streams (query.Hub).
type Streamer interface {
	Subscribe(ctx context.Context, tenantID int64, params url.Values, lastEventID string) (*query.Subscription, error)
}

// Stream defaults (Config.MaxStreams, Config.StreamHeartbeat).
const (
	DefaultMaxStreams      = 100
	DefaultStreamHeartbeat = 15 * time.Second
)

// limitStreams is the limit name of a 429 for too many open streams.
const limitStreams = "streams"

// streamCounts counts each key's open streams.
type streamCounts struct {
	mu sync.Mutex
	n  map[int64]int
}

func (c *streamCounts) acquire(key int64, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[int64]int{}
	}
	if c.n[key] >= max {
		return false
	}
	c.n[key]++
	return true
}

func (c *streamCounts) release(key int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key]--; c.n[key] <= 0 {
		delete(c.n, key)
	}
}

// stream answers GET /api/v1/stream: Server-Sent Events, one event a
// message, each with the cursor after it as id, so that EventSource's
// reconnect (Last-Event-ID) resumes exactly. Comment lines keep idle
// connections alive; a subscriber the hub closes gets a last "closed"
// message saying why, with the cursor to resume from.
func (s *Server) stream(c echo.Context) error {
	if s.streamer == nil {
		return errors.New("live stream not configured")
	}
	key := keyFrom(c)
	maxStreams := s.cfg.MaxStreams
	if maxStreams <= 0 {
		maxStreams = DefaultMaxStreams
	}
	if !s.streams.acquire(key.ID, maxStreams) {
		s.metrics.rateLimited(limitStreams)
		p := newProblem(http.StatusTooManyRequests, "rate-limited",
			fmt.Sprintf("this key has %d live streams open, as many as --max-streams allows; close one, then retry after 1 s", maxStreams))
		p.Limit = limitStreams
		p.header = http.Header{"Retry-After": {"1"}}
		return p
	}
	defer s.streams.release(key.ID)
	req := c.Request()
	params := url.Values{}
	for k, v := range c.QueryParams() {
		if k != "ticket" { // authentication (streamAuth), not a filter
			params[k] = v
		}
	}
	sub, err := s.streamer.Subscribe(req.Context(), key.TenantID, params, req.Header.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	defer sub.Close()

	res := c.Response()
	// A stream outlasts any write deadline (as an export does); the read
	// timeout does not apply once the request is read
	// (TestStreamHeartbeatAndShutdown).
	rc := http.NewResponseController(res.Writer)
	_ = rc.SetWriteDeadline(time.Time{})
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	res.WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return nil
	}
	w := bufio.NewWriterSize(res, 32<<10)
	flush := func() error {
		if err := w.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	if _, err := w.WriteString(": lrs live stream\n\n"); err != nil || flush() != nil {
		return nil
	}
	beat := s.cfg.StreamHeartbeat
	if beat <= 0 {
		beat = DefaultStreamHeartbeat
	}
	ticker := time.NewTicker(beat)
	defer ticker.Stop()
	last := ""
	for {
		select {
		case m := <-sub.Messages():
			last = writeMessage(w, sub, m)
		drain: // what else is waiting goes out in the same write
			for range 256 {
				select {
				case m := <-sub.Messages():
					last = writeMessage(w, sub, m)
				default:
					break drain
				}
			}
			if flush() != nil {
				return nil
			}
			ticker.Reset(beat)
		case <-ticker.C:
			if _, err := w.WriteString(": heartbeat\n\n"); err != nil || flush() != nil {
				return nil
			}
		case <-sub.Done():
			writeClosed(w, sub.Err(), last)
			_ = flush()
			return nil
		case <-req.Context().Done():
			return nil
		}
	}
}

// writeMessage writes one event and returns its id.
func writeMessage(w *bufio.Writer, sub *query.Subscription, m *query.Message) string {
	id := sub.Cursor(m.Pos)
	w.WriteString("id: ")
	w.WriteString(id)
	w.WriteString("\ndata: ")
	w.Write(m.Data)
	w.WriteString("\n\n")
	return id
}

// closedMessage is the data of the last message of a stream the server ends.
type closedMessage struct {
	// Reason: slow (the client fell too far behind), shutdown (the server
	// is stopping) or unavailable (the store failed).
	Reason string `json:"reason"`
	Detail string `json:"detail"`
	// Cursor is the id of the last event sent ("" if none): resume after it.
	Cursor string `json:"cursor,omitempty"`
}

func writeClosed(w *bufio.Writer, err error, last string) {
	m := closedMessage{Reason: "unavailable", Detail: "the stream could not read the store; reconnect", Cursor: last}
	switch {
	case errors.Is(err, query.ErrSlowSubscriber):
		m.Reason, m.Detail = "slow", "the client fell too far behind the stream; reconnect with the last event id to resume"
	case errors.Is(err, query.ErrStreamClosed):
		m.Reason, m.Detail = "shutdown", "the server is stopping; reconnect with the last event id to resume"
	}
	b, _ := json.Marshal(m)
	w.WriteString("event: closed\ndata: ")
	w.Write(b)
	w.WriteString("\n\n")
}
