package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
)

func TestUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(b.srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
			t.Errorf("GET /: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, err = http.Get(b.srv.URL + "/ui/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		page, _ := io.ReadAll(res.Body)
		for _, want := range []string{`id="token"`, "/api/v1/events?", "/api/v1/stats?", "/api/v1/export?format=ndjson"} {
			if !strings.Contains(string(page), want) {
				t.Errorf("UI page lacks %q", want)
			}
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("UI headers: %v", res.Header)
		}
	})
}
