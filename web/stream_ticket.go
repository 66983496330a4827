package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lrs-dev/lrs/store"
)

// Stream tickets let a browser's EventSource, which cannot send headers,
// open GET /api/v1/stream?ticket=… (and a download link GET
// /api/v1/export?ticket=…) without putting the API token in a URL
// (where logs, proxies and browser history would keep it). A ticket is
// short-lived and read-only: the key's id and tenant and an expiry, signed
// with HMAC-SHA256 under a secret of the database (store StreamTicketKey),
// so any node accepts a ticket any node made. Nothing is stored per ticket.

// TicketKeys gives the secret stream tickets are signed with.
type TicketKeys interface {
	StreamTicketKey(ctx context.Context) ([]byte, error)
}

// DefaultStreamTicketTTL is how long a stream ticket can open streams
// (Config.StreamTicketTTL).
const DefaultStreamTicketTTL = time.Minute

const (
	ticketPrefix  = "lrst_"
	ticketVersion = 1
	ticketBody    = 1 + 8 + 8 + 8 // version, key id, tenant id, expiry (Unix milliseconds)
	ticketMAC     = 16
)

// ticketSigner signs and checks tickets, loading the secret once.
type ticketSigner struct {
	keys   TicketKeys
	mu     sync.Mutex
	secret []byte
}

func (t *ticketSigner) key(ctx context.Context) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.secret != nil {
		return t.secret, nil
	}
	if t.keys == nil {
		return nil, errors.New("stream tickets not configured")
	}
	k, err := t.keys.StreamTicketKey(ctx)
	if err != nil {
		return nil, err
	}
	t.secret = k
	return k, nil
}

func (t *ticketSigner) mac(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)[:ticketMAC]
}

func (t *ticketSigner) make(ctx context.Context, k store.Key, expires time.Time) (string, error) {
	secret, err := t.key(ctx)
	if err != nil {
		return "", err
	}
	b := make([]byte, 0, ticketBody+ticketMAC)
	b = append(b, ticketVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(k.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(k.TenantID))
	b = binary.BigEndian.AppendUint64(b, uint64(expires.UnixMilli()))
	b = append(b, t.mac(secret, b)...)
	return ticketPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

var errBadTicket = errors.New("bad ticket")

// check returns the read-only key a ticket stands for, errBadTicket if it
// is not one of ours or has expired.
func (t *ticketSigner) check(ctx context.Context, ticket string, now time.Time) (store.Key, error) {
	raw, ok := strings.CutPrefix(ticket, ticketPrefix)
	if !ok {
		return store.Key{}, errBadTicket
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) != ticketBody+ticketMAC || b[0] != ticketVersion {
		return store.Key{}, errBadTicket
	}
	secret, err := t.key(ctx)
	if err != nil {
		return store.Key{}, err
	}
	if !hmac.Equal(b[ticketBody:], t.mac(secret, b[:ticketBody])) {
		return store.Key{}, errBadTicket
	}
	if now.UnixMilli() >= int64(binary.BigEndian.Uint64(b[17:25])) {
		return store.Key{}, errBadTicket
	}
	return store.Key{
		ID:       int64(binary.BigEndian.Uint64(b[1:9])),
		TenantID: int64(binary.BigEndian.Uint64(b[9:17])),
		Scopes:   []string{store.ScopeRead},
	}, nil
}

// streamTicket answers POST /api/v1/stream/tickets: a ticket for the
// caller's key, good for Config.StreamTicketTTL.
func (s *Server) streamTicket(c echo.Context) error {
	if len(c.QueryParams()) > 0 {
		return paramProblem(firstParam(c.QueryParams()), "unknown parameter; this endpoint takes none")
	}
	ttl := s.cfg.StreamTicketTTL
	if ttl <= 0 {
		ttl = DefaultStreamTicketTTL
	}
	expires := time.Now().Add(ttl)
	ticket, err := s.tickets.make(c.Request().Context(), keyFrom(c), expires)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{
		"ticket":    ticket,
		"expiresAt": expires.UTC().Format(time.RFC3339Nano),
		"url":       "/api/v1/stream?ticket=" + ticket,
	})
}

// streamAuth authenticates GET /api/v1/stream and /api/v1/export: by a ticket parameter when
// the request has no Authorization header (EventSource), else as every
// read endpoint.
func (s *Server) streamAuth(next echo.HandlerFunc) echo.HandlerFunc {
	byToken := s.requireScope(store.ScopeRead)(next)
	return func(c echo.Context) error {
		ticket := c.QueryParams()["ticket"]
		if len(ticket) == 0 || c.Request().Header.Get(echo.HeaderAuthorization) != "" {
			return byToken(c)
		}
		if len(ticket) > 1 {
			return paramProblem("ticket", "give it once")
		}
		key, err := s.tickets.check(c.Request().Context(), ticket[0], time.Now())
		if errors.Is(err, errBadTicket) {
			if err := s.limitAnonymous(c); err != nil {
				return err
			}
			return unauthorized("invalid_token", "the stream ticket is not valid or has expired; get a new one with POST /api/v1/stream/tickets")
		}
		if err != nil {
			return err
		}
		c.Set(keyContextKey, key)
		if err := s.limitKey(c, key); err != nil {
			return err
		}
		return next(c)
	}
}
