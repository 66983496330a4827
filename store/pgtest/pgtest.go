// Package pgtest gives tests a real, migrated PostgreSQL database.
//
// The server comes from, in order: LRS_TEST_DATABASE_URL; a throwaway cluster
// started from the local PostgreSQL binaries (run as the postgres user when
// the tests run as root); a Docker container through dockertest. Each test
// gets its own database, cloned from a migrated template, so tests never see
// each other's rows. With LRS_REQUIRE_DB=1 a missing server fails the test
// instead of skipping it.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ory/dockertest/v3"

	"github.com/lrs-dev/lrs/store"
)

const templateDB = "lrs_template"

var (
	once     sync.Once
	server   *url.URL // the maintenance database's URL
	setupErr error
	stop     func()
	counter  atomic.Int64
	inMain   bool // Main is running the tests: it will stop the cluster
)

// Main runs the package's tests and then stops any server it started.
// Call it from TestMain.
func Main(m *testing.M) {
	inMain = true
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// URL returns the URL of a new, migrated, empty database for t; it is dropped
// when t ends.
func URL(t testing.TB) string {
	t.Helper()
	if !inMain {
		// Without it the throwaway cluster outlives the test binary.
		t.Fatal("pgtest: the package needs func TestMain(m *testing.M) { pgtest.Main(m) }")
	}
	once.Do(func() { setupErr = setup() })
	if setupErr != nil {
		if os.Getenv("LRS_REQUIRE_DB") == "1" {
			t.Fatalf("pgtest: no PostgreSQL available and LRS_REQUIRE_DB=1: %v", setupErr)
		}
		t.Skipf("pgtest: no PostgreSQL available (set LRS_TEST_DATABASE_URL): %v", setupErr)
	}
	name := fmt.Sprintf("lrs_test_%d_%d", os.Getpid(), counter.Add(1))
	ctx := context.Background()
	if err := exec1(ctx, server.String(), "CREATE DATABASE "+name+" TEMPLATE "+templateDB); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec1(ctx, server.String(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDB(server, name)
}

func withDB(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	return c.String()
}

func setup() error {
	var err error
	if s := os.Getenv("LRS_TEST_DATABASE_URL"); s != "" {
		server, err = url.Parse(s)
		if err != nil {
			return fmt.Errorf("LRS_TEST_DATABASE_URL: %w", err)
		}
	} else if server, stop, err = startLocal(); err != nil {
		localErr := err
		if server, stop, err = startDocker(); err != nil {
			return fmt.Errorf("local binaries: %v; docker: %v", localErr, err)
		}
	}
	ctx := context.Background()
	// A template left by an earlier run of an older schema must not be reused.
	_ = exec1(ctx, server.String(), "DROP DATABASE IF EXISTS "+templateDB+" WITH (FORCE)")
	if err := exec1(ctx, server.String(), "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	if err := store.MigrateUp(ctx, withDB(server, templateDB)); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

func exec1(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// binDir finds the PostgreSQL server binaries: pg_config, then Debian's layout.
func binDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("initdb not found (install PostgreSQL server binaries)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// restart restarts the cluster startLocal started; nil for other servers.
var restart func() error

// Restart restarts the test server (a fast shutdown: every connection is
// cut, in-flight transactions roll back). It skips t on a server the package did not start itself.
func Restart(t testing.TB) {
	t.Helper()
	if restart == nil {
		t.Skip("pgtest: can restart only the throwaway cluster it starts from local binaries")
	}
	if err := restart(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

// startLocal runs initdb and starts a cluster on a free loopback port, tuned
// for throwaway use (no fsync). PostgreSQL refuses to run as root, so as root
// it runs as the postgres user.
func startLocal() (*url.URL, func(), error) {
	bin, err := binDir()
	if err != nil {
		return nil, nil, err
	}
	stopOrphans(bin)
	dir, err := os.MkdirTemp("", "lrs-pgtest-")
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, nil, err
		}
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if err := run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts); err != nil {
		return nil, nil, err
	}
	stop := func() {
		_ = run("pg_ctl", "stop", "-m", "immediate", "-D", data)
		os.RemoveAll(dir)
	}
	restart = func() error {
		// Fast: every connection is cut and in-flight transactions roll back, but
		// commits are kept (the cluster runs with synchronous_commit off, so an
		// immediate stop could lose acknowledged commits: a test artefact).
		return run("pg_ctl", "restart", "-m", "fast", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "log"))
	}
	u, _ := url.Parse(fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	return u, stop, nil
}

// ownerFile names, in a cluster's folder, the process that started it.
const ownerFile = "owner.pid"

// stopOrphans stops and removes the clusters of test processes that are gone
// (a panic, a timeout or kill skips Main's stop).
func stopOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "lrs-pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours to judge, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
			continue // its owner is alive
		}
		cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "stop", "-m", "immediate", "-D", filepath.Join(dir, "data"))
		if st, err := os.Stat(dir); err == nil {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: sys.Uid, Gid: sys.Gid}}
			}
		}
		_ = cmd.Run()
		os.RemoveAll(dir)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startDocker runs postgres:15 in Docker, for machines without local binaries.
func startDocker() (*url.URL, func(), error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, nil, err
	}
	if err := pool.Client.Ping(); err != nil {
		return nil, nil, fmt.Errorf("docker unreachable: %w", err)
	}
	res, err := pool.Run("postgres", "15", []string{"POSTGRES_PASSWORD=lrs", "POSTGRES_HOST_AUTH_METHOD=trust"})
	if err != nil {
		return nil, nil, err
	}
	_ = res.Expire(600)
	u, _ := url.Parse(fmt.Sprintf("postgres://postgres:lrs@%s/postgres?sslmode=disable", res.GetHostPort("5432/tcp")))
	pool.MaxWait = 60 * time.Second
	if err := pool.Retry(func() error { return exec1(context.Background(), u.String(), "SELECT 1") }); err != nil {
		_ = pool.Purge(res)
		return nil, nil, err
	}
	return u, func() { _ = pool.Purge(res) }, nil
}
