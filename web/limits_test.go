package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/web"
)

// rawRequest writes head (and no body) on a new connection and returns the
// status line of the answer and how long it took to arrive.
func rawRequest(t *testing.T, base, head string) (string, time.Duration) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(line), time.Since(start)
}

// TestRefusedBeforeBody: a request refused for its token, type or size is
// answered at once, without waiting for a body that never comes.
func TestRefusedBeforeBody(t *testing.T) {
	b := setupOn(t, "sqlite")
	cases := []struct{ name, head, want string }{
		{"NoToken", "POST /caliper HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n", "401"},
		{"BadToken", "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n", "401"},
		{"WrongType", "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.token + "\r\nContent-Type: text/plain\r\nContent-Length: 200000\r\n\r\n", "415"},
		{"TooLong", "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.token + "\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n", "413"},
		{"Encoding", "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.token + "\r\nContent-Type: application/json\r\nContent-Encoding: br\r\nContent-Length: 2000\r\n\r\n", "415"},
		{"EdxNoToken", "POST /edx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n", "401"},
	}
	for _, tc := range cases {
		line, took := rawRequest(t, b.srv.URL, tc.head)
		if !strings.Contains(line, " "+tc.want+" ") || took > time.Second {
			t.Errorf("%s: %q after %v, want %s within a second", tc.name, line, took, tc.want)
		}
	}
}

func TestHeadWhereGet(t *testing.T) {
	b := setupOn(t, "sqlite")
	read := b.readToken(t)
	for _, path := range []string{"/healthz", "/readyz", "/ui/", "/caliper", "/api/openapi.json", "/api/v1/events", "/api/v1/stats?by=action"} {
		req, _ := http.NewRequest(http.MethodHead, b.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+read)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s: status %d, %d body bytes; want 200 and none", path, res.StatusCode, len(body))
		}
	}
}

// TestInflightBound: bodies past --max-inflight-bytes wait at most AdmitWait,
// then get 503 with Retry-After, before their bodies are read.
func TestInflightBound(t *testing.T) {
	limits := web.Limits{MaxInflightBytes: 1 << 20, AdmitWait: 200 * time.Millisecond}
	b := setupWith(t, "sqlite", web.Config{CaliperPath: "/caliper", MaxBody: 1 << 20, Limits: limits}, caliper.Strict)
	u, _ := url.Parse(b.srv.URL)
	// A slow upload announcing 900 KiB holds 900 KiB of the budget.
	slow, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", b.token, 900<<10)
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	body := envelope(event("f1000000-0000-4000-8000-000000000001"))
	padded := append(body[:len(body)-1:len(body)-1], append(bytes.Repeat([]byte(" "), 300<<10), '}')...)
	res := b.post(t, b.token, "application/json", padded)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || time.Since(start) > 2*time.Second {
		t.Fatalf("over the bound: status %d, Retry-After %q after %v; want 503 with Retry-After at once", res.StatusCode, res.Header.Get("Retry-After"), time.Since(start))
	}
	// A small body still fits beside the slow one.
	if res := b.post(t, b.token, "application/json", body); res.StatusCode != http.StatusOK {
		t.Fatalf("small body: status %d", res.StatusCode)
	}
	slow.Close()
	time.Sleep(100 * time.Millisecond)
	if res := b.post(t, b.token, "application/json", padded); res.StatusCode != http.StatusOK {
		t.Fatalf("after the slow upload went away: status %d", res.StatusCode)
	}
}

// peakRSS resets the process's peak resident size and returns a function
// that reads how far it rose above the size at the reset.
func peakRSS(t *testing.T) func() int64 {
	t.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS (/proc/self/clear_refs): %v", err)
	}
	base := procStatus(t, "VmRSS")
	return func() int64 { return procStatus(t, "VmHWM") - base }
}

func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// TestHostileBodiesMemory posts, 8 at a time, bodies shaped to cost memory
// and checks the process's peak RSS against the documented bound
// (docs/configuration.md: about 16 × --max-inflight-bytes above the base).
func TestHostileBodiesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("posts 5 MiB bodies")
	}
	const maxBody = 5 << 20
	limits := web.Limits{MaxInflightBytes: 16 << 20, AdmitWait: 30 * time.Second}
	b := setupWith(t, "sqlite", web.Config{CaliperPath: "/caliper", MaxBody: maxBody, Limits: limits}, caliper.Strict)
	head := `{"sensor":"https://example.edu/s","sendTime":"2018-11-15T10:15:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":`
	fill := func(open, unit, close string) []byte {
		n := (maxBody - len(head) - len(open) - len(close) - 1) / len(unit)
		return []byte(head + open + strings.TrimSuffix(strings.Repeat(unit, n), ",") + close + "}")
	}
	g := synth.New(synth.DefaultPopulation, 11)
	var valid []byte
	for n := 1000; ; n += 1000 {
		env := g.Envelope(n)
		if len(env) > maxBody {
			break
		}
		valid = env
	}
	cases := []struct {
		name   string
		body   []byte
		status int
	}{
		{"ManyNumbers", fill("[", "0,", "]"), http.StatusRequestEntityTooLarge},
		{"ManyEmptyArrays", fill("[", "[],", "]"), http.StatusRequestEntityTooLarge},
		{"Deep", []byte(head + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}"), http.StatusBadRequest},
		{"WideObject", fill(`[{"@context":"x",`, `"k`+strings.Repeat("x", 8)+`":1,`, `}]`), http.StatusBadRequest},
		{"ManyItems", valid, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			peak := peakRSS(t)
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := b.post(t, b.token, "application/json", tc.body)
					io.Copy(io.Discard, res.Body)
					statuses[i] = res.StatusCode
				}()
			}
			wg.Wait()
			for _, st := range statuses {
				if st != tc.status { // ManyItems: the copies after the first are duplicates, also 200
					t.Errorf("status %d, want %d", st, tc.status)
				}
			}
			rose := peak()
			bound := 16*limits.MaxInflightBytes + 64<<20
			t.Logf("%s: %d × %.1f MiB bodies, peak RSS +%d MiB (bound %d MiB)", tc.name, len(statuses), float64(len(tc.body))/(1<<20), rose>>20, bound>>20)
			if rose > bound {
				t.Errorf("peak RSS rose %d MiB, over the bound of %d MiB", rose>>20, bound>>20)
			}
		})
	}
}

// serveWithDeadline runs a server over b's store with a 500 ms shutdown
// deadline, logging to logw; stop asks it to stop, done gets Serve's result.
func serveWithDeadline(t *testing.T, b *bundle, logw io.Writer) (net.Listener, context.CancelFunc, chan error) {
	t.Helper()
	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: 5 << 20,
		Limits: web.Limits{ShutdownTimeout: 500 * time.Millisecond}},
		slog.New(slog.NewTextHandler(logw, nil)), b.deps())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return ln, stop, done
}

// stopWithinDeadline stops the server and wants Serve to return nil at about
// the 500 ms deadline.
func stopWithinDeadline(t *testing.T, stop context.CancelFunc, done chan error) {
	t.Helper()
	start := time.Now()
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v, want nil after cutting what was in flight", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("stopped after %v, want about the 500ms deadline", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10s of the stop: the request in flight was not cut")
	}
}

// TestShutdownDeadline: a stop with an upload stuck in flight returns within
// the deadline, without error, having stored nothing of the cut request.
func TestShutdownDeadline(t *testing.T) {
	b := setupOn(t, "sqlite")
	ln, stop, done := serveWithDeadline(t, b, io.Discard)

	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := envelope(event("f2000000-0000-4000-8000-000000000001"))
	fmt.Fprintf(slow, "POST /caliper HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		b.token, len(body), body[:len(body)-5])
	time.Sleep(200 * time.Millisecond)

	stopWithinDeadline(t, stop, done)
	if got := b.counts(t); got != [3]int{} {
		t.Errorf("stored %v of the cut upload, want nothing", got)
	}
}

// TestShutdownCutsStuckExport: an export whose client stopped reading is cut
// at the shutdown deadline, and Serve returns cleanly.
func TestShutdownCutsStuckExport(t *testing.T) {
	b := setupMax(t, "sqlite", 5<<20)
	g := synth.New(synth.DefaultPopulation, 5)
	for i := 0; i < 12; i++ {
		if res := b.post(t, b.token, "application/json", g.Envelope(1000)); res.StatusCode != http.StatusOK {
			t.Fatalf("seed envelope %d: status %d", i, res.StatusCode)
		}
	}
	read := b.readToken(t)
	var logs syncBuffer
	ln, stop, done := serveWithDeadline(t, b, &logs)

	// A client with a tiny receive window that reads nothing.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	stuck, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fmt.Fprintf(stuck, "GET /api/v1/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", read)
	time.Sleep(500 * time.Millisecond) // the export fills the socket buffers and blocks

	stopWithinDeadline(t, stop, done)
	if !strings.Contains(logs.String(), "shutdown deadline passed") || !strings.Contains(logs.String(), "GET /api/v1/export") {
		t.Errorf("the log does not say the export was cut:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
