package edx

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// LineError is a tracking-log line that could not be transformed.
type LineError struct {
	File    string `json:"file,omitempty"` // set by lrs transform, which reads many
	Line    int    `json:"line"`
	Name    string `json:"name,omitempty"`
	Message string `json:"message"`
}

// Summary counts what became of a batch of raw events.
type Summary struct {
	Lines            int            `json:"lines"`
	Mapped           int            `json:"mapped"`
	Events           int            `json:"events"`
	SkippedAnonymous int            `json:"skippedAnonymous"`
	Unknown          map[string]int `json:"unknown"` // unmapped event names → count
	ByName           map[string]int `json:"byName"`  // mapped event names → count
	Errors           []LineError    `json:"errors"`  // first MaxLineErrors
	ErrorCount       int            `json:"errorCount"`
	Reasons          map[string]int `json:"-"` // refusal messages → count, for coverage reports

	names map[string]*NameCount // every outcome by event name, for Report
}

// MaxLineErrors caps the line errors a summary lists.
const MaxLineErrors = 100

// NewSummary returns an empty summary.
func NewSummary() *Summary {
	return &Summary{Unknown: map[string]int{}, ByName: map[string]int{}, Errors: []LineError{}, Reasons: map[string]int{}}
}

// Add records one result for line.
func (s *Summary) Add(line int, r Result) { s.AddIn("", line, r) }

// AddIn records one result for a line of file.
func (s *Summary) AddIn(file string, line int, r Result) {
	s.Lines++
	s.count(r)
	switch r.Outcome {
	case Mapped:
		s.Mapped++
		s.Events += len(r.Events)
		s.ByName[r.Name]++
	case Unmapped:
		CountName(s.Unknown, r.Name)
	case AnonymousSkipped:
		s.SkippedAnonymous++
	case Invalid:
		s.ErrorCount++
		CountName(s.Reasons, r.Err.Error())
		if len(s.Errors) < MaxLineErrors {
			s.Errors = append(s.Errors, LineError{File: file, Line: line, Name: r.Name, Message: r.Err.Error()})
		}
	}
}

// MaxNames caps the distinct unmapped names a summary counts, so that a log
// full of odd names cannot grow it without bound.
const MaxNames = 1000

// CountName counts name in m, folding names past MaxNames into one entry.
func CountName(m map[string]int, name string) {
	if _, ok := m[name]; !ok && len(m) >= MaxNames {
		name = "(other names)"
	}
	m[name]++
}

// WriteText prints the summary for people: counts by outcome, then by name
// and by reason of refusal, then the first refused lines.
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d lines: %d mapped to %d Caliper events, %d unmapped, %d anonymous skipped, %d invalid\n",
		s.Lines, s.Mapped, s.Events, s.Lines-s.Mapped-s.SkippedAnonymous-s.ErrorCount, s.SkippedAnonymous, s.ErrorCount)
	for _, part := range []struct {
		title  string
		counts map[string]int
	}{{"mapped", s.ByName}, {"unmapped", s.Unknown}, {"refused", s.Reasons}} {
		names := make([]string, 0, len(part.counts))
		for n := range part.counts {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if part.counts[names[i]] != part.counts[names[j]] {
				return part.counts[names[i]] > part.counts[names[j]]
			}
			return names[i] < names[j]
		})
		for _, n := range names {
			fmt.Fprintf(w, "  %-9s %8d  %s\n", part.title, part.counts[n], n)
		}
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "  %s: %s\n", e.where(), e.Message)
	}
}

// where names the line: file:line or line N, then the event name.
func (e LineError) where() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Name != "" {
		where += ": " + e.Name
	}
	return where
}

// OpenLog wraps r to read a tracking log, plain or gzipped.
func OpenLog(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return gzip.NewReader(br)
	}
	return br, nil
}

// Envelope wraps Caliper events in a Caliper 1.2 envelope from sensor.
func Envelope(sensor string, events []map[string]any) ([]byte, error) {
	return json.Marshal(map[string]any{
		"sensor":      sensor,
		"sendTime":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"dataVersion": caliperContext,
		"data":        events,
	})
}

// Sensor is the sensor IRI lrs writes in envelopes of transformed events.
func (t *Transformer) Sensor() string { return t.lms + "/tracking-log" }
