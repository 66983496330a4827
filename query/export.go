package query

import (
	"bufio"
	"context"
	"encoding/csv"
	"io"
	"net/url"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// Export formats and their content types.
var ExportFormats = map[string]string{
	"ndjson": "application/x-ndjson",
	"csv":    "text/csv; charset=utf-8",
}

// CSVColumns are the columns of a CSV export, one row per event (docs/api.md).
var CSVColumns = []string{
	"id", "type", "action", "actor_id", "object_id", "object_type", "course_id", "session_id",
	"edapp_id", "profile", "event_time", "stored_at", "envelope_id", "event",
}

// PrepareExport checks an export's parameters and returns its format and filter.
func PrepareExport(tenantID int64, params url.Values) (format string, f store.EventFilter, err error) {
	if err := checkKnown(params, ExportParams); err != nil {
		return "", f, err
	}
	f, err = parseFilter(params, tenantID)
	if err != nil {
		return "", f, err
	}
	format = params.Get("format")
	if format == "" {
		format = "ndjson"
	}
	if _, ok := ExportFormats[format]; !ok || len(params["format"]) > 1 {
		return "", f, &ParamError{Param: "format", Message: "must be ndjson or csv"}
	}
	return format, f, nil
}

// Export streams every event matching f to w in format; memory stays
// constant whatever the number of events. It returns how many were written.
func (s *Service) Export(ctx context.Context, w io.Writer, format string, f store.EventFilter) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		n     int
		write func(*store.StoredEvent) error
		flush = bw.Flush
	)
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(CSVColumns); err != nil {
			return 0, err
		}
		row := make([]string, len(CSVColumns))
		write = func(ev *store.StoredEvent) error {
			row[0] = "urn:uuid:" + ev.ID.String()
			row[1], row[2], row[3], row[4], row[5] = ev.Type, ev.Action, ev.ActorID, ev.ObjectID, ev.ObjectType
			row[6], row[7], row[8], row[9] = ev.GroupID, ev.SessionID, ev.EdAppID, ev.Profile
			row[10] = ev.EventTime.UTC().Format(time.RFC3339Nano)
			row[11] = ev.StoredAt.UTC().Format(time.RFC3339Nano)
			row[12] = ev.EnvelopeID
			row[13] = string(ev.Data)
			return cw.Write(row)
		}
		flush = func() error {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			return bw.Flush()
		}
	default:
		write = func(ev *store.StoredEvent) error {
			if _, err := bw.Write(ev.Data); err != nil {
				return err
			}
			return bw.WriteByte('\n')
		}
	}
	err := s.store.ExportEvents(ctx, f, format == "ndjson", func(ev *store.StoredEvent) error {
		n++
		return write(ev)
	})
	if err != nil {
		return n, err
	}
	return n, flush()
}
