package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/follow"
	"github.com/lrs-dev/lrs/ingest/importer"
)

// runFollow is 'lrs import --follow': it tails the logs named by paths
// until ctx ends (SIGTERM, SIGINT), storing each batch and then its
// checkpoint in db, and prints the summary of what it stored.
func runFollow(ctx context.Context, paths []string, sinkName string, db follow.Checkpoints, send follow.Sender,
	stats func() *importer.Stats, log *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	var (
		mu    sync.Mutex
		lines int64
		last  = time.Now()
	)
	f := follow.New(follow.Config{Paths: paths, Sink: sinkName, Log: log, Stored: func(source string, n int64) {
		mu.Lock()
		defer mu.Unlock()
		lines += n
		if time.Since(last) >= 10*time.Second {
			last = time.Now()
			log.Info("follow: stored", "lines", lines)
		}
	}}, db, send)
	log.Info("follow: started", "paths", paths, "sink", sinkName)
	if err := f.Run(ctx); err != nil {
		return err
	}
	if s := stats(); s != nil {
		s.WriteSummary(stdout)
	}
	fmt.Fprintf(stdout, "followed for %s: %d lines stored\n", time.Since(start).Round(time.Millisecond), lines)
	return nil
}

// importSender stores batches through an Importer: transformed here, into
// the local store or a Caliper endpoint. A batch that fails is sent again
// by a fresh Importer that keeps the counts.
type importSender struct {
	im   *importer.Importer
	make func() *importer.Importer
}

func (s *importSender) Send(ctx context.Context, source string, first int64, lines []byte) error {
	err := s.im.ImportChunk(ctx, source, first, bytes.NewReader(lines))
	if ferr := s.im.Flush(ctx); err == nil {
		err = ferr
	}
	if err != nil {
		next := s.make()
		next.Stats = s.im.Stats
		s.im = next
	}
	return err
}

// edxSender posts raw lines to a remote lrs's POST /edx, which transforms
// them. A batch refused as a whole (a line whose event fails validation, a
// body too large) is split and sent in halves, down to the line at fault,
// which is reported and skipped.
type edxSender struct {
	url, token string
	client     *http.Client
	log        *slog.Logger
	stats      importer.Stats
}

func (s *edxSender) Send(ctx context.Context, source string, first int64, lines []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(lines))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	switch {
	case res.StatusCode == http.StatusOK:
		var sum struct {
			Stored, Duplicates int
			edx.Summary
		}
		if err := json.Unmarshal(body, &sum); err != nil {
			return fmt.Errorf("%s: unreadable answer: %w", s.url, err)
		}
		s.stats.Lines += sum.Lines
		s.stats.Stored += sum.Stored
		s.stats.Duplicates += sum.Duplicates
		s.stats.Events += sum.Stored + sum.Duplicates
		s.stats.ErrorCount += sum.ErrorCount
		for _, e := range sum.Errors {
			s.log.Warn("follow: line refused", "where", fmt.Sprintf("%s:%d", source, first+int64(e.Line)), "name", e.Name, "reason", e.Message)
		}
		return nil
	case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusRequestEntityTooLarge ||
		res.StatusCode == http.StatusUnprocessableEntity || res.StatusCode == http.StatusConflict:
		n := bytes.Count(lines, []byte{'\n'})
		if n <= 1 {
			s.stats.ErrorCount++
			s.log.Warn("follow: line refused", "where", fmt.Sprintf("%s:%d", source, first+1), "status", res.StatusCode, "reason", truncateBody(body))
			return nil
		}
		cut := nthLine(lines, n/2)
		if err := s.Send(ctx, source, first, lines[:cut]); err != nil {
			return err
		}
		return s.Send(ctx, source, first+int64(n/2), lines[cut:])
	}
	return fmt.Errorf("%s: %d %s", s.url, res.StatusCode, truncateBody(body))
}

// nthLine is the offset just after the nth newline of b.
func nthLine(b []byte, n int) int {
	off := 0
	for i := 0; i < n; i++ {
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	return off
}

func truncateBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

var errFollowUsage = errors.New("import --follow: name files or directories (not -)")
