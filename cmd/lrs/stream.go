package main

import (
	"errors"
	"flag"

	"github.com/lrs-dev/lrs/web"
)

// streamSettings configure the live stream (GET /api/v1/stream).
type streamSettings struct {
	MaxStreams int
}

func (s *streamSettings) flags(fs *flag.FlagSet) {
	fs.IntVar(&s.MaxStreams, "max-streams", web.DefaultMaxStreams, "live streams (GET /api/v1/stream) each key may hold open at once; one more gets 429")
}

func (s *streamSettings) validate() error {
	if s.MaxStreams < 1 {
		return errors.New("--max-streams (LRS_MAX_STREAMS) must be at least 1")
	}
	return nil
}
