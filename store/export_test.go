package store

// Hooks for the external tests of this package.
var (
	TranslatePostgres = translate
	TranslateSQLite   = translateSQLite
)
