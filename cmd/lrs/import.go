package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/follow"
	"github.com/lrs-dev/lrs/ingest/importer"
)

// runImport is 'lrs import': files, .gz files, directories or stdin of Caliper
// envelopes, Caliper NDJSON or Open edX tracking logs, into the store or a
// Caliper endpoint. Safe to run again: nothing is stored twice. It exits 0
// when every line was stored, already stored or skipped by policy, 1 when
// any line, item or file was refused (the summary says which), 2 for a
// usage error (docs/edx-mapping.md, "lrs import").
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var o importOptions
	fs := newFlagSet("import", stderr)
	o.cfg.databaseFlags(fs)
	o.cfg.Edx.flags(fs)
	fs.StringVar(&o.tenant, "tenant", "default", "tenant to import into (local store)")
	fs.StringVar(&o.endpoint, "endpoint", "", "post to this endpoint instead of the local store: a Caliper endpoint, or with --follow and no --lms-url a remote lrs's POST /edx")
	fs.StringVar(&o.token, "token", "", "bearer token for --endpoint")
	fs.IntVar(&o.batch, "batch", 1000, "events per envelope")
	fs.StringVar(&o.mode, "validation", "strict", "strict or lenient (local store)")
	fs.BoolVar(&o.follow, "follow", false, "follow live logs like tail -F until SIGTERM: rotation by rename or copy-truncate, checkpoints in the store (docs/edx-mapping.md, \"lrs import --follow\")")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := o.cfg.validate(false); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &exitCodeError{code: 2, err: errors.New("import: name files, directories, or - for standard input")}
	}
	if o.batch < 1 || o.batch > 50000 {
		return &exitCodeError{code: 2, err: errors.New("import: --batch must be 1 to 50000")}
	}
	if o.endpoint != "" && o.token == "" {
		return &exitCodeError{code: 2, err: errors.New("import: --endpoint needs --token")}
	}
	tr, err := o.cfg.Edx.transformer()
	if err != nil {
		return &exitCodeError{code: 2, err: err}
	}
	if o.follow {
		return o.runFollow(ctx, fs.Args(), tr, stdout, stderr)
	}
	sink, closeFn, err := o.sink(ctx, stderr)
	if err != nil {
		return err
	}
	defer closeFn()

	inputs := expandPaths(fs.Args())
	prog := newProgress(stderr, totalSize(inputs))
	im := importer.New(sink, tr, o.batch, prog.update)
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

// importOptions are lrs import's flags.
type importOptions struct {
	cfg                     config
	tenant, endpoint, token string
	batch                   int
	mode                    string
	follow                  bool
}

// sink opens where envelopes go: the endpoint, or the local store.
func (o *importOptions) sink(ctx context.Context, stderr io.Writer) (importer.Sink, func(), error) {
	if o.endpoint != "" {
		return importer.EndpointSink{URL: o.endpoint, Token: o.token}, func() {}, nil
	}
	m, err := caliper.ParseMode(o.mode)
	if err != nil {
		return nil, nil, &exitCodeError{code: 2, err: err}
	}
	db, _, err := o.cfg.openStore(ctx, false, stderrNote(stderr))
	if err != nil {
		return nil, nil, err
	}
	tenantID, err := db.EnsureTenant(ctx, o.tenant)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return importer.StoreSink{Service: ingest.NewService(db, caliper.NewValidator(m)), Source: ingest.Source{TenantID: tenantID}}, db.Close, nil
}

// runFollow sets up 'lrs import --follow': checkpoints in the local store
// (also when the lines go to --endpoint), batches stored through the
// transformer here or, with --endpoint and no --lms-url, posted raw to a
// remote POST /edx.
func (o *importOptions) runFollow(ctx context.Context, paths []string, tr *edx.Transformer, stdout, stderr io.Writer) error {
	for _, p := range paths {
		if p == "-" {
			return &exitCodeError{code: 2, err: errFollowUsage}
		}
	}
	log := newLogger(&o.cfg, stderr)
	db, _, err := o.cfg.openStore(ctx, false, logNote(ctx, log))
	if err != nil {
		return err
	}
	defer db.Close()
	sinkName := "tenant:" + o.tenant
	var (
		send  follow.Sender
		stats func() *importer.Stats
	)
	switch {
	case o.endpoint != "" && tr == nil:
		es := &edxSender{url: o.endpoint, token: o.token, client: &http.Client{Timeout: time.Minute}, log: log}
		send, stats, sinkName = es, func() *importer.Stats { return &es.stats }, o.endpoint
	default:
		sink, closeFn, err := o.sink(ctx, stderr)
		if err != nil {
			return err
		}
		defer closeFn()
		if o.endpoint != "" {
			sinkName = o.endpoint
		}
		newImporter := func() *importer.Importer { return importer.New(sink, tr, o.batch, nil) }
		is := &importSender{im: newImporter(), make: newImporter}
		send, stats = is, func() *importer.Stats { return &is.im.Stats }
	}
	return runFollow(ctx, paths, sinkName, db, send, stats, log, stdout)
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
