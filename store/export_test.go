package store

import "context"

// Hooks for the external tests of this package.
var (
	TranslatePostgres = translate
	TranslateSQLite   = translateSQLite
)

// HoldConns takes every connection of s's pool until release is called,
// as a burst of slow requests would.
func HoldConns(t interface{ Fatal(...any) }, s *Postgres) (release func()) {
	var held []interface{ Release() }
	for i := int32(0); i < s.pool.Config().MaxConns; i++ {
		c, err := s.pool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	return func() {
		for _, c := range held {
			c.Release()
		}
	}
}
