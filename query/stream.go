package query

import (
	"context"
	"net/url"
	"slices"
	"sync"

	"github.com/lrs-dev/lrs/store"
)

// StreamParams are the parameters of GET /api/v1/stream, filters included.
var StreamParams = append(slices.Clone(filterParams), "cursor", "from")

// Subscription is one live stream: Messages yields its events in stored
// order until Done is closed (see Err for why).
type Subscription struct {
	hub    *Hub
	feed   *feed
	filter store.EventFilter
	fp     [8]byte
	ch     chan *Message
	cancel context.CancelFunc // stops the catch-up

	done     chan struct{}
	endOnce  sync.Once
	err      error
	closing  sync.Once
	released bool // guarded by hub.mu

	pos store.Position // joined: the last event considered; guarded by hub.mu
}

// Subscribe starts a stream of the tenant's events selected by params (the
// filters of /api/v1/events, cursor, from). It starts after lastEventID
// when given (an SSE reconnect), else after cursor, else at from: now (the
// default: what is stored from here on) or beginning. Bad parameters are a
// *ParamError; ErrStreamClosed once the hub has stopped. The caller must
// Close the subscription.
func (h *Hub) Subscribe(ctx context.Context, tenantID int64, params url.Values, lastEventID string) (*Subscription, error) {
	if err := checkKnown(params, StreamParams); err != nil {
		return nil, err
	}
	f, err := parseFilter(params, tenantID)
	if err != nil {
		return nil, err
	}
	syncParams := url.Values{}
	for k, vs := range params {
		if k != "from" {
			syncParams[k] = vs
		}
	}
	syncParams.Set("ascending", "true") // a stream cursor is an ascending sync cursor
	fp := fingerprint(syncParams, tenantID)
	start, now, err := streamStart(params, lastEventID, fp)
	if err != nil {
		return nil, err
	}
	fd, err := h.use(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Subscription{hub: h, feed: fd, filter: f, fp: fp, ch: make(chan *Message, h.cfg.Buffer),
		cancel: cancel, done: make(chan struct{})}
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		h.release(fd)
		cancel()
		return nil, ErrStreamClosed
	}
	h.all[s] = struct{}{}
	if now {
		s.pos = fd.pos
		fd.subs[s] = struct{}{}
		h.mu.Unlock()
		return s, nil
	}
	h.mu.Unlock()
	go s.catchUp(runCtx, fd, start)
	return s, nil
}

// streamStart reads where a stream starts: after a position, or now.
func streamStart(params url.Values, lastEventID string, fp [8]byte) (store.Position, bool, error) {
	from := params["from"]
	if len(from) > 1 || (len(from) == 1 && from[0] != "now" && from[0] != "beginning") {
		return store.Position{}, false, &ParamError{Param: "from", Message: "must be now or beginning, given once"}
	}
	if len(params["cursor"]) > 1 {
		return store.Position{}, false, &ParamError{Param: "cursor", Message: "give it once"}
	}
	cursor := params.Get("cursor")
	if cursor != "" && len(from) == 1 {
		return store.Position{}, false, &ParamError{Param: "from", Message: "give either cursor or from, not both"}
	}
	param := "cursor"
	if lastEventID != "" {
		cursor, param = lastEventID, "Last-Event-ID"
	}
	if cursor == "" {
		return store.Position{}, len(from) == 0 || from[0] == "now", nil
	}
	pos, asc, err := decodeCursor(cursor, fp)
	if err != nil {
		pe := *err.(*ParamError)
		pe.Param = param
		return store.Position{}, false, &pe
	}
	if !asc {
		return store.Position{}, false, &ParamError{Param: param, Message: "was made for a descending page; a stream resumes from an ascending (ascending=true) cursor"}
	}
	return pos, false, nil
}

// use returns the tenant's feed, counting one more user, once its position
// is known (a new feed starts at the tenant's stream head).
func (h *Hub) use(ctx context.Context, tenantID int64) (*feed, error) {
	h.mu.Lock()
	f := h.feeds[tenantID]
	first := f == nil
	if first {
		f = &feed{ready: make(chan struct{}), subs: map[*Subscription]struct{}{}}
		h.feeds[tenantID] = f
	}
	f.users++
	h.mu.Unlock()
	if first {
		pos, err := h.st.StreamHead(ctx, tenantID)
		h.mu.Lock()
		f.pos, f.err = pos, err
		if err != nil && h.feeds[tenantID] == f {
			delete(h.feeds, tenantID) // the next subscriber tries again
		}
		h.mu.Unlock()
		close(f.ready)
	}
	select {
	case <-f.ready:
	case <-ctx.Done():
		h.release(f)
		return nil, ctx.Err()
	}
	if f.err != nil {
		h.release(f)
		return nil, f.err
	}
	return f, nil
}

// release counts one user less of f, dropping it when it has none.
func (h *Hub) release(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f.users--
	if f.users == 0 {
		for t, g := range h.feeds {
			if g == f {
				delete(h.feeds, t)
			}
		}
	}
}

// catchUp pages the read API from start until it reaches the hub's
// position for the tenant, then joins the hub there. A page shorter than
// asked holds every selected event up to the hub's position read before it
// (that position is below the horizon of any later read), so joining is
// exact if the hub has not moved meanwhile; after a few tries it reads
// holding the hub still.
func (s *Subscription) catchUp(ctx context.Context, f *feed, start store.Position) {
	h := s.hub
	pos := start
	for try := 0; ; try++ {
		hold := try >= 3
		if hold {
			h.fetch.Lock()
		}
		h.mu.Lock()
		head := f.pos
		h.mu.Unlock()
		page, err := h.st.ListEvents(ctx, s.filter, &pos, true, catchUpPage)
		if err == nil {
			err = s.send(ctx, page, !hold)
		}
		if err != nil {
			if hold {
				h.fetch.Unlock()
			}
			s.end(err)
			return
		}
		if len(page) > 0 {
			pos = page[len(page)-1].Position
		}
		joined := false
		if len(page) < catchUpPage {
			joined = s.join(f, head, pos)
		}
		if hold {
			h.fetch.Unlock()
		}
		if joined {
			return
		}
		if len(page) == catchUpPage {
			try = -1
		}
	}
}

// send hands a catch-up page to the subscriber, waiting for room if wait
// (else, while the hub is held still, a full buffer ends the subscription).
func (s *Subscription) send(ctx context.Context, page []store.StoredEvent, wait bool) error {
	for i := range page {
		msg := newMessage(page[i].Position, page[i].Data)
		if !wait {
			select {
			case s.ch <- msg:
				continue
			default:
				return ErrSlowSubscriber
			}
		}
		select {
		case s.ch <- msg:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return s.err
		}
	}
	return nil
}

// join makes s a subscriber of the hub at pos, unless the hub has moved
// past both head and pos meanwhile (it may have passed events s has not
// seen); true when catching up is over.
func (s *Subscription) join(f *feed, head, pos store.Position) bool {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.released || h.stopped {
		return true
	}
	if f.pos.After(head) && f.pos.After(pos) {
		return false
	}
	if head.After(pos) {
		pos = head
	}
	s.pos = pos
	if len(f.subs) == 0 && pos.After(f.pos) {
		f.pos = pos // nobody else reads it: the hub may start here
	}
	f.subs[s] = struct{}{}
	return true
}

// Messages yields the stream's events, each once, in stored order.
func (s *Subscription) Messages() <-chan *Message { return s.ch }

// Done is closed when the hub ends the subscription: Err says why.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err is why the subscription ended: ErrSlowSubscriber, ErrStreamClosed or a
// store error of the catch-up; nil while it runs.
func (s *Subscription) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// Cursor is the cursor just after pos for this stream's filters: the SSE id
// of the event at pos, also a cursor of /api/v1/events?ascending=true with
// the same filters.
func (s *Subscription) Cursor(pos store.Position) string { return encodeCursor(pos, true, s.fp) }

// end closes done with err (the first reason wins).
func (s *Subscription) end(err error) {
	s.endOnce.Do(func() {
		s.err = err
		close(s.done)
	})
}

// Close ends the subscription and frees what the hub holds for it.
func (s *Subscription) Close() {
	s.closing.Do(func() {
		s.cancel()
		h := s.hub
		h.mu.Lock()
		s.released = true
		delete(h.all, s)
		delete(s.feed.subs, s)
		h.mu.Unlock()
		s.end(ErrStreamClosed)
		h.release(s.feed)
	})
}
