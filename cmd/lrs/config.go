package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/web"
)

// config is every setting of lrs, read from flags and LRS_* environment variables.
type config struct {
	Addr            string
	DatabaseURL     string
	DataDir         string
	CaliperPath     string
	MaxBody         byteSize
	Limits          limitSettings
	DBWait          time.Duration
	Migrate         bool
	AcceptBareToken bool
	Validation      string
	LogFormat       string
	LogLevel        string
	Edx             edxSettings
	Ops             opsSettings
	Stream          streamSettings
	Forward         forwardSettings
}

// envName is the environment variable behind a flag: --max-body → LRS_MAX_BODY.
func envName(flagName string) string {
	return "LRS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// flagOnly are flags that take no LRS_* variable: "keys create --rate-limit"
// would otherwise take serve's LRS_RATE_LIMIT and store it with every key,
// and a confirmation to delete data must be given on the command line.
var flagOnly = map[string]bool{
	"lrs keys create --rate-limit": true,
	"lrs keys create --expires":    true,
	"lrs tenants delete --yes":     true,
}

// parseFlags parses args, flags before or after positional arguments ("--"
// ends the flags); a flag not given takes its LRS_* variable, then its
// default. -h prints the command's help and returns flag.ErrHelp; an unknown
// flag is an error suggesting the closest one.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // errors are returned, help printed below
	defer fs.SetOutput(out)
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(out, fs)
				return err
			}
			return flagError(fs, err)
		}
		left := fs.Args()
		if len(left) == 0 {
			break
		}
		if i := len(rest) - len(left); i > 0 && rest[i-1] == "--" {
			positional = append(positional, left...)
			break
		}
		positional, rest = append(positional, left[0]), left[1:]
	}
	// fs.Args() are the positional arguments, wherever they were.
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || flagOnly[fs.Name()+" --"+f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	return errors.Join(errs...)
}

// databaseFlags registers the flags every database command shares.
func (c *config) databaseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://user:pass@host:5432/lrs), or an SQLite file (sqlite:PATH, file:PATH, PATH.db); empty: the embedded store in --data-dir")
	fs.StringVar(&c.DataDir, "data-dir", "./lrs-data", "where the embedded store keeps its data when no --database-url is given")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
}

func (c *config) serveFlags(fs *flag.FlagSet) {
	c.databaseFlags(fs)
	c.MaxBody = 5 << 20
	fs.StringVar(&c.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.CaliperPath, "caliper-path", "/caliper", "URL path of the Caliper endpoint")
	fs.Var(&c.MaxBody, "max-body", "largest accepted request body (bytes, or with KiB/MiB suffix)")
	fs.BoolVar(&c.Migrate, "migrate", false, "apply pending database migrations at start")
	fs.StringVar(&c.Validation, "validation", "strict", "Caliper validation: strict (the whole spec) or lenient (envelope and required properties only)")
	c.Edx.flags(fs)
	fs.BoolVar(&c.AcceptBareToken, "accept-bare-token", false, "accept an Authorization header holding the token without \"Bearer \" (caliper-java does this)")
	c.Limits.flags(fs)
	c.Ops.flags(fs)
	c.Stream.flags(fs)
	c.Forward.flags(fs)
	c.Forward.serveFlags(fs)
	fs.DurationVar(&c.DBWait, "db-wait", 60*time.Second, "at start, how long to wait for PostgreSQL to be reachable, retrying with backoff (0: fail at once)")
}

// limitSettings bound what clients can make the server hold (docs/configuration.md).
type limitSettings struct {
	MaxInflightBytes byteSize
	MaxConns         int
	MaxConnsPerIP    int
	ShutdownTimeout  time.Duration
}

func (l *limitSettings) flags(fs *flag.FlagSet) {
	d := web.DefaultLimits
	l.MaxInflightBytes = byteSize(defaultInflightBytes())
	fs.Var(&l.MaxInflightBytes, "max-inflight-bytes", "request body bytes decoded and stored at once (default from memory: a 64th, 32 MiB to 1 GiB); more waits up to 2s, then 503")
	fs.IntVar(&l.MaxConns, "max-connections", d.MaxConns, "open connections at most; more are closed at once")
	fs.IntVar(&l.MaxConnsPerIP, "max-connections-per-ip", d.MaxConnsPerIP, "open connections per client IP at most")
	fs.DurationVar(&l.ShutdownTimeout, "shutdown-timeout", d.ShutdownTimeout, "on SIGTERM, how long requests in flight may finish before they are cut")
}

func (l limitSettings) web() web.Limits {
	return web.Limits{MaxInflightBytes: int64(l.MaxInflightBytes), MaxConns: l.MaxConns,
		MaxConnsPerIP: l.MaxConnsPerIP, ShutdownTimeout: l.ShutdownTimeout}
}

// validate checks the settings; errors name the flag and variable to fix.
func (c *config) validate(serving bool) error {
	var errs []error
	if _, err := c.storeTarget(); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir (LRS_DATA_DIR) must not be empty when no --database-url is given"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format (LRS_LOG_FORMAT) must be json or text, got %q", c.LogFormat))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, fmt.Errorf("--log-level (LRS_LOG_LEVEL): %w", err))
	}
	if err := c.Edx.validate(); err != nil {
		errs = append(errs, err)
	}
	if serving {
		if !strings.HasPrefix(c.CaliperPath, "/") {
			errs = append(errs, fmt.Errorf("--caliper-path (LRS_CALIPER_PATH) must start with /, got %q", c.CaliperPath))
		}
		if _, err := caliper.ParseMode(c.Validation); err != nil {
			errs = append(errs, fmt.Errorf("--validation (LRS_VALIDATION): %w", err))
		}
		if c.MaxBody < 1024 {
			errs = append(errs, errors.New("--max-body (LRS_MAX_BODY) must be at least 1KiB"))
		}
		if c.Limits.MaxInflightBytes < c.MaxBody {
			errs = append(errs, errors.New("--max-inflight-bytes (LRS_MAX_INFLIGHT_BYTES) must be at least --max-body"))
		}
		if err := c.Ops.validate(); err != nil {
			errs = append(errs, err)
		}
		if err := c.Stream.validate(); err != nil {
			errs = append(errs, err)
		}
		if err := c.Forward.validate(); err != nil {
			errs = append(errs, err)
		}
		if c.Limits.MaxConns < 1 || c.Limits.MaxConnsPerIP < 1 || c.Limits.ShutdownTimeout <= 0 {
			errs = append(errs, errors.New("--max-connections, --max-connections-per-ip and --shutdown-timeout must be positive"))
		}
	}
	return errors.Join(errs...)
}

func (c *config) level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}

// byteSize is a flag value in bytes that also takes KiB, MiB and GiB (and KB, MB, GB as powers of 1024).
type byteSize int64

// placeholder names the value in help.
func (byteSize) placeholder() string { return "SIZE" }

// String is the size for people: "5 MiB", "1536 KiB", "100 B"; Set reads it back.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + " " + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid size %q: want bytes, or a number with KiB, MiB or GiB", s)
	}
	*b = byteSize(n * mult)
	return nil
}
