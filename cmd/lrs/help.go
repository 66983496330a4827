package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// synopses are the usage lines of each command, by flag set name.
var synopses = map[string]string{
	"serve":           "lrs serve [flags]\n  Run the HTTP server: POST /caliper, the read API, /ui/.",
	"migrate up":      "lrs migrate up [flags]\n  Apply every pending schema migration.",
	"migrate down":    "lrs migrate down [flags]\n  Revert the newest schema migration (one only).",
	"migrate version": "lrs migrate version [flags]\n  Show the schema version and whether this lrs can use it.",
	"migrate force":   "lrs migrate force N [flags]\n  Record schema version N without running anything (after repairing a failed migration).",
	"tenants list":    "lrs tenants list [flags]\n  List tenants and their live keys.",
	"tenants create":  "lrs tenants create NAME [flags]\n  Create a tenant (lrs keys create also creates one on first use).",
	"tenants delete":  "lrs tenants delete NAME [--yes] [flags]\n  Delete a tenant and everything it holds: events, entities, envelopes, keys, roll-ups.\n  Without --yes: count what would go, delete nothing and exit 2.",
	"erase":           "lrs erase --tenant T (--actor IRI | --edx-user ID_OR_USERNAME [--lms-url URL --actor-secret S | --actor-map FILE])... [--dry-run] [flags]\n  Erase learners from a tenant: their events and entity, every other occurrence of their id redacted (docs/privacy.md).",
	"keys create":     "lrs keys create --tenant NAME --scopes write,read,admin [--label TEXT] [--expires 90d|TIME] [--rate-limit EVENTS_PER_S] [flags]\n  Create an API key; the token is the last line printed, shown once.",
	"keys list":       "lrs keys list [flags]\n  List API keys (never their tokens).",
	"keys revoke":     "lrs keys revoke ID [flags]\n  Revoke a key at once.",
	"forwarders add": "lrs forwarders add --tenant T --url URL --kind caliper|webhook [--token TOKEN | --header 'Name: value'] [--secret S]\n" +
		"    [--filter 'course=…&action=…'] [--from now|beginning|CURSOR] [--batch N] [--max-wait D] [flags]\n" +
		"  Add a forwarder: lrs serve delivers the tenant's events to URL in stored order. Prints its id last.",
	"forwarders list":   "lrs forwarders list [--tenant T] [flags]\n  List forwarders with their state, backlog, deliveries and dead letters.",
	"forwarders show":   "lrs forwarders show ID [flags]\n  Show a forwarder's settings (never its credentials), status and dead letters.",
	"forwarders pause":  "lrs forwarders pause ID [flags]\n  Stop delivering (the position is kept).",
	"forwarders resume": "lrs forwarders resume ID [flags]\n  Deliver again from where it stopped.",
	"forwarders delete": "lrs forwarders delete ID [flags]\n  Delete a forwarder and its dead letters.",
	"forwarders replay": "lrs forwarders replay ID DEAD_LETTER_ID [flags]\n  Send a dead letter's events again.",
	"validate":          "lrs validate [flags] FILE... | -\n  Check Caliper envelopes, events, entities, arrays or NDJSON offline.",
	"transform":         "lrs transform --lms-url URL --actor-secret S [--report[=json]] [flags] [FILE...|-]\n  Open edX tracking log (plain or .gz) -> Caliper NDJSON on stdout; a summary, or the coverage report, on stderr.\n  Exits 0 when no line was refused (unmapped and anonymous lines are skipped by policy), 1 when any line was\n  refused or a file could not be read, 2 for a usage error.",
	"import":            "lrs import [flags] PATH...\n  Import Caliper envelopes/NDJSON or Open edX logs (files, .gz, directories, -) into the store or an endpoint.\n  Exits 0 when every line was stored, already stored or skipped by policy, 1 when any line or file was refused.\n  With --follow: tail live logs (files or directories) like tail -F until SIGTERM, checkpointing in the store;\n  exits 0 after the last complete batch (refused lines are logged and counted in the summary).",
	"bench query":       "lrs bench query --database-url URL [flags]\n  Load a synthetic dataset and measure the read API (docs/benchmarks.md).",
	"bench ingest":      "lrs bench ingest --url URL --token T [--clients N] [--batch B] [--duration D] [flags]\n  Post synthetic Caliper envelopes to any endpoint with closed-loop clients; latency percentiles,\n  a ledger of acknowledged ids and, with --check, a read-back that finds each once (docs/benchmarks.md).",
	"bench edx-log":     "lrs bench edx-log [flags]\n  Write a synthetic Open edX tracking log.",
	"backup":            "lrs backup --to FILE [flags]\n  Copy the embedded store, while it runs, into a new database file.",
	"copy":              "lrs copy --from URL --to URL [flags]\n  Copy a whole store (tenants, keys, envelopes, events, entities, settings) into an empty one or an earlier copy,\n  between any two backends; run it again to resume or to catch up (docs/operations.md).",
}

// commands are the top-level commands, for suggestions.
var commands = []string{"serve", "migrate", "keys", "tenants", "erase", "forwarders", "validate", "transform", "import", "bench", "backup", "copy", "version", "help"}

// printHelp writes a command's usage and every flag with its LRS_* variable
// and default.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	name := strings.TrimPrefix(fs.Name(), "lrs ")
	if s, ok := synopses[name]; ok {
		fmt.Fprintf(w, "Usage: %s\n\n", s)
	} else {
		fmt.Fprintf(w, "Usage: lrs %s [flags]\n\n", name)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "Flags (each can also be set as its LRS_* variable; a flag given wins):")
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, usage := flag.UnquoteUsage(f)
		switch {
		case isBool(f):
			placeholder = ""
		case placeholder == "value": // a flag.Var without a `NAME` in its usage
			placeholder = "VALUE"
			if p, ok := f.Value.(interface{ placeholder() string }); ok {
				placeholder = p.placeholder()
			}
		default:
			placeholder = strings.ToUpper(placeholder)
		}
		head := "  --" + f.Name
		if placeholder != "" {
			head += " " + placeholder
		}
		variable := envName(f.Name)
		if flagOnly[fs.Name()+" --"+f.Name] {
			variable = "(no variable)"
		}
		fmt.Fprintf(w, "%-32s %s\n", head, variable)
		if f.DefValue != "" && !(isBool(f) && f.DefValue == "false") {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "      %s\n", usage)
	})
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagError turns the flag package's parse error into one that names the
// command and suggests the closest flag.
func flagError(fs *flag.FlagSet, err error) error {
	name := strings.TrimPrefix(fs.Name(), "lrs ")
	msg := err.Error()
	if bad, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		bad = strings.TrimLeft(bad, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = "unknown flag --" + bad
		if s := closest(bad, names); s != "" {
			msg += "; did you mean --" + s + "?"
		}
	}
	return &exitCodeError{code: 2, err: fmt.Errorf("%s: %s ('lrs %s -h' lists the flags)", name, msg, name)}
}

// unknownCommand is the error for a command or subcommand that does not exist.
func unknownCommand(what, got string, options []string) error {
	msg := fmt.Sprintf("unknown %s %q", what, got)
	if s := closest(got, options); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return &exitCodeError{code: 2, err: fmt.Errorf("%s; want %s", msg, strings.Join(options, ", "))}
}

// closest is the option nearest to s (edit distance at most 2, or a unique
// prefix match), or "".
func closest(s string, options []string) string {
	best, bestD := "", 3
	var prefixed []string
	for _, o := range options {
		if d := distance(s, o); d < bestD {
			best, bestD = o, d
		}
		if len(s) >= 2 && strings.HasPrefix(o, s) {
			prefixed = append(prefixed, o)
		}
	}
	if best == "" && len(prefixed) == 1 {
		return prefixed[0]
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// version and revision are set with -ldflags -X where the build has no VCS
// information (the Docker image: .git is not in its build context).
var version, revision string

// versionString is the module version and VCS revision this binary was built
// from, from its build information.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "lrs (no build information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if v == "(devel)" && version != "" {
		v = version
	}
	if rev == "" {
		rev = revision
	}
	out := "lrs " + v
	if rev != "" {
		out += " (revision " + rev
		if when != "" {
			out += ", " + when
		}
		out += modified + ")"
	}
	return out + " " + info.GoVersion
}

// isHelpArg says whether a command group was asked for its help.
func isHelpArg(s string) bool {
	return s == "-h" || s == "--help" || s == "-help" || s == "help"
}

// groupHelp lists a command group's subcommands (lrs keys -h) and returns
// flag.ErrHelp, as a command's own -h does.
func groupHelp(w io.Writer, group string, subs []string) error {
	fmt.Fprintf(w, "Usage: lrs %s SUBCOMMAND [flags]\n\nSubcommands:\n", group)
	for _, sub := range subs {
		usage, about, _ := strings.Cut(synopses[group+" "+sub], "\n")
		fmt.Fprintf(w, "  %s\n      %s\n", usage, strings.TrimSpace(strings.SplitN(about, "\n", 2)[0]))
	}
	fmt.Fprintf(w, "\n'lrs help %s SUBCOMMAND' or 'lrs %s SUBCOMMAND -h' lists a subcommand's flags.\n", group, group)
	return flag.ErrHelp
}
