package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/web"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var cfg config
	fs := newFlagSet("serve", stderr)
	cfg.serveFlags(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(true); err != nil {
		return err
	}
	log := newLogger(&cfg, stderr)

	if cfg.Migrate {
		if err := store.MigrateUp(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
	}
	db, err := store.OpenPostgres(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.SchemaStatus(ctx)
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if !st.Current() {
		return errors.New(st.Problem())
	}

	mode, _ := ingest.ParseMode(cfg.Validation) // checked by validate
	svc := ingest.NewService(db, ingest.NewValidator(mode))
	srv := web.NewServer(web.Config{
		CaliperPath:     cfg.CaliperPath,
		MaxBody:         int64(cfg.MaxBody),
		AcceptBareToken: cfg.AcceptBareToken,
	}, log, web.Deps{Ingest: svc, Keys: db, Health: db, Query: query.NewService(db), Lookups: db})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("caliper_path", cfg.CaliperPath), slog.String("validation", mode.String()), slog.Uint64("schema_version", uint64(st.Version)))
	err = srv.Serve(ctx, ln)
	log.Info("stopped")
	return err
}
