package edx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// LineKind says what a line of an input file is.
type LineKind int

const (
	DocumentLine LineKind = iota // a JSON document (or the first line of one)
	CommentLine                  // starts with #: skipped
	BlankLine                    // empty or white space: skipped
	BadLine                      // not JSON: see Doc.Err
)

// Doc is one JSON document of an input, or a line that holds none.
type Doc struct {
	Line int // 1-based line where it starts
	Kind LineKind
	JSON []byte // for DocumentLine; valid JSON, not an array
	Err  error  // for BadLine
}

// MaxDocument caps a file read as one JSON document (a pretty-printed one).
const MaxDocument = 64 << 20

// ScanDocuments reads a log or Caliper file and calls fn for every line or
// document in it, in order (a document gathered from several lines when it
// ends). Blank lines and lines starting with # are
// reported and skipped wherever they are. The first other line decides the
// format: if it is a complete JSON value, the input is NDJSON and each line
// stands alone (a broken one is a BadLine); if not, the input is one JSON
// document (pretty-printed), read whole up to MaxDocument — unless that line
// opens an object and the next data line is a complete one, which is NDJSON
// whose first line is broken. A JSON array, on a line or as the document,
// yields its elements, each with the line it starts on. Lines may be up to
// 16 MiB. The error is a read error of r, or fn's.
func ScanDocuments(r io.Reader, fn func(Doc) error) error {
	_, err := scanDocuments(r, fn)
	return err
}

// scanDocuments is ScanDocuments, returning its scanner to say which format
// the input had.
func scanDocuments(r io.Reader, fn func(Doc) error) (*docScanner, error) {
	s := &docScanner{fn: fn}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := s.line(n, sc.Bytes()); err != nil {
			return s, err
		}
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("line %d: %w", n+1, err)
	}
	return s, s.end()
}

// SplitBody reads a POST /edx body by the rule lrs import reads a file with
// (ScanDocuments): one event, a JSON array of events (on one line or
// pretty-printed), or NDJSON, with blank and # comment lines skipped. It
// returns the documents and the lines that are not JSON (BadLine), each
// with its line (an array element: the line it starts on). A body that is
// not NDJSON and not one JSON document either is an error: nothing in it
// can be trusted to be an event.
func SplitBody(body []byte) ([]Doc, error) {
	var docs []Doc
	s, err := scanDocuments(bytes.NewReader(body), func(d Doc) error {
		switch d.Kind {
		case DocumentLine:
			d.JSON = append([]byte(nil), d.JSON...)
			docs = append(docs, d)
		case BadLine:
			docs = append(docs, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.mode == whole {
		for _, d := range docs {
			if d.Kind == BadLine {
				return nil, fmt.Errorf("line %d: %w", d.Line, d.Err)
			}
		}
	}
	return docs, nil
}

// docScanner is ScanDocuments' state: which format the input has, and the
// document being gathered when it is one JSON document.
type docScanner struct {
	fn     func(Doc) error
	mode   int // undecided, ndjson or whole
	first  int // the first data line
	firstB []byte
	whole  bytes.Buffer // lines from first on, comments blanked, for whole
	tooBig bool
	later  int // data lines after the first, when gathering a document
}

const (
	undecided = iota
	ndjson
	whole
)

func (s *docScanner) line(n int, raw []byte) error {
	line := bytes.TrimSpace(raw)
	switch {
	case len(line) == 0:
		s.keep(nil)
		return s.fn(Doc{Line: n, Kind: BlankLine})
	case line[0] == '#':
		s.keep(nil) // no JSON line starts with #: never part of a document
		return s.fn(Doc{Line: n, Kind: CommentLine})
	}
	switch s.mode {
	case ndjson:
		return s.value(n, line)
	case undecided:
		if json.Valid(line) {
			s.mode = ndjson
			return s.value(n, line)
		}
		s.mode, s.first, s.firstB = whole, n, append([]byte(nil), line...)
		s.keep(raw)
		return nil
	}
	// whole: a broken first object line followed by a complete object line
	// is NDJSON; a pretty-printed object's second line is a key, never an object.
	if s.later == 0 && s.firstB[0] == '{' && line[0] == '{' && json.Valid(line) {
		s.mode = ndjson
		if err := s.fn(Doc{Line: s.first, Kind: BadLine, Err: notJSON(s.firstB)}); err != nil {
			return err
		}
		return s.value(n, line)
	}
	s.later++
	s.keep(raw)
	return nil
}

// keep adds a line to the document being gathered: what it holds, or
// nothing for a blank or comment line, so that offsets still count lines.
func (s *docScanner) keep(raw []byte) {
	if s.mode != whole || s.tooBig {
		return
	}
	if s.whole.Len()+len(raw) > MaxDocument {
		s.tooBig = true
		s.whole = bytes.Buffer{}
		return
	}
	s.whole.Write(raw)
	s.whole.WriteByte('\n')
}

// value reports one NDJSON line: a document, each element of an array, or a BadLine.
func (s *docScanner) value(n int, line []byte) error {
	if !json.Valid(line) {
		return s.fn(Doc{Line: n, Kind: BadLine, Err: notJSON(line)})
	}
	if line[0] != '[' {
		return s.fn(Doc{Line: n, Kind: DocumentLine, JSON: line})
	}
	var items []json.RawMessage
	if err := json.Unmarshal(line, &items); err != nil {
		return s.fn(Doc{Line: n, Kind: BadLine, Err: err})
	}
	for _, it := range items {
		if err := s.fn(Doc{Line: n, Kind: DocumentLine, JSON: it}); err != nil {
			return err
		}
	}
	return nil
}

// end reports the gathered document, if the input was one.
func (s *docScanner) end() error {
	if s.mode != whole {
		return nil
	}
	if s.tooBig {
		return s.fn(Doc{Line: s.first, Kind: BadLine, Err: fmt.Errorf("not NDJSON, and larger than %d MiB as one JSON document", MaxDocument>>20)})
	}
	b := s.whole.Bytes()
	var v json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return s.fn(Doc{Line: s.lineAt(b, syntaxOffset(err, b)), Kind: BadLine,
			Err: fmt.Errorf("neither NDJSON nor one JSON document: %w", err)})
	}
	if bytes.TrimSpace(b)[0] != '[' {
		return s.fn(Doc{Line: s.first, Kind: DocumentLine, JSON: bytes.TrimSpace(b)})
	}
	return s.elements(b)
}

// elements reports each element of a JSON array document with its line.
func (s *docScanner) elements(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // [
		return err
	}
	for dec.More() {
		start := skipSeparators(b, int(dec.InputOffset()))
		var it json.RawMessage
		if err := dec.Decode(&it); err != nil {
			return s.fn(Doc{Line: s.lineAt(b, start), Kind: BadLine, Err: err})
		}
		if err := s.fn(Doc{Line: s.lineAt(b, start), Kind: DocumentLine, JSON: it}); err != nil {
			return err
		}
	}
	return nil
}

// lineAt is the input line of offset off in the gathered document.
func (s *docScanner) lineAt(b []byte, off int) int {
	off = min(max(off, 0), len(b))
	return s.first + bytes.Count(b[:off], []byte{'\n'})
}

func skipSeparators(b []byte, off int) int {
	for off < len(b) && bytes.IndexByte([]byte(" \t\r\n,"), b[off]) >= 0 {
		off++
	}
	return off
}

// syntaxOffset is where a JSON decoding error was found, or the end.
func syntaxOffset(err error, b []byte) int {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return int(se.Offset) - 1
	}
	return len(b)
}

// notJSON says why a line is not JSON.
func notJSON(line []byte) error {
	var v json.RawMessage
	if err := json.Unmarshal(line, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return errors.New("not JSON")
}
