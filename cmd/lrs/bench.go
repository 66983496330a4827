package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/web"
)

// runBench is 'lrs bench query': it loads a synthetic dataset into the
// database (once; later runs reuse it) and measures the read API over HTTP on
// loopback, printing a Markdown report.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelpArg(args[0]) {
		return groupHelp(stderr, "bench", []string{"ingest", "query", "edx-log"})
	}
	if len(args) > 0 && args[0] == "ingest" {
		return runBenchIngest(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "edx-log" {
		return runBenchEdxLog(args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "query" {
		return &exitCodeError{code: 2, err: errors.New("bench: want 'bench ingest', 'bench query' or 'bench edx-log'")}
	}
	var (
		cfg     config
		events  int
		samples int
		pop     = synth.DefaultPopulation
	)
	fs := newFlagSet("bench query", stderr)
	cfg.databaseFlags(fs)
	fs.IntVar(&events, "events", 10_000_000, "events in the dataset")
	fs.IntVar(&pop.Actors, "actors", pop.Actors, "distinct actors")
	fs.IntVar(&pop.Courses, "courses", pop.Courses, "distinct courses")
	fs.IntVar(&pop.Objects, "objects", pop.Objects, "distinct objects")
	fs.IntVar(&samples, "samples", 200, "requests measured per query")
	if err := parseFlags(fs, args[1:], getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return &exitCodeError{code: 2, err: errors.New("bench query: give --database-url: a dedicated database (PostgreSQL or sqlite:PATH), which is filled with test data")}
	}
	log := newLogger(&cfg, stderr)
	db, _, err := cfg.openStore(ctx, true, stderrNote(stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	key, token, err := db.CreateKey(ctx, "bench", "lrs bench query", []string{store.ScopeRead})
	if err != nil {
		return err
	}
	counts, err := db.TableCounts(ctx)
	if err != nil {
		return err
	}
	if have := int(counts.Events); have < events {
		start := time.Now()
		if c, ok := db.(eventCopier); ok {
			err = loadEvents(ctx, c, key.TenantID, pop, events-have, uint64(have), stderr)
		} else {
			err = saveEvents(ctx, db, key.TenantID, pop, events-have, uint64(have), stderr)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "loaded %d events in %s\n", events-have, time.Since(start).Round(time.Second))
		if o, ok := db.(interface{ Optimize(context.Context) error }); ok {
			if err := o.Optimize(ctx); err != nil {
				return err
			}
		}
	}

	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 5 << 20}, log.With("component", "bench-server"), web.Deps{
		Keys: db, Health: db, Query: query.NewService(db), Lookups: db,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	go srv.Serve(srvCtx, ln)
	if err := catchUpRollups(ctx, db, stdout); err != nil {
		return err
	}
	b := &benchClient{base: "http://" + ln.Addr().String(), token: token, client: &http.Client{}}
	return b.report(ctx, db, key.TenantID, pop, samples, stdout, stderr)
}

type benchClient struct {
	base, token string
	client      *http.Client
}

// get fetches path and returns the response body size and the time to read it all.
func (b *benchClient) get(ctx context.Context, path string) ([]byte, time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	start := time.Now()
	res, err := b.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	elapsed := time.Since(start)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return body, elapsed, err
}

// sampleIDs collects up to n ids of stored events to look up, through the
// read API from random actors' first pages: regenerating them from the
// loader's seeds named events that a smaller or topped-up store never held.
func (b *benchClient) sampleIDs(ctx context.Context, pop synth.Population, rng *rand.Rand, n int) ([]string, error) {
	var ids []string
	for try := 0; try < 4*n && len(ids) < n; try++ {
		body, _, err := b.get(ctx, fmt.Sprintf("/api/v1/events?limit=5&actor=%s",
			url.QueryEscape(fmt.Sprintf("https://example.edu/users/%d", rng.IntN(pop.Actors)))))
		if err != nil {
			return nil, err
		}
		var page struct {
			Events []struct {
				ID string `json:"id"`
			} `json:"events"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, fmt.Errorf("sample event ids: %w", err)
		}
		for _, e := range page.Events {
			ids = append(ids, strings.TrimPrefix(e.ID, "urn:uuid:"))
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("sample event ids: the store returned no events")
	}
	return ids, nil
}

type latencies []time.Duration

func (l latencies) pct(p int) time.Duration {
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func (b *benchClient) report(ctx context.Context, db store.Backend, tenantID int64, pop synth.Population, samples int, stdout, stderr io.Writer) error {
	rng := rand.New(rand.NewPCG(42, 7))
	course := func() string {
		c := rng.IntN(pop.Courses)
		return fmt.Sprintf("https://example.edu/terms/%d/courses/%d/sections/1", 201801+c%8, c)
	}
	actions := []string{"NavigatedTo", "Viewed", "Started", "Paused", "Submitted", "Completed", "LoggedIn", "Posted"}
	ids, err := b.sampleIDs(ctx, pop, rng, samples)
	if err != nil {
		return err
	}

	type q struct {
		name string
		path func() string
	}
	queries := []q{
		{"first page by actor", func() string {
			return "/api/v1/events?actor=" + url.QueryEscape(fmt.Sprintf("https://example.edu/users/%d", rng.IntN(pop.Actors)))
		}},
		{"first page by course + 1-month time range", func() string {
			from := pop.Start.Add(time.Duration(rng.IntN(330)) * 24 * time.Hour)
			return "/api/v1/events?course=" + url.QueryEscape(course()) + "&since=" + from.Format(time.RFC3339) +
				"&until=" + from.AddDate(0, 1, 0).Format(time.RFC3339)
		}},
		{"first page by action", func() string { return "/api/v1/events?action=" + actions[rng.IntN(len(actions))] }},
		{"event by id", func() string { return "/api/v1/events/urn:uuid:" + ids[rng.IntN(len(ids))] }},
		{"stats by day for one course", func() string { return "/api/v1/stats?by=day&limit=400&course=" + url.QueryEscape(course()) }},
		{"stats by action, whole tenant", func() string { return "/api/v1/stats?by=action" }},
		{"stats by day, whole tenant", func() string { return "/api/v1/stats?by=day&limit=400" }},
		{"distinct actors by day, whole tenant", func() string { return "/api/v1/stats?by=day&count=actors&limit=400" }},
	}
	fmt.Fprintln(stdout, "| query | requests | p50 ms | p99 ms |")
	fmt.Fprintln(stdout, "|---|---|---|---|")
	for _, qq := range queries {
		var lat latencies
		for i := 0; i < samples; i++ {
			_, d, err := b.get(ctx, qq.path())
			if err != nil {
				return err
			}
			lat = append(lat, d)
		}
		fmt.Fprintf(stdout, "| %s | %d | %s | %s |\n", qq.name, len(lat), ms(lat.pct(50)), ms(lat.pct(99)))
	}

	if err := b.rollupReport(ctx, db, tenantID, stdout); err != nil {
		return err
	}

	// Deep pages: walk one course 5 events a page; every page is timed, page 1000 on its own.
	var deep, page1000 latencies
	for c := 0; c < 20; c++ {
		next := "/api/v1/events?limit=5&course=" + url.QueryEscape(course())
		for page := 1; page <= 1000 && next != ""; page++ {
			body, d, err := b.get(ctx, next)
			if err != nil {
				return err
			}
			deep = append(deep, d)
			if page == 1000 {
				page1000 = append(page1000, d)
			}
			next = moreOf(body)
		}
	}
	if len(page1000) > 0 {
		fmt.Fprintf(stdout, "| page 1000 of a course (5 a page) | %d | %s | %s |\n", len(page1000), ms(page1000.pct(50)), ms(page1000.pct(99)))
	}
	fmt.Fprintf(stdout, "| every page 1–1000 of those courses | %d | %s | %s |\n", len(deep), ms(deep.pct(50)), ms(deep.pct(99)))

	// Export: every event of the tenant as NDJSON, streamed and counted.
	n, size, d, err := b.export(ctx, "/api/v1/export?format=ndjson")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nexport (all events, NDJSON): %d events (%.1f GB) in %s: **%.0f events/s**\n", n, float64(size)/1e9, d.Round(time.Millisecond), float64(n)/d.Seconds())
	return storageReport(ctx, db, stdout)
}

// storageReport prints the bytes each stored event takes, indexes included.
func storageReport(ctx context.Context, db store.Backend, stdout io.Writer) error {
	counts, err := db.TableCounts(ctx)
	if err != nil || counts.Events == 0 {
		return err
	}
	count := counts.Events
	sizer, ok := db.(interface {
		StorageSize(context.Context) (store.StorageSize, error)
	})
	if !ok {
		return nil
	}
	z, err := sizer.StorageSize(ctx)
	if err != nil {
		return err
	}
	if z.Indexes == 0 {
		fmt.Fprintf(stdout, "\nstorage: %d events, %.1f GB database file: **%d bytes/event** (tables and indexes)\n",
			count, float64(z.Total)/1e9, z.Total/count)
		return nil
	}
	fmt.Fprintf(stdout, "\nstorage: %d events, %.1f GB in all: **%d bytes/event** (%d table, %d indexes)\n",
		count, float64(z.Total)/1e9, z.Total/count, z.Table/count, z.Indexes/count)
	return nil
}

// export streams path's body, counting lines, without keeping it.
func (b *benchClient) export(ctx context.Context, path string) (lines int, size int64, elapsed time.Duration, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.token)
	start := time.Now()
	res, err := b.client.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("GET %s: %d", path, res.StatusCode)
	}
	buf := make([]byte, 1<<20)
	for {
		k, rerr := res.Body.Read(buf)
		size += int64(k)
		lines += bytes.Count(buf[:k], []byte{'\n'})
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, 0, rerr
		}
	}
	return lines, size, time.Since(start), nil
}

func moreOf(body []byte) string {
	i := strings.LastIndex(string(body), `"more":"`)
	if i < 0 {
		return ""
	}
	rest := string(body[i+len(`"more":"`):])
	j := strings.IndexByte(rest, '"')
	if j <= 0 {
		return ""
	}
	return strings.ReplaceAll(rest[:j], `\u0026`, "&")
}

// runBenchEdxLog is 'lrs bench edx-log': it writes a synthetic Open edX
// tracking log of about --size bytes, for import and memory tests and, with
// --legacy, for measuring the transformer's coverage of a log that spans an
// installation's history (docs/edx-mapping.md, "Coverage").
func runBenchEdxLog(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		size       byteSize = 1 << 30
		out        string
		seed       uint64
		legacy     float64
		documented bool
	)
	fs := newFlagSet("bench edx-log", stderr)
	fs.Float64Var(&legacy, "legacy", 0, "share of lines (0 to 1) shaped as installations older than 2015 wrote them")
	fs.BoolVar(&documented, "documented", false, "draw lines from every event shape of the Open edX tracking-log documentation, in a running course's proportions (docs/edx-mapping.md, \"Coverage report\")")
	fs.Var(&size, "size", "approximate size of the log (bytes, or with KiB/MiB/GiB)")
	fs.StringVar(&out, "out", "-", "file to write, - for standard output")
	fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed writes the same log")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if legacy < 0 || legacy > 1 {
		return &exitCodeError{code: 2, err: errors.New("bench edx-log: --legacy must be 0 to 1")}
	}
	if documented && legacy > 0 {
		return &exitCodeError{code: 2, err: errors.New("bench edx-log: --documented and --legacy are different mixes: give one")}
	}
	w := stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := synth.New(synth.DefaultPopulation, seed)
	var written int64
	lines := 0
	for written < int64(size) {
		var line []byte
		switch {
		case documented:
			line = g.EdxDocumentedLine()
		case legacy > 0:
			line = g.EdxMixedLine(legacy)
		default:
			line = g.EdxLine()
		}
		bw.Write(line)
		bw.WriteByte('\n')
		written += int64(len(line) + 1)
		lines++
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d lines, %d bytes\n", lines, written)
	return nil
}
