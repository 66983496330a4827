package web_test

import (
	"bytes"
	"context"
	"net/url"
	"strconv"

	"github.com/lrs-dev/lrs/store"
)

// adminLiveCalls are TestOpenAPILiveResponses' calls of the admin API.
func adminLiveCalls(ls *liveServers) []liveCall {
	ctx := context.Background()
	_, admin, err := ls.db.CreateKey(ctx, "t1", "live admin", []string{store.ScopeAdmin})
	if err != nil {
		panic(err)
	}
	victim, _, err := ls.db.CreateKey(ctx, "t1", "to revoke", []string{store.ScopeRead})
	if err != nil {
		panic(err)
	}
	w := ls.token
	js := "application/json"
	ok := []byte(`{"label":"live","scopes":["read"],"expiresAt":"2099-01-01T00:00:00Z","rateLimit":5}`)
	return append([]liveCall{
		{srv: "main", method: "POST", path: "/api/v1/keys", token: admin, ctype: js, body: ok, status: 201},
		{srv: "main", method: "POST", path: "/api/v1/keys", token: admin, ctype: js, body: []byte(`{"scopes":["root"]}`), status: 400},
		{srv: "main", method: "POST", path: "/api/v1/keys", token: w, ctype: js, body: ok, status: 401},
		{srv: "main", method: "POST", path: "/api/v1/keys", token: admin, ctype: js, body: bytes.Repeat([]byte(" "), 65<<10), status: 413},
		{srv: "main", method: "POST", path: "/api/v1/keys", token: admin, ctype: "text/plain", body: ok, status: 415},
		{srv: "down", method: "POST", path: "/api/v1/keys", token: admin, ctype: js, body: ok, status: 503},
		{srv: "main", method: "GET", path: "/api/v1/keys", token: admin, status: 200},
		{srv: "main", method: "GET", path: "/api/v1/keys?all=1", token: admin, status: 400},
		{srv: "main", method: "GET", path: "/api/v1/keys", token: w, status: 401},
		{srv: "down", method: "GET", path: "/api/v1/keys", token: admin, status: 503},
		{srv: "main", method: "DELETE", path: "/api/v1/keys?id=" + strconv.FormatInt(victim.ID, 10), token: admin, status: 200},
		{srv: "main", method: "DELETE", path: "/api/v1/keys?id=x", token: admin, status: 400},
		{srv: "main", method: "DELETE", path: "/api/v1/keys?id=1", status: 401},
		{srv: "main", method: "DELETE", path: "/api/v1/keys?id=999999", token: admin, status: 404},
		{srv: "down", method: "DELETE", path: "/api/v1/keys?id=1", token: admin, status: 503},
		{srv: "limited", method: "GET", path: "/api/v1/keys", token: admin, status: 200},
		{srv: "limited", method: "GET", path: "/api/v1/keys", token: admin, status: 429},
		{srv: "limited", method: "POST", path: "/api/v1/keys", token: admin, ctype: js, body: ok, status: 429},
		{srv: "limited", method: "DELETE", path: "/api/v1/keys?id=1", token: admin, status: 429},
		{srv: "main", method: "DELETE", path: "/api/v1/actors?id=" + url.QueryEscape("https://example.edu/users/none") + "&dry_run=true", token: admin, status: 200},
		{srv: "main", method: "DELETE", path: "/api/v1/actors?id=https://example.edu/users/none", token: admin, status: 200},
		{srv: "main", method: "DELETE", path: "/api/v1/actors?id=nope", token: admin, status: 400},
		{srv: "main", method: "DELETE", path: "/api/v1/actors?id=https://example.edu/users/none", token: w, status: 401},
		{srv: "down", method: "DELETE", path: "/api/v1/actors?id=https://example.edu/users/none", token: admin, status: 503},
		{srv: "limited", method: "DELETE", path: "/api/v1/actors?id=https://example.edu/users/none", token: admin, status: 429},
		{srv: "async", method: "DELETE", path: "/api/v1/actors?id=https://example.edu/users/async", token: admin, status: 202},
		{srv: "main", method: "GET", path: "/api/v1/erasures", token: admin, status: 200},
		{srv: "main", method: "GET", path: "/api/v1/erasures?limit=1", token: admin, status: 400},
		{srv: "main", method: "GET", path: "/api/v1/erasures", token: w, status: 401},
		{srv: "limited", method: "GET", path: "/api/v1/erasures", token: admin, status: 429},
		{srv: "down", method: "GET", path: "/api/v1/erasures", token: admin, status: 503},
		{srv: "main", method: "GET", path: "/api/v1/erasures/1", token: admin, status: 200},
		{srv: "main", method: "GET", path: "/api/v1/erasures/99999", token: admin, status: 404},
		{srv: "main", method: "GET", path: "/api/v1/erasures/1", token: w, status: 401},
		{srv: "limited", method: "GET", path: "/api/v1/erasures/1", token: admin, status: 429},
		{srv: "down", method: "GET", path: "/api/v1/erasures/1", token: admin, status: 503},
	}, forwardLiveCalls(ls, admin)...)
}
