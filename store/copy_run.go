package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// CopyOptions tune Copy.
type CopyOptions struct {
	// Batch is the most rows read and loaded at a time (default 1000).
	Batch int
	// Progress, if set, is called after each batch loaded.
	Progress func(CopyProgress)
}

// CopyProgress says how far a copy is in one table.
type CopyProgress struct {
	Table string // tenants, keys, envelopes, events, entities
	// Done is how many of the table's rows the target holds now, as far as
	// the copy knows (events: those it held at the start plus those loaded
	// since; other tables: rows of the source read and loaded so far).
	Done int64
	// Total is the source's row count when the copy started (0 for tenants
	// and keys, which are not counted).
	Total int64
	// Finished is set on the last call for the table.
	Finished bool
}

// CopyReport is what a copy did: rows read from the source and loaded
// (rows the target had already are kept as they were and counted too),
// and events loaded by this run.
type CopyReport struct {
	Tenants, Keys, Envelopes, Entities int64
	EventsLoaded                       int64
	EventsTotal                        int64 // events the target holds when the copy ends
}

// ErrNotCopyTarget: the store to copy into holds data of another store.
var ErrNotCopyTarget = errors.New("not a copy target")

// Copy copies everything src holds into dst: settings, tenants, API keys,
// envelopes, events and entities, with their ids, in batches (bounded
// memory), from one consistent snapshot of src. dst must be empty or an
// earlier (possibly interrupted) copy of src; anything else is
// ErrNotCopyTarget and nothing is written. Running it again loads only what
// is missing or changed, so a copy interrupted at any point is finished by
// running it again, with no duplicates. Events of transactions that were
// still running in src when the snapshot was taken are left to the next run.
func Copy(ctx context.Context, src, dst Backend, opt CopyOptions) (CopyReport, error) {
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.Progress == nil {
		opt.Progress = func(CopyProgress) {}
	}
	if err := src.PrepareCopy(ctx); err != nil {
		return CopyReport{}, fmt.Errorf("prepare source: %w", err)
	}
	state, err := dst.CopyState(ctx)
	if err != nil {
		return CopyReport{}, fmt.Errorf("read target: %w", err)
	}
	var rep CopyReport
	err = src.ReadSnapshot(ctx, func(snap Snapshot) error {
		c := &copier{snap: snap, dst: dst, opt: opt, state: state, rep: &rep}
		return c.run(ctx)
	})
	return rep, err
}

type copier struct {
	snap  Snapshot
	dst   Backend
	opt   CopyOptions
	state CopyState
	rep   *CopyReport
	total TableCounts
}

func (c *copier) run(ctx context.Context) error {
	settings, err := c.snap.Settings(ctx)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if err := checkCopyTarget(settings, c.state); err != nil {
		return err
	}
	if c.total, err = c.snap.Counts(ctx); err != nil {
		return fmt.Errorf("count source rows: %w", err)
	}
	if err := c.dst.Load(ctx, &Batch{Settings: settings}); err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	steps := []func(context.Context) error{c.tenants, c.keys, c.envelopes, c.events, c.entities}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// checkCopyTarget lets a copy go into an empty store, or into one holding
// the source's own envelope id key (an earlier copy of it).
func checkCopyTarget(settings []Setting, state CopyState) error {
	var srcKey, dstKey []byte
	for _, s := range settings {
		if s.Name == envelopeKeyName {
			srcKey = s.Value
		}
	}
	for _, s := range state.Settings {
		if s.Name == envelopeKeyName {
			dstKey = s.Value
		}
	}
	switch {
	case dstKey != nil && bytes.Equal(dstKey, srcKey):
		return nil // an earlier copy of this source
	case dstKey != nil:
		return fmt.Errorf("%w: the target holds another store's data (its envelope id key is not the source's); copy into an empty database", ErrNotCopyTarget)
	case state.Tenants > 0 || state.Counts.Envelopes > 0:
		return fmt.Errorf("%w: the target is not empty (%d tenants, %d envelopes) and is not a copy of the source; copy into an empty database",
			ErrNotCopyTarget, state.Tenants, state.Counts.Envelopes)
	}
	return nil
}

func (c *copier) progress(table string, done, total int64, finished bool) {
	c.opt.Progress(CopyProgress{Table: table, Done: done, Total: total, Finished: finished})
}

func (c *copier) tenants(ctx context.Context) error {
	var after int64
	for {
		rows, err := c.snap.Tenants(ctx, after, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read tenants: %w", err)
		}
		if len(rows) == 0 {
			c.progress("tenants", c.rep.Tenants, 0, true)
			return nil
		}
		if err := c.dst.Load(ctx, &Batch{Tenants: rows}); err != nil {
			return fmt.Errorf("load tenants: %w", err)
		}
		c.rep.Tenants += int64(len(rows))
		after = rows[len(rows)-1].ID
		c.progress("tenants", c.rep.Tenants, 0, false)
	}
}

func (c *copier) keys(ctx context.Context) error {
	var after int64
	for {
		rows, err := c.snap.Keys(ctx, after, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read keys: %w", err)
		}
		if len(rows) == 0 {
			c.progress("keys", c.rep.Keys, 0, true)
			return nil
		}
		if err := c.dst.Load(ctx, &Batch{Keys: rows}); err != nil {
			return fmt.Errorf("load keys: %w", err)
		}
		c.rep.Keys += int64(len(rows))
		after = rows[len(rows)-1].ID
		c.progress("keys", c.rep.Keys, 0, false)
	}
}

func (c *copier) envelopes(ctx context.Context) error {
	var after int64
	for {
		rows, err := c.snap.Envelopes(ctx, after, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read envelopes: %w", err)
		}
		if len(rows) == 0 {
			c.progress("envelopes", c.rep.Envelopes, c.total.Envelopes, true)
			return nil
		}
		if err := c.dst.Load(ctx, &Batch{Envelopes: rows}); err != nil {
			return fmt.Errorf("load envelopes: %w", err)
		}
		c.rep.Envelopes += int64(len(rows))
		after = rows[len(rows)-1].ID
		c.progress("envelopes", c.rep.Envelopes, c.total.Envelopes, false)
	}
}

// events copies each tenant's events in stored order, from after the last
// one the target has (an interrupted copy resumes there).
func (c *copier) events(ctx context.Context) error {
	have := c.state.Counts.Events
	var tenant int64
	for {
		tenants, err := c.snap.Tenants(ctx, tenant, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read tenants: %w", err)
		}
		if len(tenants) == 0 {
			break
		}
		for _, t := range tenants {
			if err := c.tenantEvents(ctx, t.ID, have); err != nil {
				return err
			}
		}
		tenant = tenants[len(tenants)-1].ID
	}
	c.rep.EventsTotal = have + c.rep.EventsLoaded
	c.progress("events", c.rep.EventsTotal, c.total.Events, true)
	return nil
}

func (c *copier) tenantEvents(ctx context.Context, tenant, have int64) error {
	var after *Position
	if last, ok := c.state.LastEvents[tenant]; ok {
		p, err := c.snap.EventPosition(ctx, tenant, last)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: the target holds event urn:uuid:%s of tenant %d, which the source does not: it was written to since the last copy",
				ErrNotCopyTarget, last, tenant)
		}
		if err != nil {
			return fmt.Errorf("find where tenant %d's events resume: %w", tenant, err)
		}
		after = &p
	}
	for {
		rows, err := c.snap.Events(ctx, tenant, after, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := c.dst.Load(ctx, &Batch{Events: rows}); err != nil {
			return fmt.Errorf("load events: %w", err)
		}
		c.rep.EventsLoaded += int64(len(rows))
		last := rows[len(rows)-1].Position
		after = &last
		c.progress("events", have+c.rep.EventsLoaded, c.total.Events, false)
	}
}

func (c *copier) entities(ctx context.Context) error {
	var after EntityKey
	for {
		rows, err := c.snap.Entities(ctx, after, c.opt.Batch)
		if err != nil {
			return fmt.Errorf("read entities: %w", err)
		}
		if len(rows) == 0 {
			c.progress("entities", c.rep.Entities, c.total.Entities, true)
			return nil
		}
		if err := c.dst.Load(ctx, &Batch{Entities: rows}); err != nil {
			return fmt.Errorf("load entities: %w", err)
		}
		c.rep.Entities += int64(len(rows))
		last := rows[len(rows)-1]
		after = EntityKey{TenantID: last.TenantID, ID: last.ID}
		c.progress("entities", c.rep.Entities, c.total.Entities, false)
	}
}
