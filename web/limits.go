package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Limits bound what clients can make the server hold. Zero values take the defaults.
type Limits struct {
	// MaxInflightBytes bounds the request bodies being read, decoded and
	// stored at once, weighted by size; see docs/configuration.md.
	MaxInflightBytes int64
	// AdmitWait is how long a body waits for room before 503.
	AdmitWait time.Duration
	// MaxConns caps open connections; MaxConnsPerIP caps them per client address.
	MaxConns, MaxConnsPerIP int
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are net/http's.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// ShutdownTimeout is how long requests in flight may finish after a stop
	// is asked for; then they are cut.
	ShutdownTimeout time.Duration
}

// DefaultLimits are the limits lrs serve starts with (docs/configuration.md).
var DefaultLimits = Limits{
	MaxInflightBytes:  64 << 20,
	AdmitWait:         2 * time.Second,
	MaxConns:          4096,
	MaxConnsPerIP:     1024,
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       60 * time.Second,
	IdleTimeout:       90 * time.Second,
	ShutdownTimeout:   30 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxInflightBytes, d.MaxInflightBytes)
	setDur(&l.AdmitWait, d.AdmitWait)
	setInt(&l.MaxConns, d.MaxConns)
	setInt(&l.MaxConnsPerIP, d.MaxConnsPerIP)
	setDur(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDur(&l.ReadTimeout, d.ReadTimeout)
	setDur(&l.IdleTimeout, d.IdleTimeout)
	setDur(&l.ShutdownTimeout, d.ShutdownTimeout)
	return l
}

// admitBody holds a share of MaxInflightBytes while a request's body is read,
// decoded and stored: Content-Length bytes, or --max-body when the length is
// not known beforehand (chunked, or gzip, whose decompressed size is what
// counts). With no room within AdmitWait the request gets 503 and Retry-After
// at once, before its body is read: the wait is bounded, never a queue.
func (s *Server) admitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		weight := s.cfg.MaxBody
		if req.ContentLength >= 0 && req.Header.Get(echo.HeaderContentEncoding) == "" {
			weight = min(req.ContentLength, s.cfg.MaxBody)
		}
		weight = min(max(weight, 1), s.limits.MaxInflightBytes)
		ctx, cancel := context.WithTimeout(req.Context(), s.limits.AdmitWait)
		err := s.inflight.Acquire(ctx, weight)
		cancel()
		if err != nil {
			p := newProblem(http.StatusServiceUnavailable, "busy",
				"the server is decoding as many request bodies as --max-inflight-bytes allows ("+
					formatBytes(s.limits.MaxInflightBytes)+"); nothing was stored, retry later")
			p.header = http.Header{"Retry-After": {"1"}}
			return p
		}
		defer s.inflight.Release(weight)
		return next(c)
	}
}

// readTracker records whether a request body was read to its end.
type readTracker struct {
	io.ReadCloser
	done atomic.Bool
}

func (r *readTracker) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err == io.EOF {
		r.done.Store(true)
	}
	return n, err
}

// trackBody wraps the request body so that a refusal sent before the body
// was read can close the connection: net/http would otherwise read up to
// 256 KiB of it before sending the answer — for a client that announced a
// body and sends none, until the read timeout.
func trackBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = &readTracker{ReadCloser: req.Body}
		}
		return next(c)
	}
}

// bodyUnread reports a request whose body was not read to its end.
func bodyUnread(req *http.Request) bool {
	rt, ok := req.Body.(*readTracker)
	return ok && !rt.done.Load() && req.ContentLength != 0
}

// connLimiter caps open connections in all and per client IP: a connection
// over a cap is closed at once, so idle or slow clients cannot hold the
// server's file descriptors.
type connLimiter struct {
	net.Listener
	max, perIP int
	log        *slog.Logger

	mu      sync.Mutex
	open    int
	byIP    map[string]int
	refused atomic.Int64
}

func limitListener(ln net.Listener, l Limits, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: l.MaxConns, perIP: l.MaxConnsPerIP, log: log, byIP: map[string]int{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(conn)
		l.mu.Lock()
		ok := l.open < l.max && l.byIP[ip] < l.perIP
		if ok {
			l.open++
			l.byIP[ip]++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: conn, release: func() { l.release(ip) }}, nil
		}
		if n := l.refused.Add(1); n == 1 || n%1000 == 0 {
			l.log.Warn("connection refused: over the connection limit",
				slog.String("client", ip), slog.Int("max_connections", l.max),
				slog.Int("max_connections_per_ip", l.perIP), slog.Int64("refused_so_far", n))
		}
		conn.Close()
	}
}

func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
}

func remoteIP(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// inflightRequests tracks the requests being served, so that a shutdown that
// has to cut them can say which.
type inflightRequests struct {
	mu   sync.Mutex
	next uint64
	reqs map[uint64]string // id → "METHOD /path"
}

func (f *inflightRequests) track(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		f.mu.Lock()
		if f.reqs == nil {
			f.reqs = map[uint64]string{}
		}
		f.next++
		id := f.next
		f.reqs[id] = req.Method + " " + req.URL.Path
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.reqs, id)
			f.mu.Unlock()
		}()
		return next(c)
	}
}

// summary counts the requests in flight by method and path: "GET /api/v1/export ×2".
func (f *inflightRequests) summary() []string {
	f.mu.Lock()
	counts := map[string]int{}
	for _, r := range f.reqs {
		counts[r]++
	}
	f.mu.Unlock()
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, r+" ×"+strconv.Itoa(n))
	}
	sort.Strings(out)
	return out
}
