package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lrs-dev/lrs/ingest/edx"
)

// edxSettings are the Open edX transformer's flags, shared by serve, transform and import.
type edxSettings struct {
	LMSURL, ActorSecret, ActorMap, CourseCatalog, TransformerVersion, Compat, Anonymous string
}

func (s *edxSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.LMSURL, "lms-url", "", "Open edX: the LMS root, an absolute http(s) URL such as https://lms.example.edu (enables POST /edx on serve)")
	fs.StringVar(&s.ActorSecret, "actor-secret", "", "Open edX: secret for pseudonymous actor ids (HMAC); never logged")
	fs.StringVar(&s.ActorMap, "actor-map", "", "Open edX: CSV file with header user,anonymous_id (user: numeric id or username)")
	fs.StringVar(&s.CourseCatalog, "course-catalog", "", "Open edX: CSV file with header course_id,name")
	fs.StringVar(&s.TransformerVersion, "transformer-version", "lrs", "Open edX: extensions.transformerVersion of produced events")
	fs.StringVar(&s.Compat, "compat", "", "Open edX: 'erb' to reproduce the reference transformer (event-routing-backends) exactly")
	fs.StringVar(&s.Anonymous, "edx-anonymous", "skip", "Open edX: events with no user: skip (counted) or person (Caliper's anonymous Person)")
}

// validate checks what can be checked before anything is opened: a
// --lms-url, when given, must be an absolute http(s) URL with a host.
func (s *edxSettings) validate() error {
	if s.LMSURL == "" {
		return nil
	}
	return edx.CheckLMSURL(s.LMSURL)
}

// transformer builds the configured transformer; nil when --lms-url is unset.
func (s *edxSettings) transformer() (*edx.Transformer, error) {
	if s.LMSURL == "" {
		return nil, nil
	}
	cfg := edx.Config{LMSURL: s.LMSURL, ActorSecret: s.ActorSecret, TransformerVersion: s.TransformerVersion}
	switch s.Compat {
	case "":
	case "erb":
		cfg.Compat = true
	default:
		return nil, fmt.Errorf("--compat (LRS_COMPAT): only 'erb' is known, got %q", s.Compat)
	}
	switch s.Anonymous {
	case "skip":
	case "person":
		cfg.Anonymous = edx.AnonymousPerson
	default:
		return nil, fmt.Errorf("--edx-anonymous (LRS_EDX_ANONYMOUS): skip or person, got %q", s.Anonymous)
	}
	var err error
	if s.ActorMap != "" {
		if cfg.ActorMap, err = readPairs(s.ActorMap, "user", "anonymous_id"); err != nil {
			return nil, fmt.Errorf("--actor-map: %w", err)
		}
	}
	if s.CourseCatalog != "" {
		if cfg.Courses, err = readPairs(s.CourseCatalog, "course_id", "name"); err != nil {
			return nil, fmt.Errorf("--course-catalog: %w", err)
		}
	}
	t, err := edx.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("open edx: %w", err)
	}
	return t, nil
}

// readPairs reads a two-column CSV file with the given header.
func readPairs(path, key, value string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if strings.TrimSpace(header[0]) != key || strings.TrimSpace(header[1]) != value {
		return nil, fmt.Errorf("%s: header must be %s,%s", path, key, value)
	}
	m := map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m[strings.TrimSpace(rec[0])] = strings.TrimSpace(rec[1])
	}
}

// runTransform is 'lrs transform': tracking logs → Caliper events as NDJSON on
// stdout, a summary (or with --report, the coverage report) on stderr. It
// exits 0 when no line was refused (unmapped names, anonymous events,
// comments and blank lines are skipped by policy), 1 when any line was
// refused or a file could not be read, 2 for a usage error.
func runTransform(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		s      edxSettings
		report reportFlag
	)
	fs := newFlagSet("transform", stderr)
	s.flags(fs)
	fs.Var(&report, "report", "print the coverage report on stderr instead of the summary: mapped, unmapped, refused and anonymous lines by event name; --report=json for JSON")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if s.LMSURL == "" {
		return &exitCodeError{code: 2, err: errors.New("transform: --lms-url (LRS_LMS_URL) is required")}
	}
	t, err := s.transformer()
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	out := newLineWriter(stdout)
	sum := edx.NewSummary()
	for _, name := range files {
		if err := eachDocument(name, func(n int, doc []byte, bad error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			res := edx.Result{Outcome: edx.Invalid, Err: bad}
			if bad == nil {
				res = t.Transform(doc)
			}
			sum.AddIn(name, n, res)
			for _, ev := range res.Events {
				if err := out.write(ev); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if err := out.flush(); err != nil {
		return err
	}
	switch report {
	case "":
		sum.WriteText(stderr)
	case "text":
		sum.Report(s.Compat != "").WriteText(stderr)
	case "json":
		if err := sum.Report(s.Compat != "").WriteJSON(stderr); err != nil {
			return err
		}
	}
	if sum.ErrorCount > 0 {
		return &exitCodeError{code: 1, quiet: report == "json",
			err: fmt.Errorf("transform: %d lines refused (listed on stderr)", sum.ErrorCount)}
	}
	return nil
}

// reportFlag is --report: off, "text" (--report, --report=text) or "json".
type reportFlag string

func (r *reportFlag) String() string   { return string(*r) }
func (r *reportFlag) IsBoolFlag() bool { return true }

func (r *reportFlag) Set(v string) error {
	switch v {
	case "true", "text":
		*r = "text"
	case "false", "":
		*r = ""
	case "json":
		*r = "json"
	default:
		return fmt.Errorf("--report: text or json, got %q", v)
	}
	return nil
}

// eachDocument streams the events of a tracking log file (plain or .gz), or
// stdin for "-": NDJSON or one pretty-printed JSON document, as import reads
// them (edx.ScanDocuments). Blank and # comment lines are skipped; fn gets
// each document, or the line that is not JSON and why.
func eachDocument(name string, fn func(n int, doc []byte, bad error) error) error {
	r, closeFn, err := openInput(name)
	if err != nil {
		return err
	}
	defer closeFn()
	err = edx.ScanDocuments(r, func(d edx.Doc) error {
		switch d.Kind {
		case edx.DocumentLine:
			return fn(d.Line, d.JSON, nil)
		case edx.BadLine:
			return fn(d.Line, nil, d.Err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// openInput opens a file, or standard input for "-", decompressing it if it is gzipped.
func openInput(name string) (io.Reader, func() error, error) {
	var (
		r       io.Reader = os.Stdin
		closeFn           = func() error { return nil }
	)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		r, closeFn = f, f.Close
	}
	lr, err := edx.OpenLog(r)
	if err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return lr, closeFn, nil
}

type lineWriter struct {
	w   *bufferedWriter
	enc *json.Encoder
}

type bufferedWriter struct {
	io.Writer
	buf []byte
}

func newLineWriter(w io.Writer) *lineWriter {
	bw := &bufferedWriter{Writer: w}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &lineWriter{w: bw, enc: enc}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) >= 64<<10 {
		return len(p), b.flush()
	}
	return len(p), nil
}

func (b *bufferedWriter) flush() error {
	_, err := b.Writer.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func (l *lineWriter) write(v any) error { return l.enc.Encode(v) }

func (l *lineWriter) flush() error { return l.w.flush() }
