package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/lrs-dev/lrs/forward"
)

// one runs the subcommands of one forwarder: show, pause, resume, delete, replay.
func (c *forwardersCLI) one(ctx context.Context, sub string, ids []int64) error {
	f, err := c.find(ctx, ids[0])
	if err != nil {
		return fmt.Errorf("forwarders %s: %w", sub, err)
	}
	switch sub {
	case "pause", "resume":
		paused := sub == "pause"
		v, err := c.svc.Update(ctx, f.TenantID, f.ID, forward.Patch{Paused: &paused})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "forwarder %d %s (%d events behind)\n", v.ID, map[bool]string{true: "paused", false: "resumed"}[paused], v.Status.EventsBehind)
		return nil
	case "delete":
		if err := c.svc.Delete(ctx, f.TenantID, f.ID); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "forwarder %d deleted with its dead letters\n", f.ID)
		return nil
	case "replay":
		d, err := c.svc.Replay(ctx, f.TenantID, f.ID, ids[1])
		if err != nil {
			return fmt.Errorf("forwarders replay: forwarder %d has no dead letter %d: %w", f.ID, ids[1], err)
		}
		fmt.Fprintf(c.out, "dead letter %d of forwarder %d: its %d events are sent again by the delivering node\n", d.ID, f.ID, d.Events)
		return nil
	}
	v, err := c.svc.Get(ctx, f.TenantID, f.ID)
	if err != nil {
		return err
	}
	return c.show(ctx, f.TenantID, v)
}

func (c *forwardersCLI) show(ctx context.Context, tenantID int64, v forward.View) error {
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	auth := "none"
	switch {
	case v.Auth.Error != "":
		auth = "cannot be opened: " + v.Auth.Error
	case v.Auth.Token:
		auth = "bearer token"
	case v.Auth.Header != "":
		auth = "header " + v.Auth.Header
	}
	if v.Auth.Secret {
		auth += ", signed (HMAC-SHA256)"
	}
	at := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.Format(time.RFC3339)
	}
	st := v.Status
	for _, row := range [][2]string{
		{"id", fmt.Sprint(v.ID)}, {"tenant", v.Tenant}, {"kind", v.Kind}, {"url", v.URL}, {"auth", auth},
		{"filter", v.Filter}, {"batch", fmt.Sprint(v.Batch)}, {"max wait", v.MaxWait}, {"on reject", v.OnReject},
		{"state", st.State}, {"node", st.Node}, {"position", st.Position},
		{"behind", fmt.Sprintf("%d events, %.1f s", st.EventsBehind, st.SecondsBehind)},
		{"delivered", fmt.Sprint(st.Delivered)}, {"last success", at(st.LastSuccessAt)},
		{"attempts", fmt.Sprint(st.Attempts)}, {"last error", at(st.LastErrorAt) + " " + st.LastError},
		{"dead letters", fmt.Sprint(st.DeadLetters)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	dls, err := c.svc.DeadLetters(ctx, tenantID, v.ID)
	if err != nil || len(dls) == 0 {
		return err
	}
	fmt.Fprintln(c.out, "\nDead letters (replay one with: lrs forwarders replay FORWARDER_ID DEAD_LETTER_ID):")
	tw = tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEVENTS\tSTATUS\tSTATE\tCREATED\tRESPONSE")
	for _, d := range dls {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\n", d.ID, d.Events, d.Status, d.State, d.CreatedAt.Format(time.RFC3339), oneLine(d.Response, 80))
	}
	return tw.Flush()
}
