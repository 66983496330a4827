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
// Caliper endpoint. Safe to run again: nothing is stored twice.
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

	files, err := expandPaths(fs.Args())
	if err != nil {
		return err
	}
	prog := newProgress(stderr, totalSize(files))
	im := importer.New(sink, tr, batch, prog.update)
	start := time.Now()
	for _, name := range files {
		if err := importOne(ctx, im, name); err != nil {
			return err
		}
	}
	if err := im.Flush(ctx); err != nil {
		return err
	}
	prog.done()
	im.Stats.WriteSummary(stdout)
	fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func importOne(ctx context.Context, im *importer.Importer, name string) error {
	r, closeFn, err := openInput(name)
	if err != nil {
		return err
	}
	defer closeFn()
	return im.ImportReader(ctx, name, r)
}

// expandPaths turns directories into the files below them, sorted.
func expandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
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
