package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest/synth"
)

// BenchmarkServeRSS runs a real `lrs serve` (the embedded store) and reports
// its peak resident memory under two loads: 1,000 concurrent clients posting
// single-event envelopes, and 8 concurrent 5 MiB envelopes (valid ones, and
// [0,0,…] bodies). LRS_BENCH_BINARY compares another build, e.g. an older one:
//
//	go test ./cmd/lrs -run '^$' -bench ServeRSS -benchtime 1x
//	LRS_BENCH_BINARY=/tmp/lrs-old go test ./cmd/lrs -run '^$' -bench ServeRSS -benchtime 1x
func BenchmarkServeRSS(b *testing.B) {
	bin := os.Getenv("LRS_BENCH_BINARY")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "lrs")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	}
	g := synth.New(synth.DefaultPopulation, 3)
	var valid []byte
	for n := 1000; ; n += 1000 {
		env := g.Envelope(n)
		if len(env) > 5<<20 {
			break
		}
		valid = env
	}
	singles := make([][]byte, 5000)
	for i := range singles {
		singles[i] = g.Envelope(1)
	}
	head := `{"sensor":"https://example.edu/s","sendTime":"2018-11-15T10:15:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[`
	zeros := []byte(head + strings.TrimSuffix(strings.Repeat("0,", (5<<20-len(head)-4)/2), ",") + "]}")
	loads := []struct {
		name string
		run  func(url, token string)
	}{
		{"1000_clients_single_event", func(url, token string) {
			var wg sync.WaitGroup
			for c := 0; c < 1000; c++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 5; i++ {
						post(url, token, singles[c*5+i])
					}
				}()
			}
			wg.Wait()
		}},
		{"8_valid_5MiB", func(url, token string) { parallel(8, func() { post(url, token, valid) }) }},
		{"8_zeros_5MiB", func(url, token string) { parallel(8, func() { post(url, token, zeros) }) }},
	}
	for _, load := range loads {
		b.Run(load.name, func(b *testing.B) {
			for b.Loop() {
				url, token, pid, stop := startBinary(b, bin)
				start := time.Now()
				load.run(url, token)
				b.ReportMetric(float64(vmHWM(b, pid))/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(time.Since(start).Seconds(), "load-s")
				stop()
				var seen []string
				statuses.Range(func(k, _ any) bool { seen = append(seen, strconv.Itoa(k.(int))); statuses.Delete(k); return true })
				b.Logf("%s: statuses %s", load.name, strings.Join(seen, ","))
				if len(seen) > 1 {
					b.Logf("server log tail: %.2000s", lastLog)
				}
			}
		})
	}
}

func parallel(n int, f func()) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}

var rssClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1000}, Timeout: time.Minute}

func post(url, token string, body []byte) {
	req, _ := http.NewRequest(http.MethodPost, url+"/caliper", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if res, err := rssClient.Do(req); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses.Store(res.StatusCode, true)
	} else {
		statuses.Store(0, true)
	}
}

// lastLog is the log of the last server stopped.
var lastLog string

// statuses collects the answers' status codes (0: a transport error).
var statuses sync.Map

// startBinary starts `bin serve` on a fresh embedded store and returns its
// URL, the first-start token, its pid and a stop function.
func startBinary(b *testing.B, bin string) (string, string, int, func()) {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn", "--admin-addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	var url, token string
	for sc.Scan() && (url == "" || token == "") {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "lrs_") {
			token = line
		}
		if i := strings.Index(line, "http://localhost:"); i >= 0 && url == "" {
			rest := line[i+len("http://"):]
			url = "http://" + rest[:strings.IndexAny(rest+" ", " /'")]
		}
	}
	go io.Copy(io.Discard, stdout)
	if url == "" || token == "" {
		cmd.Process.Kill()
		b.Fatalf("no URL or token printed; logs:\n%s", logs.String())
	}
	return url, token, cmd.Process.Pid, func() {
		cmd.Process.Kill()
		cmd.Wait()
		lastLog = logs.String()
	}
}

func vmHWM(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
