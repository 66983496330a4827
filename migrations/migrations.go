// Package migrations embeds the SQL schema migrations of every store backend.
// They are applied by golang-migrate; see store.Migrate.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations, named NNNNNN_name.up.sql / .down.sql.
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the embedded store's migrations.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
