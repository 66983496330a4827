package main

import (
	"errors"
	"flag"
	"io"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, _, err := runErr(env(nil), arg)
		if err != nil || !strings.HasPrefix(out, "lrs ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%s: %v %q", arg, err, out)
		}
	}
}

// TestHelpEveryCommand: each command's -h lists every flag with its
// variable, and sizes are written for people.
func TestHelpEveryCommand(t *testing.T) {
	for name := range synopses {
		args := append(strings.Fields(name), "-h")
		t.Run(name, func(t *testing.T) {
			_, stderr, err := runErr(env(nil), args...)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err %v", err)
			}
			if !strings.HasPrefix(stderr, "Usage: lrs "+name) {
				t.Errorf("help does not start with the usage line:\n%s", stderr)
			}
			for _, line := range strings.Split(stderr, "\n") {
				if strings.HasPrefix(line, "  --") {
					f := strings.Fields(line)
					want := envName(strings.TrimPrefix(f[0], "--"))
					if flagOnly["lrs "+name+" "+f[0]] {
						want = "variable)" // "(no variable)"
					}
					if f[len(f)-1] != want {
						t.Errorf("flag line %q lacks %s", line, want)
					}
				}
			}
		})
	}
	_, stderr, _ := runErr(env(nil), "serve", "--help")
	if !strings.Contains(stderr, "--max-body SIZE") || !strings.Contains(stderr, "(default 5 MiB)") || !strings.Contains(stderr, "LRS_DATABASE_URL") {
		t.Errorf("serve help:\n%s", stderr)
	}
	out, _, err := runErr(env(nil), "help", "keys", "create")
	if err != nil || !strings.Contains(out, "--tenant") {
		t.Errorf("lrs help keys create: %v\n%s", err, out)
	}
}

func TestSuggestions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--adr", ":1"}, "did you mean --addr?"},
		{[]string{"keys", "list", "--databse-url", "x.db"}, "did you mean --database-url?"},
		{[]string{"serv"}, `did you mean "serve"?`},
		{[]string{"keys", "revok", "1"}, `did you mean "revoke"?`},
		{[]string{"migrate", "upp"}, `did you mean "up"?`},
	} {
		_, _, err := runErr(env(nil), c.args...)
		var ec *exitCodeError
		if !errors.As(err, &ec) || ec.code != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	if _, _, err := runErr(env(nil), "zzzzzz"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("nothing close: %v", err)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runErr(env(nil), "keys", "create", "--tenant", "t", "--scopes", "read", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	out, _, err := runErr(env(nil), "keys", "revoke", "1", "--data-dir", dir)
	if err != nil || out != "key 1 revoked\n" {
		t.Fatalf("keys revoke 1 --data-dir: %v %q", err, out)
	}

	fs := newFlagSet("x", io.Discard)
	a := fs.String("a", "", "")
	b := fs.Bool("b", false, "")
	if err := parseFlags(fs, []string{"x", "--a", "1", "y", "-b", "--", "--c", "z"}, env(nil)); err != nil {
		t.Fatal(err)
	}
	if *a != "1" || !*b || strings.Join(fs.Args(), " ") != "x y --c z" {
		t.Errorf("a=%q b=%v args=%q", *a, *b, fs.Args())
	}
}

func TestByteSizeString(t *testing.T) {
	for in, want := range map[int64]string{5 << 20: "5 MiB", 1536 << 10: "1536 KiB", 1 << 30: "1 GiB", 100: "100 B", 0: "0 B"} {
		b := byteSize(in)
		if got := b.String(); got != want {
			t.Errorf("%d: %q, want %q", in, got, want)
		}
		var back byteSize
		if err := back.Set(b.String()); err != nil || back != b {
			t.Errorf("%q does not read back: %d, %v", b.String(), back, err)
		}
	}
}

// TestHelpEveryGroup: every command with subcommands answers -h, --help and
// 'lrs help GROUP' with a list of them, each with its usage line.
func TestHelpEveryGroup(t *testing.T) {
	groups := map[string][]string{}
	for name := range synopses {
		if group, _, ok := strings.Cut(name, " "); ok {
			groups[group] = append(groups[group], name)
		}
	}
	for group, subs := range groups {
		t.Run(group, func(t *testing.T) {
			for _, args := range [][]string{{group, "-h"}, {group, "--help"}, {"help", group}} {
				out, stderr, err := runErr(env(nil), args...)
				if err != nil && !errors.Is(err, flag.ErrHelp) {
					t.Fatalf("%v: %v\n%s", args, err, stderr)
				}
				help := out + stderr
				for _, sub := range subs {
					usage, _, _ := strings.Cut(synopses[sub], "\n")
					if !strings.Contains(help, usage) {
						t.Errorf("%v: no %q in:\n%s", args, usage, help)
					}
				}
			}
		})
	}
}
