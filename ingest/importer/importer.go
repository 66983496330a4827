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
	"strings"
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
	path  string // its place in the line's document ("data[3]"), or ""
	name  string // the Open edX event it was made from, or ""
}

// report is how a refusal of the item names it: file:line, then the Open
// edX event or its place in the envelope, then the field at fault.
func (it item) report(field string) string {
	where := it.where
	if it.name != "" {
		where += ": " + it.name
	}
	switch {
	case it.path != "" && field != "":
		return where + ": " + it.path + "." + field
	case it.path != "":
		return where + ": " + it.path
	case field != "":
		return where + ": " + field
	}
	return where
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

// ImportReader reads one input (already decompressed): NDJSON — Caliper
// envelopes, events or entities, or Open edX events, mixed freely — or one
// JSON document, as edx.ScanDocuments decides from its first data line.
// Blank and # comment lines are skipped and counted; a line that is not
// JSON is refused and the rest read on. If the input cannot be read to its
// end (a corrupt or truncated file), the file is counted refused, with why,
// and what was read before is kept. The error is fatal to the whole import:
// ctx's, or the sink's.
func (im *Importer) ImportReader(ctx context.Context, name string, r io.Reader) error {
	im.locked(func(s *Stats) { s.Files++ })
	return im.importReader(ctx, name, 0, r)
}

// ImportChunk reads complete lines of a file that is still being written,
// the first of them line first+1 of the file, as ImportReader reads a file;
// errors name the lines of the file. It does not count a file.
func (im *Importer) ImportChunk(ctx context.Context, name string, first int64, r io.Reader) error {
	return im.importReader(ctx, name, first, r)
}

func (im *Importer) importReader(ctx context.Context, name string, base int64, r io.Reader) error {
	cr := &countingReader{r: r, add: func(n, lines int) {
		im.locked(func(s *Stats) { s.Bytes += int64(n); s.Lines += lines })
	}}
	defer cr.finish()
	err := edx.ScanDocuments(cr, func(d edx.Doc) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		where := fmt.Sprintf("%s:%d", name, base+int64(d.Line))
		switch d.Kind {
		case edx.CommentLine:
			im.locked(func(s *Stats) { s.Comments++ })
		case edx.BlankLine:
			im.locked(func(s *Stats) { s.Blank++ })
		case edx.BadLine:
			im.fail(where, d.Err)
		case edx.DocumentLine:
			if err := im.line(ctx, where, d.JSON); err != nil {
				return fatal{err}
			}
		}
		return nil
	})
	var f fatal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &f):
		return f.err
	case ctx.Err() != nil:
		return ctx.Err()
	}
	im.refuseFile(name, err)
	return nil
}

// fatal marks an error that stops the import, as opposed to one that
// refuses the file being read.
type fatal struct{ err error }

func (f fatal) Error() string { return f.err.Error() }

// Unreadable counts a file that could not be opened as refused.
func (im *Importer) Unreadable(name string, err error) {
	im.locked(func(s *Stats) { s.Files++ })
	im.refuseFile(name, err)
}

func (im *Importer) refuseFile(name string, err error) {
	im.locked(func(s *Stats) {
		s.FilesRefused++
		s.note(name + ": file refused: " + err.Error())
	})
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
		im.fail(where, errors.New("not a JSON object"))
		return nil
	}
	switch {
	case probe.DataVersion != nil: // a Caliper envelope: its items
		var items []json.RawMessage
		if err := json.Unmarshal(probe.Data, &items); err != nil {
			im.fail(where, errors.New("an envelope whose data is not an array"))
			return nil
		}
		for i, it := range items {
			if err := im.add(ctx, item{json: it, where: where, path: fmt.Sprintf("data[%d]", i)}); err != nil {
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
			im.fail(item{where: where, name: res.Name}.report(""), res.Err)
		}
		for _, ev := range res.Events {
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if err := im.add(ctx, item{json: b, where: where, name: res.Name}); err != nil {
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
			bad := refusals(ie.Problems, items)
			im.mu.Lock()
			for _, i := range sortedKeys(bad) {
				im.Stats.ErrorCount++
				im.Stats.note(bad[i])
			}
			im.mu.Unlock()
			if len(bad) == 0 {
				return fmt.Errorf("envelope refused: %w", err)
			}
			kept := items[:0:0]
			for i, it := range items {
				if _, refused := bad[i]; !refused {
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

// refusals turns the problems of a refused batch into one message per item
// at fault, by its index in the batch. The batch is the importer's own: its
// data[n] means nothing to the user, so each problem is told at the item's
// file:line and the field's path inside the item.
func refusals(problems []caliper.Problem, items []item) map[int]string {
	fields := map[int][]string{}
	for _, p := range problems {
		if p.Index < 0 || p.Index >= len(items) {
			continue
		}
		field := strings.TrimPrefix(strings.TrimPrefix(p.Path, fmt.Sprintf("data[%d]", p.Index)), ".")
		fields[p.Index] = append(fields[p.Index], items[p.Index].report(field)+": "+p.Message)
	}
	out := make(map[int]string, len(fields))
	for i, msgs := range fields {
		if len(msgs) > 3 {
			msgs = append(msgs[:3], fmt.Sprintf("and %d more problems", len(msgs)-3))
		}
		out[i] = strings.Join(msgs, "; ")
	}
	return out
}

func sortedKeys(m map[int]string) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
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

// countingReader reports what it reads, bytes and lines, for progress and
// the summary.
type countingReader struct {
	r    io.Reader
	add  func(bytes, lines int)
	last byte // the last byte read: a last line without its newline still counts
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(n, bytes.Count(p[:n], []byte{'\n'}))
		c.last = p[n-1]
	}
	return n, err
}

// finish counts a last line that has no newline.
func (c *countingReader) finish() {
	if c.last != 0 && c.last != '\n' {
		c.add(0, 1)
	}
}

// locked runs fn on the stats under the lock the storing goroutine shares.
func (im *Importer) locked(fn func(*Stats)) {
	im.mu.Lock()
	fn(&im.Stats)
	im.mu.Unlock()
}

func (im *Importer) fail(where string, err error) { im.locked(func(s *Stats) { s.fail(where, err) }) }
