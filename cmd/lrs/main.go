// Command lrs is a Caliper endpoint and learning record store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ec *exitCodeError
		if !errors.Is(err, flag.ErrHelp) && !(errors.As(err, &ec) && ec.quiet) {
			fmt.Fprintln(os.Stderr, "lrs:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCodeError carries a specific process exit status.
type exitCodeError struct {
	code  int
	err   error
	quiet bool // already reported on stderr in a form that must stay alone there (lrs transform --report=json)
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var ec *exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

const usage = `lrs: a Caliper endpoint and learning record store

Usage:
  lrs serve [flags]                 run the HTTP server
  lrs migrate up|down|version|force N [flags]
                                    manage the database schema
  lrs keys create --tenant NAME --scopes write,read,admin [--label TEXT]
  lrs keys list
  lrs keys revoke ID
  lrs tenants list|create NAME|delete NAME [--yes]
                                    manage tenants; delete erases all of a
                                    tenant's data
  lrs erase --tenant T --actor IRI | --edx-user ID_OR_USERNAME [--dry-run]
                                    erase a learner (docs/privacy.md)
  lrs forwarders add --tenant T --url URL --kind caliper|webhook [flags]
  lrs forwarders list|show ID|pause ID|resume ID|delete ID|replay ID DL
                                    push a tenant's events to another
                                    endpoint, in stored order
  lrs validate [--validation strict|lenient] FILE... | -
                                    check Caliper files offline (envelopes,
                                    events, entities, arrays or NDJSON)
  lrs transform --lms-url URL --actor-secret S [flags] [FILE...|-]
                                    Open edX tracking log -> Caliper NDJSON
  lrs import [--tenant T] [--endpoint URL --token T] [flags] PATH...
                                    import Caliper envelopes/NDJSON or Open edX
                                    logs (files, .gz, directories, -)
  lrs bench ingest --url URL --token T [--clients N] [--batch B]
                                    load any Caliper endpoint and report
                                    throughput and latency percentiles
  lrs bench query [--events N] [flags]
                                    load a synthetic dataset and measure the
                                    read API (docs/benchmarks.md)
  lrs backup --to FILE              copy the embedded store while it runs
  lrs copy --from URL --to URL      copy a whole store into another (any
                                    backends; resumable): embedded -> PostgreSQL
  lrs version                       the version and source revision

Every flag can also be set as an LRS_* environment variable:
--database-url is LRS_DATABASE_URL. Flags may come before or after
arguments. 'lrs help COMMAND' or 'lrs COMMAND -h' lists a command's flags.
`

// run is the whole program; tests call it as main does.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitCodeError{code: 2, err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, getenv, stdout, stderr)
	case "tenants":
		return runTenants(ctx, rest, getenv, stdout, stderr)
	case "erase":
		return runErase(ctx, rest, getenv, stdout, stderr)
	case "forwarders":
		return runForwarders(ctx, rest, getenv, stdout, stderr)
	case "validate":
		return runValidate(ctx, rest, getenv, stdout, stderr)
	case "import":
		return runImport(ctx, rest, getenv, stdout, stderr)
	case "transform":
		return runTransform(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, getenv, stdout, stderr)
	case "backup":
		return runBackup(ctx, rest, getenv, stdout, stderr)
	case "copy":
		return runCopy(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" { // lrs help keys create: that command's help on stdout
			err := run(ctx, append(rest, "-h"), getenv, stdout, stdout)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return unknownCommand("command", cmd, commands)
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	level, _ := cfg.level()
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lrs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr) // where parseFlags prints the help
	fs.Usage = func() {} // parseFlags prints it
	return fs
}
