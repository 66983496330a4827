package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

// runValidate checks Caliper files offline: envelopes, single events or
// entities, arrays of them, or NDJSON of any of these. It prints one line per
// problem, "file:line: path: message", and fails (exit 1) if any is invalid.
func runValidate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var mode string
	fs := newFlagSet("validate", stderr)
	fs.StringVar(&mode, "validation", "strict", "strict or lenient")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	m, err := caliper.ParseMode(mode)
	if err != nil {
		return &exitCodeError{code: 2, err: fmt.Errorf("--validation (LRS_VALIDATION): %w", err)}
	}
	files := fs.Args()
	if len(files) == 0 {
		return &exitCodeError{code: 2, err: errors.New("validate: name one or more files, or - for standard input")}
	}
	v := caliper.NewValidator(m)
	var docs, invalid int
	for _, name := range files {
		data, err := readInput(name)
		if err != nil {
			return err
		}
		for _, d := range splitDocuments(data) {
			docs++
			if !report(stdout, v, name, d) {
				invalid++
			}
		}
	}
	fmt.Fprintf(stderr, "%d documents checked (%s), %d invalid\n", docs, m, invalid)
	if invalid > 0 {
		return &exitCodeError{code: 1, err: fmt.Errorf("%d of %d documents invalid", invalid, docs)}
	}
	return nil
}

func readInput(name string) ([]byte, error) {
	r, closeFn, err := openInput(name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return io.ReadAll(r)
}

// document is one JSON document of a file and the line it starts on.
type document struct {
	body []byte
	line int
}

// splitDocuments returns the file as one document, or, when it holds several
// top-level values one per line (NDJSON), one document per non-empty line.
func splitDocuments(data []byte) []document {
	lines := bytes.Split(data, []byte("\n"))
	var nonEmpty int
	allOneLine := true
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		nonEmpty++
		if l[0] != '{' || l[len(l)-1] != '}' {
			allOneLine = false
		}
	}
	if nonEmpty <= 1 || !allOneLine {
		return []document{{body: data, line: 1}}
	}
	var docs []document
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) > 0 {
			docs = append(docs, document{body: l, line: i + 1})
		}
	}
	return docs
}

// report validates one document and prints its problems; it reports whether it is valid.
func report(w io.Writer, v *caliper.Validator, file string, d document) bool {
	offsets, err := v.CheckDocument(d.body)
	if err == nil {
		return true
	}
	e, ok := caliper.AsError(err)
	if !ok {
		fmt.Fprintf(w, "%s:%d: %v\n", file, d.line, err)
		return false
	}
	for _, p := range e.Problems {
		line := d.line
		if p.Index >= 0 && p.Index < len(offsets) && offsets[p.Index] >= 0 && offsets[p.Index] <= len(d.body) {
			line += bytes.Count(d.body[:offsets[p.Index]], []byte("\n"))
		}
		path := p.Path
		if path == "" {
			path = "(body)"
		}
		fmt.Fprintf(w, "%s:%d: %s: %s\n", file, line, path, p.Message)
	}
	if e.Truncated {
		fmt.Fprintf(w, "%s:%d: … more problems not shown\n", file, d.line)
	}
	return false
}
