package forward

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// Store is what managing forwarders asks of a backend.
type Store interface {
	CreateForwarder(ctx context.Context, f store.Forwarder) (store.Forwarder, error)
	Forwarders(ctx context.Context, tenantID int64) ([]store.Forwarder, error)
	Forwarder(ctx context.Context, tenantID, id int64) (store.Forwarder, error)
	UpdateForwarder(ctx context.Context, tenantID, id int64, u store.ForwarderUpdate) (store.Forwarder, error)
	DeleteForwarder(ctx context.Context, tenantID, id int64) error
	DeadLetters(ctx context.Context, tenantID, forwarderID int64) ([]store.DeadLetter, error)
	ReplayDeadLetter(ctx context.Context, tenantID, forwarderID, id int64) (store.DeadLetter, error)
	ForwardBacklog(ctx context.Context, tenantID int64, after store.Position) (int64, time.Time, error)
	StreamHead(ctx context.Context, tenantID int64) (store.Position, error)
}

// Service manages a store's forwarders for the API and the CLI: it checks
// settings, seals credentials and reports status. Errors are *FieldError
// for settings that cannot be used, store.ErrNotFound for a forwarder (or
// dead letter) the tenant does not have.
type Service struct {
	st   Store
	seal *Sealer
}

// NewService returns a service over st sealing credentials with seal.
func NewService(st Store, seal *Sealer) *Service { return &Service{st: st, seal: seal} }

// Create checks spec and stores a new forwarder of the tenant.
func (s *Service) Create(ctx context.Context, tenantID int64, spec Spec) (View, error) {
	if err := spec.check(); err != nil {
		return View{}, err
	}
	_, params, err := filterOf(spec.Filter, tenantID)
	if err != nil {
		return View{}, err
	}
	pos, err := s.start(ctx, tenantID, params, spec.From)
	if err != nil {
		return View{}, err
	}
	sealed, err := s.seal.Seal(Credentials{Token: spec.Token, Header: spec.Header, Secret: spec.Secret})
	if err != nil {
		return View{}, err
	}
	f, err := s.st.CreateForwarder(ctx, store.Forwarder{TenantID: tenantID, Kind: spec.Kind, URL: spec.URL, Filter: params.Encode(),
		Credentials: sealed, Batch: spec.Batch, MaxWait: *spec.MaxWait, OnReject: spec.OnReject, Paused: spec.Paused, Position: pos})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, f)
}

// filterOf reads a forwarder's filter; a *FieldError for "filter".
func filterOf(filter string, tenantID int64) (store.EventFilter, url.Values, error) {
	f, params, err := query.ForwardFilter(filter, tenantID)
	var pe *query.ParamError
	if errors.As(err, &pe) {
		return f, nil, &FieldError{"filter", pe.Error()}
	}
	return f, params, err
}

// start reads where a new forwarder starts: now (the tenant's stream head),
// beginning, or an ascending cursor made with the same filter.
func (s *Service) start(ctx context.Context, tenantID int64, params url.Values, from string) (store.Position, error) {
	switch from {
	case "", "now":
		return s.st.StreamHead(ctx, tenantID)
	case "beginning":
		return store.Position{}, nil
	}
	pos, err := query.ForwardPosition(params, tenantID, from)
	var pe *query.ParamError
	if errors.As(err, &pe) {
		return pos, &FieldError{"from", "must be now, beginning or an ascending cursor of the read API with the same filter: the cursor " + pe.Message}
	}
	return pos, err
}

// List returns the tenant's forwarders with their status, oldest first.
func (s *Service) List(ctx context.Context, tenantID int64) ([]View, error) {
	fs, err := s.st.Forwarders(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(fs))
	for _, f := range fs {
		v, err := s.view(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Get returns one of the tenant's forwarders with its status.
func (s *Service) Get(ctx context.Context, tenantID, id int64) (View, error) {
	f, err := s.st.Forwarder(ctx, tenantID, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, f)
}

// Delete deletes one of the tenant's forwarders and its dead letters.
func (s *Service) Delete(ctx context.Context, tenantID, id int64) error {
	return s.st.DeleteForwarder(ctx, tenantID, id)
}

// Update applies p to one of the tenant's forwarders.
func (s *Service) Update(ctx context.Context, tenantID, id int64, p Patch) (View, error) {
	f, err := s.st.Forwarder(ctx, tenantID, id)
	if err != nil {
		return View{}, err
	}
	u := store.ForwarderUpdate{URL: p.URL, Batch: p.Batch, MaxWait: p.MaxWait, OnReject: p.OnReject, Paused: p.Paused}
	if p.URL != nil {
		if err := checkURL(*p.URL); err != nil {
			return View{}, err
		}
	}
	if p.Batch != nil {
		if err := checkBatch(*p.Batch); err != nil {
			return View{}, err
		}
	}
	if p.MaxWait != nil {
		if err := checkMaxWait(*p.MaxWait); err != nil {
			return View{}, err
		}
	}
	if p.OnReject != nil {
		if err := checkOnReject(*p.OnReject); err != nil {
			return View{}, err
		}
	}
	if p.Filter != nil {
		_, params, err := filterOf(*p.Filter, tenantID)
		if err != nil {
			return View{}, err
		}
		enc := params.Encode()
		u.Filter = &enc
	}
	if p.Token != nil || p.Header != nil || p.Secret != nil {
		sealed, err := s.patchCredentials(f, p)
		if err != nil {
			return View{}, err
		}
		u.Credentials = &sealed
	}
	f, err = s.st.UpdateForwarder(ctx, tenantID, id, u)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, f)
}

func (s *Service) patchCredentials(f store.Forwarder, p Patch) ([]byte, error) {
	c, err := s.seal.Open(f.Credentials)
	if err != nil && !errors.Is(err, ErrOtherKey) {
		return nil, err
	}
	if err != nil { // sealed with another key: what is given replaces all
		c = Credentials{}
	}
	for _, set := range []struct {
		v   *string
		dst *string
	}{{p.Token, &c.Token}, {p.Header, &c.Header}, {p.Secret, &c.Secret}} {
		if set.v != nil {
			*set.dst = *set.v
		}
	}
	if err := checkCredentials(f.Kind, c); err != nil {
		return nil, err
	}
	return s.seal.Seal(c)
}

// headerName is the name part of "Name: value".
func headerName(h string) string {
	name, _, _ := strings.Cut(h, ":")
	return strings.TrimSpace(name)
}
