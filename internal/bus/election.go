package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// electionGrace is how long a read of JetStream waits out a leader election. When a server
// of a cluster goes away, its groups elect new leaders in a few seconds; until they have,
// requests find no responder or go unanswered. A read that is run once by a person or a
// test (verify, get, export) would otherwise fail for an outage the cluster is already
// mending; the workers' own retries (Retry) sit on top and are not replaced.
var electionGrace = 20 * time.Second

// errReplicaBehind is a read answered by a replica that has not caught up with its leader
// yet: like an election, a moment of the cluster's that passes.
var errReplicaBehind = errors.New("replica behind its leader")

// duringElection reports whether err is what a JetStream request gets while the cluster
// elects a leader: no responder, or no answer in time while ctx itself still runs.
func duringElection(ctx context.Context, err error) bool {
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, errReplicaBehind):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return ctx.Err() == nil
	}
	return false
}

// rideOutElection runs op until it succeeds, fails for another reason, ctx ends or
// electionGrace has passed, waiting 250 ms, 500 ms, 1 s … (at most 2 s) between attempts.
func rideOutElection(ctx context.Context, op func(context.Context) error) error {
	deadline := time.Now().Add(electionGrace)
	delay := 250 * time.Millisecond
	for {
		err := op(ctx)
		if err == nil || !duringElection(ctx, err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 2*time.Second)
	}
}
