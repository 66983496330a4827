package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lrs-dev/lrs/store"
)

// class names what translate made of an error.
func class(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, store.ErrOutcomeUnknown):
		return "outcome-unknown"
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, store.ErrNotFound):
		return "not-found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	}
	return "other"
}

func TestTranslatePostgres(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("insert events: %w", &pgconn.PgError{Code: code, Message: "m"})
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"NoRows", pgx.ErrNoRows, "not-found"},
		{"UniqueViolation", pg("23505"), "conflict"},
		{"AdminShutdown", pg("57P01"), "unavailable"},
		{"CrashShutdown", pg("57P02"), "unavailable"},
		{"CannotConnectNow", pg("57P03"), "unavailable"},
		{"TooManyConnections", pg("53300"), "unavailable"},
		{"DiskFull", pg("53100"), "unavailable"},
		{"ConnectionFailure", pg("08006"), "unavailable"},
		{"SerializationFailure", pg("40001"), "unavailable"},
		{"ReadOnlyTransaction", pg("25006"), "unavailable"},
		{"UntranslatableCharacter", pg("22P05"), "other"},
		{"IndexRowTooBig", pg("54000"), "other"},
		{"UnexpectedEOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "unavailable"},
		{"ConnectionRefused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, "unavailable"},
		{"ConnectionReset", fmt.Errorf("x: %w", syscall.ECONNRESET), "unavailable"},
		{"ConnClosed", pgconn.ErrConnClosed, "unavailable"},
		{"Canceled", context.Canceled, "other"},
		{"Bug", errors.New("scan: bad"), "other"},
		{"AlreadyTranslated", store.TranslatePostgres(pg("57P01")), "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := store.TranslatePostgres(tc.err)
			if c := class(got); c != tc.want {
				t.Errorf("translate(%v) = %v (%s), want %s", tc.err, got, c, tc.want)
			}
			if tc.want != "not-found" && !strings.Contains(got.Error(), strings.TrimPrefix(tc.err.Error(), "storage unavailable: ")) {
				t.Errorf("translate lost the cause: %q from %q", got, tc.err)
			}
		})
	}
}

// TestPostgresDown: a server that refuses connections is ErrUnavailable.
func TestPostgresDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := store.OpenPostgres(ctx, "postgres://lrs@"+addr+"/lrs?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
	_, err = db.SaveEnvelope(ctx, &store.Envelope{TenantID: 1, SendTime: time.Now()})
	if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrOutcomeUnknown) {
		t.Errorf("SaveEnvelope = %v, want ErrUnavailable (outcome known: nothing sent)", err)
	}
}

// TestTranslateSQLite produces each SQLite failure for real and checks its class.
func TestTranslateSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	open := func(pragmas ...string) *sql.DB {
		t.Helper()
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)"
		for _, p := range pragmas {
			dsn += "&_pragma=" + p
		}
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	ctx := context.Background()
	a := open("busy_timeout(0)")
	if _, err := a.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)`); err != nil {
		t.Fatal(err)
	}

	t.Run("Unique", func(t *testing.T) {
		_, err := a.Exec(`INSERT INTO t (id) VALUES (1), (1)`)
		if c := class(store.TranslateSQLite(err)); c != "conflict" {
			t.Errorf("duplicate key: %v is %s, want conflict", err, c)
		}
	})
	t.Run("Busy", func(t *testing.T) {
		b := open("busy_timeout(0)")
		conn, err := a.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, `ROLLBACK`) //nolint:errcheck
		_, err = b.Exec(`INSERT INTO t (b) VALUES (x'00')`)
		if c := class(store.TranslateSQLite(err)); c != "unavailable" {
			t.Errorf("locked database: %v is %s, want unavailable", err, c)
		}
	})
	t.Run("Full", func(t *testing.T) {
		// max_page_count caps the file: SQLite then answers SQLITE_FULL,
		// exactly as for a full disk.
		if _, err := a.Exec(`PRAGMA max_page_count = 20`); err != nil {
			t.Fatal(err)
		}
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			_, err = a.Exec(`INSERT INTO t (b) VALUES (randomblob(4000))`)
		}
		if err == nil || !strings.Contains(err.Error(), "full") {
			t.Fatalf("no SQLITE_FULL after 100 inserts: %v", err)
		}
		if c := class(store.TranslateSQLite(err)); c != "unavailable" {
			t.Errorf("full database: %v is %s, want unavailable", err, c)
		}
	})
	t.Run("NoRows", func(t *testing.T) {
		err := a.QueryRow(`SELECT id FROM t WHERE id = -1`).Scan(new(int))
		if c := class(store.TranslateSQLite(err)); c != "not-found" {
			t.Errorf("no rows: %v is %s, want not-found", err, c)
		}
	})
	t.Run("Other", func(t *testing.T) {
		_, err := a.Exec(`SELECT * FROM missing`)
		if c := class(store.TranslateSQLite(err)); c != "other" {
			t.Errorf("bad SQL: %v is %s, want other", err, c)
		}
	})
}
