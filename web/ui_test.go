package web_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/lrs-dev/lrs/store/storetest"
)

// get fetches url with optional header pairs and returns the response and body.
func uiGet(t *testing.T, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// checkUIHeaders: the strict policy on every UI response.
func checkUIHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data: ", "blob:"} {
		if strings.Contains(strings.ReplaceAll(csp, "img-src 'self' data:", ""), bad) {
			t.Errorf("%s: CSP %q allows %q", what, csp, bad)
		}
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if h.Get(k) != v {
			t.Errorf("%s: %s = %q, want %q", what, k, h.Get(k), v)
		}
	}
}

// TestUI checks what the browser tests cannot see wrong on their own: the
// headers of every UI file, a page without inline code (the policy forbids
// it, so it would silently not run), assets that resolve with the right
// types, and scripts that never build markup from strings.
func TestUI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b := setupOn(t, kind)
		for _, p := range []string{"/", "/ui"} {
			res, _ := uiGet(t, b.srv.URL+p)
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
				t.Errorf("GET %s: %d to %q", p, res.StatusCode, res.Header.Get("Location"))
			}
		}
		res, page := uiGet(t, b.srv.URL+"/ui/")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET /ui/: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
		checkUIHeaders(t, "/ui/", res.Header)
		assets := checkNoInlineCode(t, page)
		if len(assets) < 4 {
			t.Errorf("page loads %v; want the style sheets, uPlot and the main module", assets)
		}

		// Every asset the page names, and every module those import.
		types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
		imports := regexp.MustCompile(`(?:from|import\()\s*"\./([a-z]+\.js)"`)
		seen := map[string]bool{}
		for len(assets) > 0 {
			a := assets[0]
			assets = assets[1:]
			if seen[a] {
				continue
			}
			seen[a] = true
			res, body := uiGet(t, b.srv.URL+"/ui/"+a)
			ext := a[strings.LastIndex(a, "."):]
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != types[ext] || len(body) == 0 {
				t.Errorf("GET /ui/%s: %d %q, %d bytes", a, res.StatusCode, res.Header.Get("Content-Type"), len(body))
				continue
			}
			checkUIHeaders(t, a, res.Header)
			if etag := res.Header.Get("ETag"); etag == "" {
				t.Errorf("%s: no ETag", a)
			} else if again, _ := uiGet(t, b.srv.URL+"/ui/"+a, "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
				t.Errorf("%s with If-None-Match: %d, want 304", a, again.StatusCode)
			}
			if ext != ".js" || strings.HasPrefix(a, "vendor/") {
				continue
			}
			for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"style\"", "localStorage"} {
				if bytes.Contains(body, []byte(bad)) {
					t.Errorf("%s uses %s: text from events must never become markup or code, and the token only lives in sessionStorage", a, bad)
				}
			}
			dir := a[:strings.LastIndex(a, "/")+1]
			for _, m := range imports.FindAllSubmatch(body, -1) {
				assets = append(assets, dir+string(m[1]))
			}
		}
		if len(seen) < 8 {
			t.Errorf("only %d UI files reachable from the page: %v", len(seen), seen)
		}

		for _, p := range []string{"/ui/nothing.js", "/ui/js/", "/ui/../go.mod"} {
			if res, _ := uiGet(t, b.srv.URL+p); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
			}
		}
		if res, _ := uiGet(t, b.srv.URL+"/ui/?token=x"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /ui/?token=x: %d, want 400 (the UI takes no parameters; state lives after #)", res.StatusCode)
		}
	})
}

// checkNoInlineCode fails on inline scripts, style elements, style
// attributes, event-handler attributes and javascript: URLs, and returns the
// local files the page loads (scripts and style sheets).
func checkNoInlineCode(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var assets []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
					t.Errorf("<%s %s=%q>: inline code or style", n.Data, a.Key, a.Val)
				}
				if strings.HasPrefix(strings.TrimSpace(strings.ToLower(a.Val)), "javascript:") {
					t.Errorf("<%s %s=%q>: javascript: URL", n.Data, a.Key, a.Val)
				}
			}
			switch n.Data {
			case "style":
				t.Errorf("<style> element in the page")
			case "script":
				if attrs["src"] == "" || n.FirstChild != nil {
					t.Errorf("inline <script>")
				}
				assets = append(assets, attrs["src"])
			case "link":
				if attrs["rel"] == "stylesheet" {
					assets = append(assets, attrs["href"])
				}
			}
			for _, src := range []string{attrs["src"], attrs["href"]} {
				if strings.Contains(src, "//") {
					t.Errorf("<%s> loads %q from elsewhere; the UI is self-contained", n.Data, src)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return assets
}
