package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Group commit: envelopes that wait for the store at the same time are
// written in one transaction, and each request is answered after that
// commit with its own result. Nothing waits for a group to fill: a free
// writer takes the first waiting envelope at once, plus whichever others are
// already queued behind it, so the batching only happens under load, when
// commits (and their fsyncs) are the bottleneck. Waiters are served first
// come, first served (a Go channel's queue of blocked senders is FIFO).

// Group bounds: a group never holds more envelopes or events than this.
const (
	maxGroupEnvelopes = 256
	maxGroupEvents    = 5000
)

// saveJob is one envelope waiting to be stored.
type saveJob struct {
	ctx   context.Context
	env   *Envelope
	res   SaveResult
	err   error
	reply chan struct{} // closed when res/err are set
}

// groupWriter feeds waiting envelopes to a backend's saveGroup, from a fixed
// number of writer goroutines.
type groupWriter struct {
	queue   chan *saveJob
	stop    chan struct{}
	stopped sync.WaitGroup
	closing sync.Once
	// saveGroup stores jobs, setting each job's res and err. It must give
	// every job exactly the outcome it would have had alone, in queue order.
	saveGroup func(ctx context.Context, jobs []*saveJob)

	groups, grouped atomic.Int64 // commits, envelopes in them (GroupStats)
	waiting         atomic.Int64 // envelopes not yet taken by a writer (PoolStats)
}

func newGroupWriter(writers int, saveGroup func(context.Context, []*saveJob)) *groupWriter {
	g := &groupWriter{queue: make(chan *saveJob), stop: make(chan struct{}), saveGroup: saveGroup}
	for range writers {
		g.stopped.Add(1)
		go g.run()
	}
	return g
}

var errStoreClosed = errors.New("store is closed")

// save queues env and waits for its outcome. A request that gives up while
// queued is dropped; once its group has started it is finished either way
// (and, if stored, counts as a duplicate when the client sends it again).
func (g *groupWriter) save(ctx context.Context, env *Envelope) (SaveResult, error) {
	job := &saveJob{ctx: ctx, env: env, reply: make(chan struct{})}
	g.waiting.Add(1)
	select {
	case g.queue <- job:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		return SaveResult{}, unavailable(ctx.Err())
	case <-g.stop:
		g.waiting.Add(-1)
		return SaveResult{}, unavailable(errStoreClosed)
	}
	<-job.reply // a writer that took the job always answers it
	return job.res, job.err
}

func (g *groupWriter) run() {
	defer g.stopped.Done()
	jobs := make([]*saveJob, 0, maxGroupEnvelopes)
	for {
		var first *saveJob
		select {
		case first = <-g.queue:
		case <-g.stop:
			return
		}
		jobs = append(jobs[:0], first)
		events := len(first.env.Events)
	gather:
		for len(jobs) < maxGroupEnvelopes && events < maxGroupEvents {
			select {
			case j := <-g.queue:
				jobs = append(jobs, j)
				events += len(j.env.Events)
			default:
				break gather
			}
		}
		live := jobs[:0]
		for _, j := range jobs {
			if err := j.ctx.Err(); err != nil {
				j.err = unavailable(err)
				close(j.reply)
				continue
			}
			live = append(live, j)
		}
		if len(live) > 0 {
			// The group's work must not die with whichever request started
			// it; each request's own deadline already bounded its wait.
			g.saveGroup(context.WithoutCancel(live[0].ctx), live)
			g.groups.Add(1)
			g.grouped.Add(int64(len(live)))
			for _, j := range live {
				close(j.reply)
			}
		}
	}
}

// close stops the writers after the groups they are writing.
func (g *groupWriter) close() {
	g.closing.Do(func() { close(g.stop) })
	g.stopped.Wait()
}

// GroupStats says how many commits stored how many envelopes: their ratio
// is the mean group size.
type GroupStats struct {
	Commits, Envelopes int64
}

func (g *groupWriter) stats() GroupStats {
	return GroupStats{Commits: g.groups.Load(), Envelopes: g.grouped.Load()}
}
