package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/importer"
)

// runImport is 'lrs import': files, .gz files, directories or stdin of Caliper
// envelopes, Caliper NDJSON or Open edX tracking logs, into the store or a
// Caliper endpoint. Safe to run again: nothing is stored twice. It exits 0
// when every line was stored, already stored or skipped by policy, 1 when
// any line, item or file was refused (the summary says which), 2 for a
// usage error (docs/edx-mapping.md, "lrs import").
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg      config
		tenant   string
		endpoint string
		token    string
		batch    int
		mode     string
	)
	fs := newFlagSet("import", stderr)
	cfg.databaseFlags(fs)
	cfg.Edx.flags(fs)
	fs.StringVar(&tenant, "tenant", "default", "tenant to import into (local store)")
	fs.StringVar(&endpoint, "endpoint", "", "post envelopes to this Caliper endpoint instead of the local store")
	fs.StringVar(&token, "token", "", "bearer token for --endpoint")
	fs.IntVar(&batch, "batch", 1000, "events per envelope")
	fs.StringVar(&mode, "validation", "strict", "strict or lenient (local store)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &exitCodeError{code: 2, err: errors.New("import: name files, directories, or - for standard input")}
	}
	if batch < 1 || batch > 50000 {
		return &exitCodeError{code: 2, err: errors.New("import: --batch must be 1 to 50000")}
	}
	tr, err := cfg.Edx.transformer()
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}

	var sink importer.Sink
	if endpoint != "" {
		if token == "" {
			return &exitCodeError{code: 2, err: errors.New("import: --endpoint needs --token")}
		}
		sink = importer.EndpointSink{URL: endpoint, Token: token}
	} else {
		m, err := caliper.ParseMode(mode)
		if err != nil {
			return &exitCodeError{code: 2, err: err}
		}
		db, _, err := cfg.openStore(ctx, false, stderrNote(stderr))
		if err != nil {
			return err
		}
		defer db.Close()
		tenantID, err := db.EnsureTenant(ctx, tenant)
		if err != nil {
			return err
		}
		sink = importer.StoreSink{Service: ingest.NewService(db, caliper.NewValidator(m)), Source: ingest.Source{TenantID: tenantID}}
	}

	inputs := expandPaths(fs.Args())
	prog := newProgress(stderr, totalSize(inputs))
	im := importer.New(sink, tr, batch, prog.update)
	start := time.Now()
	for _, in := range inputs {
		if err := importOne(ctx, im, in); err != nil {
			return err
		}
	}
	if err := im.Flush(ctx); err != nil {
		return err
	}
	prog.done()
	im.Stats.WriteSummary(stdout)
	fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(time.Millisecond))
	if n := im.Stats.Refused(); n > 0 {
		return &exitCodeError{code: 1, err: fmt.Errorf("import: %d lines or items and %d files refused (listed in the summary)",
			im.Stats.ErrorCount, im.Stats.FilesRefused)}
	}
	return nil
}

// importOne reads one input; an input that cannot be opened is counted
// refused. The error is fatal to the import.
func importOne(ctx context.Context, im *importer.Importer, in input) error {
	if in.err != nil {
		im.Unreadable(in.name, in.err)
		return nil
	}
	r, closeFn, err := openInput(in.name)
	if err != nil {
		im.Unreadable(in.name, err)
		return nil
	}
	defer closeFn()
	return im.ImportReader(ctx, in.name, r)
}

// input is a file to import, or one that cannot be, and why.
type input struct {
	name string
	err  error
}

// expandPaths turns directories into the regular files below them, sorted.
// A path that cannot be read (missing, or a folder that cannot be listed)
// is kept with its error, to be reported and to fail the import.
func expandPaths(paths []string) []input {
	var out []input
	for _, p := range paths {
		if p == "-" {
			out = append(out, input{name: p})
			continue
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() {
			out = append(out, input{name: p, err: err})
			continue
		}
		var found []input
		filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				found = append(found, input{name: path, err: err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
			case d.Type().IsRegular():
				found = append(found, input{name: path})
			}
			return nil
		})
		sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
		out = append(out, found...)
	}
	return out
}

func totalSize(inputs []input) int64 {
	var n int64
	for _, in := range inputs {
		if fi, err := os.Stat(in.name); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// progress reports an import's advance: a bar redrawn in place on a
// terminal, a plain line every ten seconds otherwise.
type progress struct {
	w        io.Writer
	total    int64
	terminal bool
	start    time.Time
	last     time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(s *importer.Stats) {
	now := time.Now()
	if p.terminal && now.Sub(p.last) < 200*time.Millisecond || !p.terminal && now.Sub(p.last) < 10*time.Second {
		return
	}
	p.last = now
	rate := float64(s.Events) / now.Sub(p.start).Seconds()
	if p.terminal {
		pct := 0.0
		if p.total > 0 {
			pct = 100 * float64(s.Bytes) / float64(p.total)
		}
		bar := int(pct / 5)
		fmt.Fprintf(p.w, "\r[%-20s] %5.1f%%  %d events, %.0f/s, %d errors ", string(repeat('#', bar)), pct, s.Events, rate, s.ErrorCount)
		return
	}
	fmt.Fprintf(p.w, "import: %d lines, %d events (%d stored), %.0f events/s, %d errors\n", s.Lines, s.Events, s.Stored, rate, s.ErrorCount)
}

func (p *progress) done() {
	if p.terminal && !p.last.IsZero() {
		fmt.Fprintln(p.w)
	}
}

func repeat(c byte, n int) []byte {
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = c
	}
	return b
}
