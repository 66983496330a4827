package forward

import (
	"context"
	"math"
	"net/url"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// View is a forwarder as the API and the CLI show it: its settings without
// the credentials' values, and its delivery status.
type View struct {
	ID        int64     `json:"id"`
	Tenant    string    `json:"tenant"`
	Kind      string    `json:"kind"`
	URL       string    `json:"url"`
	Filter    string    `json:"filter"`
	Batch     int       `json:"batch"`
	MaxWait   string    `json:"maxWait"`
	OnReject  string    `json:"onReject"`
	Paused    bool      `json:"paused"`
	Auth      AuthView  `json:"auth"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Status    Status    `json:"status"`
}

// AuthView says which credentials are set, never their values.
type AuthView struct {
	Token  bool   `json:"token"`
	Header string `json:"header,omitempty"` // the header's name
	Secret bool   `json:"secret"`
	Error  string `json:"error,omitempty"` // the credentials cannot be opened
}

// Status is how far a forwarder has delivered.
type Status struct {
	// State: paused, delivering (a node holds the lease), retrying (the
	// last attempt failed) or waiting (no node delivers: is lrs serve
	// running?).
	State string `json:"state"`
	// Position is an ascending cursor just after the last event
	// acknowledged (or skipped by the filter): GET
	// /api/v1/events?ascending=true with the same filter resumes there.
	Position      string     `json:"position"`
	EventsBehind  int64      `json:"eventsBehind"`  // the tenant's events after the position, before the filter
	SecondsBehind float64    `json:"secondsBehind"` // since the oldest of them was stored
	Delivered     int64      `json:"delivered"`
	Attempts      int        `json:"attempts"` // failed attempts at the current batch
	LastSuccessAt *time.Time `json:"lastSuccessAt,omitempty"`
	LastErrorAt   *time.Time `json:"lastErrorAt,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	DeadLetters   int64      `json:"deadLetters"` // not replayed
	Node          string     `json:"node,omitempty"`
	LeaseUntil    *time.Time `json:"leaseUntil,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Service) view(ctx context.Context, f store.Forwarder) (View, error) {
	v := View{ID: f.ID, Tenant: f.Tenant, Kind: f.Kind, URL: f.URL, Filter: f.Filter, Batch: f.Batch, MaxWait: f.MaxWait.String(),
		OnReject: f.OnReject, Paused: f.Paused, CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC()}
	if c, err := s.seal.Open(f.Credentials); err != nil {
		v.Auth.Error = err.Error()
	} else {
		v.Auth = AuthView{Token: c.Token != "", Header: headerName(c.Header), Secret: c.Secret != ""}
	}
	params, _ := url.ParseQuery(f.Filter) // checked when stored
	n, oldest, err := s.st.ForwardBacklog(ctx, f.TenantID, f.Position)
	if err != nil {
		return View{}, err
	}
	now := time.Now()
	st := Status{Position: query.ForwardCursor(params, f.TenantID, f.Position), EventsBehind: n, Delivered: f.Delivered,
		Attempts: f.Attempts, LastSuccessAt: timePtr(f.LastSuccessAt), LastErrorAt: timePtr(f.LastErrorAt), LastError: f.LastError,
		DeadLetters: f.DeadLetters}
	if !oldest.IsZero() {
		st.SecondsBehind = math.Round(max(0, now.Sub(oldest).Seconds())*1000) / 1000
	}
	if f.LeaseUntil.After(now) {
		st.Node, st.LeaseUntil = f.LeaseOwner, timePtr(f.LeaseUntil)
	}
	switch {
	case f.Paused:
		st.State = "paused"
	case st.Node == "":
		st.State = "waiting"
	case f.Attempts > 0:
		st.State = "retrying"
	default:
		st.State = "delivering"
	}
	v.Status = st
	return v, nil
}

// DeadLetterView is a dead letter as the API and the CLI show it.
type DeadLetterView struct {
	ID int64 `json:"id"`
	// After and Last are ascending cursors: the batch is the events after
	// After up to Last that the filter selects.
	After             string     `json:"after"`
	Last              string     `json:"last"`
	Events            int        `json:"events"`
	Status            int        `json:"status"`   // the receiver's answer
	Response          string     `json:"response"` // its body (up to 64 KiB)
	CreatedAt         time.Time  `json:"createdAt"`
	State             string     `json:"state"` // parked, replaying or replayed
	ReplayRequestedAt *time.Time `json:"replayRequestedAt,omitempty"`
	ReplayedAt        *time.Time `json:"replayedAt,omitempty"`
}

func deadLetterView(f store.Forwarder, d store.DeadLetter) DeadLetterView {
	params, _ := url.ParseQuery(f.Filter)
	v := DeadLetterView{ID: d.ID, After: query.ForwardCursor(params, f.TenantID, d.After), Last: query.ForwardCursor(params, f.TenantID, d.Last),
		Events: d.Events, Status: d.Status, Response: d.Response, CreatedAt: d.CreatedAt.UTC(),
		ReplayRequestedAt: timePtr(d.ReplayRequestedAt), ReplayedAt: timePtr(d.ReplayedAt), State: "parked"}
	switch {
	case d.ReplayPending():
		v.State = "replaying"
	case !d.ReplayedAt.IsZero():
		v.State = "replayed"
	}
	return v
}

// DeadLetters lists the dead letters of one of the tenant's forwarders.
func (s *Service) DeadLetters(ctx context.Context, tenantID, id int64) ([]DeadLetterView, error) {
	f, err := s.st.Forwarder(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	dls, err := s.st.DeadLetters(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetterView, 0, len(dls))
	for _, d := range dls {
		out = append(out, deadLetterView(f, d))
	}
	return out, nil
}

// Replay asks the delivering node to send a dead letter's events again.
func (s *Service) Replay(ctx context.Context, tenantID, id, deadLetter int64) (DeadLetterView, error) {
	f, err := s.st.Forwarder(ctx, tenantID, id)
	if err != nil {
		return DeadLetterView{}, err
	}
	d, err := s.st.ReplayDeadLetter(ctx, tenantID, id, deadLetter)
	if err != nil {
		return DeadLetterView{}, err
	}
	return deadLetterView(f, d), nil
}
