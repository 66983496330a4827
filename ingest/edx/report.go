package edx

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// NameCount is what became of the lines of one event name.
type NameCount struct {
	Name      string `json:"name"`
	Class     string `json:"class"` // Classify's answer
	Mapped    int    `json:"mapped"`
	Unmapped  int    `json:"unmapped"`
	Refused   int    `json:"refused"`
	Anonymous int    `json:"anonymous"`
}

func (n *NameCount) total() int { return n.Mapped + n.Unmapped + n.Refused + n.Anonymous }

// Unreadable is the name under which lines with no readable event name
// (not JSON, no name or event_type) are counted.
const Unreadable = "(unreadable: no event name)"

// Classes of event names in a coverage report.
const (
	ClassLearning    = "learning"     // a learning event: mapped, or meant to be
	ClassNotLearning = "not learning" // deliberately unmapped (settings, admin, page requests)
	ClassUnknown     = "unknown"      // a name the transformer does not know
)

// Classify says whether an event name is learning activity: every mapped
// name is, page requests and the deliberately unmapped names are not, and
// an unknown name is counted apart so the report shows what is missing.
func Classify(name string, compat bool) string {
	switch {
	case name == PageRequest || name == Unreadable:
		return ClassNotLearning
	case notLearning[name] != "":
		return ClassNotLearning
	}
	if _, ok := mappings[name]; ok {
		return ClassLearning
	}
	if _, ok := additions[name]; ok && !compat {
		return ClassLearning
	}
	return ClassUnknown
}

// count adds one result to the per-name counts.
func (s *Summary) count(r Result) {
	name := r.Name
	if name == "" {
		name = Unreadable
	}
	if s.names == nil {
		s.names = map[string]*NameCount{}
	}
	n := s.names[name]
	if n == nil {
		if len(s.names) >= MaxNames {
			name = "(other names)"
			n = s.names[name]
		}
		if n == nil {
			n = &NameCount{Name: name}
			s.names[name] = n
		}
	}
	switch r.Outcome {
	case Mapped:
		n.Mapped++
	case Unmapped:
		n.Unmapped++
	case Invalid:
		n.Refused++
	case AnonymousSkipped:
		n.Anonymous++
	}
}

// Report is a coverage report: per event name, what became of its lines,
// and the share of learning events mapped by count.
type Report struct {
	Lines     int `json:"lines"`
	Mapped    int `json:"mapped"`
	Unmapped  int `json:"unmapped"`
	Refused   int `json:"refused"`
	Anonymous int `json:"anonymous"`
	// Learning counts the lines of learning and unknown names (unknown
	// names count as learning not mapped: the report must not look better
	// for a name it has never heard of); LearningMapped those mapped.
	Learning       int         `json:"learning"`
	LearningMapped int         `json:"learningMapped"`
	Coverage       float64     `json:"coverage"` // LearningMapped / Learning, 0 to 1; 1 when there is none
	Names          []NameCount `json:"names"`    // most lines first
	Errors         []LineError `json:"errors"`   // the first refused lines
}

// Report builds the coverage report of what was added; compat says whether
// the transformer maps the reference's names only.
func (s *Summary) Report(compat bool) Report {
	r := Report{Lines: s.Lines, Mapped: s.Mapped, Refused: s.ErrorCount, Anonymous: s.SkippedAnonymous, Errors: s.Errors}
	r.Unmapped = s.Lines - s.Mapped - s.ErrorCount - s.SkippedAnonymous
	for _, n := range s.names {
		n.Class = Classify(n.Name, compat)
		if n.Class != ClassNotLearning {
			r.Learning += n.total()
			r.LearningMapped += n.Mapped
		}
		r.Names = append(r.Names, *n)
	}
	sort.Slice(r.Names, func(i, j int) bool {
		a, b := r.Names[i], r.Names[j]
		if a.total() != b.total() {
			return a.total() > b.total()
		}
		return a.Name < b.Name
	})
	r.Coverage = 1
	if r.Learning > 0 {
		r.Coverage = float64(r.LearningMapped) / float64(r.Learning)
	}
	if r.Names == nil {
		r.Names = []NameCount{}
	}
	return r
}

// WriteText prints the report as a table, one event name a row.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d lines: %d mapped, %d unmapped, %d refused, %d anonymous skipped\n",
		r.Lines, r.Mapped, r.Unmapped, r.Refused, r.Anonymous)
	fmt.Fprintf(w, "learning events mapped: %d of %d (%.1f %%)\n", r.LearningMapped, r.Learning, 100*r.Coverage)
	fmt.Fprintf(w, "%8s %8s %8s %9s  %-12s %s\n", "mapped", "unmapped", "refused", "anonymous", "class", "name")
	for _, n := range r.Names {
		fmt.Fprintf(w, "%8d %8d %8d %9d  %-12s %s\n", n.Mapped, n.Unmapped, n.Refused, n.Anonymous, n.Class, n.Name)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  %s\n", e.where()+": "+e.Message)
	}
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
