package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest/synth"
)

// ingestLoad is one 'lrs bench ingest' run: closed-loop clients posting
// synthetic Caliper envelopes to an endpoint, any endpoint (ours or a peer's).
type ingestLoad struct {
	url      string // the Caliper endpoint
	token    string
	clients  int
	batch    int // events per envelope
	duration time.Duration
	requests int // stop after this many requests in all (0: duration only)
	seed     uint64
	ledger   string // file of acknowledged event ids
	check    bool   // afterwards, export the tenant and find every acknowledged id once
}

// clientResult is what one client saw.
type clientResult struct {
	latencies latencies // of acknowledged requests
	statuses  map[int]int
	netErrors int
	acked     int // events in acknowledged envelopes
	firstErr  string
}

func runBenchIngest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	l := ingestLoad{clients: 4, batch: 100, duration: 10 * time.Second, seed: 1}
	fs := newFlagSet("bench ingest", stderr)
	fs.StringVar(&l.url, "url", "http://127.0.0.1:8080/caliper", "the Caliper endpoint to load")
	fs.StringVar(&l.token, "token", "", "bearer token with write scope (and read scope for --check)")
	fs.IntVar(&l.clients, "clients", l.clients, "concurrent closed-loop clients, one connection each")
	fs.IntVar(&l.batch, "batch", l.batch, "events per envelope")
	fs.DurationVar(&l.duration, "duration", l.duration, "how long to post")
	fs.IntVar(&l.requests, "requests", 0, "stop after this many requests in all (0: run for --duration)")
	fs.Uint64Var(&l.seed, "seed", l.seed, "random seed for the generated events (ids are new for every seed)")
	fs.StringVar(&l.ledger, "ledger", "", "write the id of every acknowledged event to this file")
	fs.BoolVar(&l.check, "check", false, "afterwards, export the tenant over the read API and check that every acknowledged event is stored exactly once")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if l.token == "" || l.clients < 1 || l.batch < 1 || l.duration <= 0 {
		return &exitCodeError{code: 2, err: errors.New("bench ingest: give --token, and --clients, --batch and --duration above zero")}
	}
	if l.check && l.ledger == "" {
		return &exitCodeError{code: 2, err: errors.New("bench ingest: --check needs --ledger FILE")}
	}
	if _, err := url.ParseRequestURI(l.url); err != nil {
		return &exitCodeError{code: 2, err: fmt.Errorf("bench ingest: --url: %w", err)}
	}
	return l.run(ctx, stdout, stderr)
}

func (l *ingestLoad) run(ctx context.Context, stdout, stderr io.Writer) error {
	var ledger *lockedWriter
	if l.ledger != "" {
		f, err := os.Create(l.ledger)
		if err != nil {
			return err
		}
		defer f.Close()
		ledger = &lockedWriter{w: bufio.NewWriterSize(f, 1<<16)}
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: l.clients,
		DisableCompression:  true,
	}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()

	runCtx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var issued struct {
		sync.Mutex
		n int
	}
	take := func() bool {
		if l.requests == 0 {
			return runCtx.Err() == nil
		}
		issued.Lock()
		defer issued.Unlock()
		if issued.n >= l.requests || runCtx.Err() != nil {
			return false
		}
		issued.n++
		return true
	}

	events := newEventSource(l.seed)
	cpu0 := processCPU()
	start := time.Now()
	results := make([]clientResult, l.clients)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = l.client(runCtx, client, events.with(l.seed*1_000_003+uint64(i)), take, ledger)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	if ledger != nil {
		if err := ledger.flush(); err != nil {
			return err
		}
	}
	l.report(stdout, results, elapsed, cpu)
	if !l.check {
		return nil
	}
	return l.verify(ctx, client, stdout)
}

// client posts envelopes until take refuses, timing each request.
func (l *ingestLoad) client(ctx context.Context, hc *http.Client, ev *eventSource, take func() bool, ledger *lockedWriter) clientResult {
	r := clientResult{statuses: map[int]int{}}
	var body bytes.Buffer
	ids := make([]string, l.batch)
	for take() {
		body.Reset()
		body.WriteString(`{"sensor":"https://example.edu/sensors/lms","sendTime":"`)
		body.WriteString(time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
		body.WriteString(`","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[`)
		for i := range ids {
			if i > 0 {
				body.WriteByte(',')
			}
			ids[i] = ev.append(&body)
		}
		body.WriteString("]}")
		req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, l.url, bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+l.token)
		t0 := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			r.netErrors++
			if r.firstErr == "" {
				r.firstErr = err.Error()
			}
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(t0)
		r.statuses[res.StatusCode]++
		if res.StatusCode != http.StatusOK {
			if r.firstErr == "" {
				r.firstErr = fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(string(msg)))
			}
			continue
		}
		r.latencies = append(r.latencies, d)
		r.acked += l.batch
		if ledger != nil {
			ledger.lines(ids)
		}
	}
	return r
}

func (l *ingestLoad) report(w io.Writer, results []clientResult, elapsed, cpu time.Duration) {
	var all latencies
	statuses := map[int]int{}
	acked, netErrors, firstErr := 0, 0, ""
	for _, r := range results {
		all = append(all, r.latencies...)
		for s, n := range r.statuses {
			statuses[s] += n
		}
		acked += r.acked
		netErrors += r.netErrors
		if firstErr == "" {
			firstErr = r.firstErr
		}
	}
	fmt.Fprintf(w, "POST %s: %d clients, %d events an envelope, %s\n\n", l.url, l.clients, l.batch, elapsed.Round(time.Millisecond))
	fmt.Fprintln(w, "| acknowledged envelopes | events/s | requests/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	if len(all) == 0 {
		fmt.Fprintln(w, "| 0 | 0 | 0 | – | – | – | – | – |")
	} else {
		all.sort()
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %s | %s | %s | %s | %s |\n", len(all),
			float64(acked)/elapsed.Seconds(), float64(len(all))/elapsed.Seconds(),
			ms(all.at(500)), ms(all.at(900)), ms(all.at(990)), ms(all.at(999)), ms(all[len(all)-1]))
	}
	var answers []string
	for _, code := range slices.Sorted(maps.Keys(statuses)) {
		answers = append(answers, fmt.Sprintf("%d ×%d", code, statuses[code]))
	}
	fmt.Fprintf(w, "\nstatuses: %s; network errors: %d; load generator CPU: %s (%.1f µs an event)\n",
		strings.Join(answers, ", "), netErrors, cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(max(acked, 1)))
	if firstErr != "" {
		fmt.Fprintf(w, "first refusal or error: %s\n", firstErr)
	}
}

// verify exports the tenant and checks every ledger id is there exactly once.
func (l *ingestLoad) verify(ctx context.Context, hc *http.Client, w io.Writer) error {
	want, err := readLedger(l.ledger)
	if err != nil {
		return err
	}
	u, _ := url.Parse(l.url)
	u.Path, u.RawQuery = "/api/v1/export", "format=ndjson"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header.Set("Authorization", "Bearer "+l.token)
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("check: GET %s: %d %s", u.Path, res.StatusCode, msg)
	}
	seen, err := countExportedIDs(res.Body, want)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	missing, repeated := 0, 0
	for _, n := range seen {
		switch {
		case n == 0:
			missing++
		case n > 1:
			repeated++
		}
	}
	fmt.Fprintf(w, "\ncheck: %d acknowledged events, %d missing, %d stored more than once\n", len(want), missing, repeated)
	if missing > 0 || repeated > 0 {
		return &exitCodeError{code: 1, err: errors.New("check failed: acknowledged events are missing or repeated")}
	}
	return nil
}

// countExportedIDs reads an NDJSON export and counts, for each wanted id, how
// often it occurs.
func countExportedIDs(r io.Reader, want map[string]int) (map[string]int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		id := eventIDOf(sc.Bytes())
		if _, ok := want[id]; ok {
			want[id]++
		}
	}
	return want, sc.Err()
}

// eventIDOf is the UUID of an exported event line ("" if it has none). The
// line is decoded: PostgreSQL returns keys in its own order and spacing.
func eventIDOf(line []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(line, &e) != nil {
		return ""
	}
	return strings.TrimPrefix(e.ID, "urn:uuid:")
}

func readLedger(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		want[sc.Text()] = 0
	}
	return want, sc.Err()
}

// lockedWriter lets clients append ledger lines concurrently.
type lockedWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

func (lw *lockedWriter) lines(ss []string) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for _, s := range ss {
		lw.w.WriteString(s)
		if err := lw.w.WriteByte('\n'); err != nil && lw.err == nil {
			lw.err = err
		}
	}
}

func (lw *lockedWriter) flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if err := lw.w.Flush(); err != nil {
		return err
	}
	return lw.err
}

// eventSource hands out realistic events cheaply: synthetic events are
// generated once, and each use gets a fresh random id written over the
// template's, so the load generator spends its CPU on requests, not on JSON.
type eventSource struct {
	templates [][]byte
	idAt      []int // offset of the 36-character UUID in each template
	rng       *rand.Rand
}

const eventTemplates = 512

// newEventSource generates the templates; each client then takes its own
// copy of the source with with.
func newEventSource(seed uint64) *eventSource {
	g := synth.New(synth.DefaultPopulation, seed)
	s := &eventSource{}
	for len(s.templates) < eventTemplates {
		data := g.Row().Data
		// The offset of the event's own id, not of an entity's.
		id := eventIDOf(data)
		i := bytes.Index(data, []byte(`"id":"urn:uuid:`+id+`"`))
		if id == "" || i < 0 {
			continue
		}
		s.templates = append(s.templates, data)
		s.idAt = append(s.idAt, i+len(`"id":"urn:uuid:`))
	}
	return s
}

// with is a source sharing s's templates with its own random ids.
func (s *eventSource) with(seed uint64) *eventSource {
	return &eventSource{templates: s.templates, idAt: s.idAt, rng: rand.New(rand.NewPCG(seed, ^seed))}
}

// append writes one event with a new id to b and returns the id.
func (s *eventSource) append(b *bytes.Buffer) string {
	k := s.rng.IntN(len(s.templates))
	start := b.Len()
	b.Write(s.templates[k])
	var id [16]byte
	binary.LittleEndian.PutUint64(id[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(id[8:], s.rng.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	text := uuid.UUID(id).String()
	copy(b.Bytes()[start+s.idAt[k]:], text)
	return text
}

func (l latencies) sort() { slices.Sort(l) }

// at is the latency at per-mille p of sorted l.
func (l latencies) at(p int) time.Duration { return l[min(len(l)-1, len(l)*p/1000)] }

// processCPU is the user+system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
