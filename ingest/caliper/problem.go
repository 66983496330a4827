package caliper

import (
	"fmt"
	"strings"
)

// Kind classifies why an envelope was refused; the HTTP layer maps each kind to a status.
type Kind int

const (
	// KindMalformed: the body is not a well-formed Caliper envelope (HTTP 400).
	KindMalformed Kind = iota + 1
	// KindUnsupportedVersion: the envelope's dataVersion is not one we accept (HTTP 422).
	KindUnsupportedVersion
	// KindConflict: an event id is already stored with different content (HTTP 409).
	KindConflict
	// KindTooComplex: the body holds more JSON values than its size allows
	// (see MaxValues); decoding it would cost memory out of proportion (HTTP 413).
	KindTooComplex
)

// MaxProblems caps how many problems one error reports, so a broken batch of
// thousands of events does not produce a response larger than the request.
const MaxProblems = 100

// Problem is one fault in an envelope. Path points into the envelope in
// JavaScript notation ("data[3].object.type"); Index is the item's position
// in data, or -1 when the fault is in the envelope itself.
type Problem struct {
	Index   int    `json:"index"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

// Error is a refused envelope with every problem found, up to MaxProblems.
type Error struct {
	Kind      Kind
	Problems  []Problem
	Truncated bool // more problems were found than are listed
}

func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return "invalid envelope"
	}
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 3 {
			fmt.Fprintf(&b, "and %d more", len(e.Problems)-3)
			break
		}
		if p.Path != "" {
			fmt.Fprintf(&b, "%s: ", p.Path)
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Report collects problems up to MaxProblems; its zero value is ready to use.
type Report struct {
	problems  []Problem
	truncated bool
}

func (r *Report) Add(index int, path, format string, args ...any) {
	if len(r.problems) >= MaxProblems {
		r.truncated = true
		return
	}
	r.problems = append(r.problems, Problem{Index: index, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) Err(kind Kind) error {
	if len(r.problems) == 0 {
		return nil
	}
	return &Error{Kind: kind, Problems: r.problems, Truncated: r.truncated}
}

func malformed(path, format string, args ...any) error {
	var r Report
	r.Add(-1, path, format, args...)
	return r.Err(KindMalformed)
}
