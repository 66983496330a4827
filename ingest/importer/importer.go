// Package importer loads files of Caliper envelopes, Caliper events (NDJSON)
// or Open edX tracking logs into a store or a remote Caliper endpoint, in
// batches with constant memory. Re-importing stores nothing twice: Caliper
// ids are kept and Open edX events get deterministic ids.
package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
)

// Sink stores one Caliper envelope atomically: the local store, or a remote
// endpoint. A refused envelope is an *caliper.Error naming the items at fault.
type Sink interface {
	Store(ctx context.Context, envelope []byte) (ingest.Result, error)
}

// Stats is the running count of an import.
type Stats struct {
	Files, Lines     int
	Events, Entities int // items sent
	Stored           int
	Duplicates       int
	SkippedAnonymous int
	Unknown          map[string]int // unmapped Open edX names
	Errors           []string       // first MaxErrors "file:line: message"
	ErrorCount       int
	Bytes            int64 // input bytes read
}

// MaxErrors caps the messages Stats keeps.
const MaxErrors = 50

// fail records a bad line or item; Importer calls it under its lock.
func (s *Stats) fail(where string, err error) {
	s.ErrorCount++
	if len(s.Errors) < MaxErrors {
		s.Errors = append(s.Errors, where+": "+err.Error())
	}
}

// Importer batches items into envelopes for a Sink.
type Importer struct {
	sink     Sink
	edx      *edx.Transformer // nil: Open edX lines are errors
	batch    int
	sensor   string
	Stats    Stats
	pending  []item
	progress func(*Stats)

	// The storing goroutine: batches to store, closed done when it stops,
	// its first error; mu guards Stats and err while it runs.
	batches chan []item
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

type item struct {
	json  []byte
	where string // file:line, for reports
}

// New returns an Importer sending envelopes of up to batch items to sink.
// progress, if not nil, is called after each envelope.
func New(sink Sink, tr *edx.Transformer, batch int, progress func(*Stats)) *Importer {
	sensor := "urn:lrs:import"
	if tr != nil {
		sensor = tr.Sensor()
	}
	return &Importer{sink: sink, edx: tr, batch: batch, sensor: sensor, progress: progress,
		Stats: Stats{Unknown: map[string]int{}}}
}

// ImportReader reads one input (already decompressed). If its first line is
// a complete JSON document the input is NDJSON — Caliper envelopes, events or
// entities, or Open edX events, mixed freely — and each line stands alone: a
// broken one is reported and skipped. Otherwise the whole input is one JSON
// document (a pretty-printed envelope), read up to 64 MiB.
func (im *Importer) ImportReader(ctx context.Context, name string, r io.Reader) error {
	im.locked(func(s *Stats) { s.Files++ })
	cr := &countingReader{r: r, add: func(n int) { im.locked(func(s *Stats) { s.Bytes += int64(n) }) }}
	var (
		whole    bytes.Buffer
		ndjson   bool
		decided  bool
		tooLarge bool
	)
	err := edx.ScanLines(cr, func(n int, line []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		im.locked(func(s *Stats) { s.Lines++ })
		if !decided {
			decided, ndjson = true, json.Valid(line)
		}
		if ndjson {
			if !json.Valid(line) {
				im.fail(fmt.Sprintf("%s:%d", name, n), errors.New("not a JSON object"))
				return nil
			}
			return im.line(ctx, fmt.Sprintf("%s:%d", name, n), line)
		}
		if whole.Len()+len(line) > 64<<20 {
			tooLarge = true
			return nil
		}
		whole.Write(line)
		whole.WriteByte('\n')
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case ndjson || !decided:
	case tooLarge:
		im.fail(name, errors.New("not NDJSON, and larger than 64 MiB as one JSON document"))
	case !json.Valid(whole.Bytes()):
		im.fail(name+":1", errors.New("neither NDJSON nor one JSON document"))
	default:
		return im.line(ctx, name+":1", whole.Bytes())
	}
	return nil
}

// line handles one JSON document of the input.
func (im *Importer) line(ctx context.Context, where string, doc []byte) error {
	var probe struct {
		DataVersion json.RawMessage `json:"dataVersion"`
		Data        json.RawMessage `json:"data"`
		Context     json.RawMessage `json:"@context"`
		EventType   json.RawMessage `json:"event_type"`
		Name        json.RawMessage `json:"name"`
		Timestamp   json.RawMessage `json:"timestamp"`
		Time        json.RawMessage `json:"time"`
	}
	if err := json.Unmarshal(doc, &probe); err != nil {
		im.fail(where, fmt.Errorf("not a JSON object"))
		return nil
	}
	switch {
	case probe.DataVersion != nil: // a Caliper envelope: its items
		var items []json.RawMessage
		if err := json.Unmarshal(probe.Data, &items); err != nil {
			im.fail(where, errors.New("an envelope whose data is not an array"))
			return nil
		}
		for _, it := range items {
			if err := im.add(ctx, item{json: it, where: where}); err != nil {
				return err
			}
		}
	case probe.Context != nil: // a Caliper event or entity
		return im.add(ctx, item{json: doc, where: where})
	case probe.EventType != nil || (probe.Name != nil && (probe.Timestamp != nil || probe.Time != nil)):
		if im.edx == nil {
			im.fail(where, errors.New("an Open edX event, but no --lms-url and --actor-secret are configured"))
			return nil
		}
		res := im.edx.Transform(doc)
		switch res.Outcome {
		case edx.Unmapped:
			im.locked(func(s *Stats) { edx.CountName(s.Unknown, res.Name) })
		case edx.AnonymousSkipped:
			im.locked(func(s *Stats) { s.SkippedAnonymous++ })
		case edx.Invalid:
			im.fail(where, res.Err)
		}
		for _, ev := range res.Events {
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if err := im.add(ctx, item{json: b, where: where}); err != nil {
				return err
			}
		}
	default:
		im.fail(where, errors.New("neither a Caliper envelope, event or entity nor an Open edX event"))
	}
	return nil
}

func (im *Importer) add(ctx context.Context, it item) error {
	im.pending = append(im.pending, it)
	if len(im.pending) >= im.batch {
		return im.send(ctx)
	}
	return nil
}

// send hands the pending batch to the storing goroutine, so that reading and
// transforming the next batch overlaps with storing this one. At most one
// batch waits: memory stays bounded.
func (im *Importer) send(ctx context.Context) error {
	if len(im.pending) == 0 {
		return im.storeErr()
	}
	if im.batches == nil {
		im.batches = make(chan []item, 1)
		im.done = make(chan struct{})
		go im.storeLoop(ctx)
	}
	items := im.pending
	im.pending = nil
	select {
	case im.batches <- items:
	case <-im.done: // the storer stopped on an error
	}
	return im.storeErr()
}

func (im *Importer) storeLoop(ctx context.Context) {
	defer close(im.done)
	for items := range im.batches {
		if err := im.store(ctx, items); err != nil {
			im.mu.Lock()
			im.err = err
			im.mu.Unlock()
			return
		}
	}
}

func (im *Importer) storeErr() error {
	im.mu.Lock()
	defer im.mu.Unlock()
	return im.err
}

// Flush stores what is pending and waits for every batch to be stored.
func (im *Importer) Flush(ctx context.Context) error {
	if err := im.send(ctx); err != nil {
		return err
	}
	if im.batches != nil {
		close(im.batches)
		<-im.done
		im.batches = nil
	}
	return im.storeErr()
}

// store sends one batch. Items the sink refuses are reported with their file
// and line and left out; the rest is sent again, so one bad item never costs
// its whole batch.
func (im *Importer) store(ctx context.Context, items []item) error {
	// Each refusal removes at least one item, so this ends.
	for len(items) > 0 {
		res, err := im.sink.Store(ctx, envelope(im.sensor, items))
		var ie *caliper.Error
		if errors.As(err, &ie) {
			bad := map[int]bool{}
			im.mu.Lock()
			for _, p := range ie.Problems {
				if p.Index >= 0 && p.Index < len(items) && !bad[p.Index] {
					bad[p.Index] = true
					im.Stats.fail(items[p.Index].where, fmt.Errorf("%s: %s", p.Path, p.Message))
				}
			}
			im.mu.Unlock()
			if len(bad) == 0 {
				return fmt.Errorf("envelope refused: %w", err)
			}
			kept := items[:0:0]
			for i, it := range items {
				if !bad[i] {
					kept = append(kept, it)
				}
			}
			items = kept
			continue
		}
		if err != nil {
			return err
		}
		im.mu.Lock()
		im.Stats.Stored += res.EventsStored
		im.Stats.Duplicates += res.Duplicates
		im.Stats.Entities += res.Entities
		im.Stats.Events += res.EventsStored + res.Duplicates
		if im.progress != nil {
			im.progress(&im.Stats)
		}
		im.mu.Unlock()
		break
	}
	return nil
}

func envelope(sensor string, items []item) []byte {
	var b bytes.Buffer
	b.WriteString(`{"sensor":`)
	s, _ := json.Marshal(sensor)
	b.Write(s)
	b.WriteString(`,"sendTime":"` + time.Now().UTC().Format("2006-01-02T15:04:05.000Z") +
		`","dataVersion":"` + caliper.V1p2 + `","data":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.json)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// WriteSummary prints the final counts.
func (s *Stats) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "%d files, %d lines (%.1f MB): %d events sent, %d stored, %d already stored, %d entities; %d anonymous skipped; %d errors\n",
		s.Files, s.Lines, float64(s.Bytes)/1e6, s.Events, s.Stored, s.Duplicates, s.Entities, s.SkippedAnonymous, s.ErrorCount)
	names := make([]string, 0, len(s.Unknown))
	for n := range s.Unknown {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return s.Unknown[names[i]] > s.Unknown[names[j]] || s.Unknown[names[i]] == s.Unknown[names[j]] && names[i] < names[j]
	})
	for _, n := range names {
		fmt.Fprintf(w, "  unmapped %8d  %s\n", s.Unknown[n], n)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if s.ErrorCount > len(s.Errors) {
		fmt.Fprintf(w, "  … and %d more errors\n", s.ErrorCount-len(s.Errors))
	}
}

// countingReader reports what it reads, for progress by bytes.
type countingReader struct {
	r   io.Reader
	add func(int)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(n)
	return n, err
}

// locked runs fn on the stats under the lock the storing goroutine shares.
func (im *Importer) locked(fn func(*Stats)) {
	im.mu.Lock()
	fn(&im.Stats)
	im.mu.Unlock()
}

func (im *Importer) fail(where string, err error) { im.locked(func(s *Stats) { s.fail(where, err) }) }
