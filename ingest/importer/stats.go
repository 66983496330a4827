package importer

import (
	"fmt"
	"io"
	"sort"
)

// Stats is the running count of an import. A line is stored, a duplicate,
// skipped by policy (a comment, a blank line, an unmapped Open edX name or
// page request, an anonymous event) or refused; files are read or refused.
type Stats struct {
	Files, FilesRefused int
	Lines               int // every line read, blank and comment lines included
	Comments, Blank     int
	Events, Entities    int // items sent
	Stored              int
	Duplicates          int
	SkippedAnonymous    int
	Unknown             map[string]int // unmapped Open edX names
	Errors              []string       // first MaxErrors "file:line: field: message"
	ErrorCount          int            // lines and items refused
	Bytes               int64          // input bytes read
}

// Refused is how many lines, items and files were refused: an import is
// complete only when it is 0.
func (s *Stats) Refused() int { return s.ErrorCount + s.FilesRefused }

// MaxErrors caps the messages Stats keeps.
const MaxErrors = 50

// fail records a refused line or item; Importer calls it under its lock.
func (s *Stats) fail(where string, err error) {
	s.ErrorCount++
	s.note(where + ": " + err.Error())
}

func (s *Stats) note(msg string) {
	if len(s.Errors) < MaxErrors {
		s.Errors = append(s.Errors, msg)
	}
}

// Unmapped is how many Open edX lines had no mapping.
func (s *Stats) Unmapped() int {
	n := 0
	for _, c := range s.Unknown {
		n += c
	}
	return n
}

// WriteSummary prints the final counts: what was stored, what was skipped
// by policy, what was refused and why.
func (s *Stats) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "%d files, %d lines (%.1f MB): %d events sent, %d stored, %d already stored, %d entities\n",
		s.Files, s.Lines, float64(s.Bytes)/1e6, s.Events, s.Stored, s.Duplicates, s.Entities)
	fmt.Fprintf(w, "skipped by policy: %d unmapped, %d anonymous, %d comment lines, %d blank lines\n",
		s.Unmapped(), s.SkippedAnonymous, s.Comments, s.Blank)
	fmt.Fprintf(w, "refused: %d lines or items, %d files\n", s.ErrorCount, s.FilesRefused)
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
	if more := s.Refused() - len(s.Errors); more > 0 {
		fmt.Fprintf(w, "  … and %d more refused\n", more)
	}
}
