package web_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/lrs-dev/lrs/forward"
	"github.com/lrs-dev/lrs/store"
)

// liveForwarding is the forwarders' service of the live check's servers.
func liveForwarding(db forward.Store) *forward.Service {
	seal, err := forward.NewSealer([]byte("live check forwarder key"))
	if err != nil {
		panic(err)
	}
	return forward.NewService(db, seal)
}

// forwardLiveCalls cover every answer of /api/v1/forwarders: a forwarder
// to read, change and replay a dead letter of, and one to delete.
func forwardLiveCalls(ls *liveServers, admin string) []liveCall {
	ctx := context.Background()
	svc := liveForwarding(ls.db)
	tenant := ls.tenant
	keep, err := svc.Create(ctx, tenant, forward.Spec{Kind: "webhook", URL: "https://example.edu/hook", Secret: "0123456789abcdef", Filter: "action=Viewed"})
	if err != nil {
		panic(err)
	}
	gone, err := svc.Create(ctx, tenant, forward.Spec{Kind: "caliper", URL: "https://example.edu/caliper", Token: "t"})
	if err != nil {
		panic(err)
	}
	if _, held, err := ls.db.LeaseForwarder(ctx, keep.ID, "live", time.Minute); err != nil || !held {
		panic(fmt.Sprint(held, err))
	}
	now := time.Now()
	if err := ls.db.AdvanceForwarder(ctx, keep.ID, "live", store.ForwardProgress{Position: store.Position{Seq: 1}, At: now, LeaseUntil: now,
		DeadLetter: &store.DeadLetter{Last: store.Position{Seq: 1}, Events: 1, Status: 400, Response: "no"}}); err != nil {
		panic(err)
	}
	dls, err := ls.db.DeadLetters(ctx, tenant, keep.ID)
	if err != nil || len(dls) != 1 {
		panic(fmt.Sprint(dls, err))
	}
	w, js := ls.token, "application/json"
	one := fmt.Sprintf("/api/v1/forwarders/%d", keep.ID)
	replay := fmt.Sprintf("%s/dead-letters/%d/replay", one, dls[0].ID)
	ok := []byte(`{"kind":"webhook","url":"https://example.edu/h2","secret":"0123456789abcdef","filter":"course=c1","from":"beginning","batch":50,"maxWait":"2s"}`)
	big := bytes.Repeat([]byte(" "), 65<<10)
	var calls []liveCall
	for _, c := range []struct {
		method, path string
		body         []byte
		ok, bad      int
	}{
		{"POST", "/api/v1/forwarders", ok, 201, 0},
		{"GET", "/api/v1/forwarders", nil, 200, 0},
		{"GET", one, nil, 200, 0},
		{"PATCH", one, []byte(`{"paused":true,"batch":10}`), 200, 0},
		{"GET", one + "/dead-letters", nil, 200, 0},
		{"POST", replay, nil, 202, 0},
		{"DELETE", fmt.Sprintf("/api/v1/forwarders/%d", gone.ID), nil, 204, 0},
	} {
		ct := ""
		if c.body != nil {
			ct = js
		}
		calls = append(calls,
			liveCall{srv: "main", method: c.method, path: c.path, token: admin, ctype: ct, body: c.body, status: c.ok},
			liveCall{srv: "main", method: c.method, path: c.path + "?x=1", token: admin, ctype: ct, body: c.body, status: 400},
			liveCall{srv: "main", method: c.method, path: c.path, token: w, ctype: ct, body: c.body, status: 401},
			liveCall{srv: "down", method: c.method, path: c.path, token: admin, ctype: ct, body: c.body, status: 503},
			liveCall{srv: "limited", method: c.method, path: c.path, token: admin, ctype: ct, body: c.body, status: 429})
		if c.body != nil {
			calls = append(calls,
				liveCall{srv: "main", method: c.method, path: c.path, token: admin, ctype: js, body: []byte(`{"batch":"many"}`), status: 400},
				liveCall{srv: "main", method: c.method, path: c.path, token: admin, ctype: js, body: big, status: 413},
				liveCall{srv: "main", method: c.method, path: c.path, token: admin, ctype: "text/plain", body: c.body, status: 415})
		}
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/forwarders/999999"}, {"PATCH", "/api/v1/forwarders/999999"}, {"DELETE", "/api/v1/forwarders/999999"},
		{"GET", "/api/v1/forwarders/999999/dead-letters"}, {"POST", one + "/dead-letters/999999/replay"},
	} {
		var body []byte
		ct := ""
		if c.method == "PATCH" {
			body, ct = []byte(`{"paused":false}`), js
		}
		calls = append(calls, liveCall{srv: "main", method: c.method, path: c.path, token: admin, ctype: ct, body: body, status: 404})
	}
	return calls
}
