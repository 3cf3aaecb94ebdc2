package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// RetryPolicy bounds Retry.
type RetryPolicy struct {
	// Budget is how long to keep trying before giving the error back (the job is then
	// redelivered later, and counts against MaxDeliver).
	Budget time.Duration
	// AttemptTimeout bounds one attempt, so a store that hangs rather than refuses does not
	// hold the page for ever.
	AttemptTimeout time.Duration
}

// DefaultRetry rides out a store or NATS outage of a couple of minutes inside one delivery.
var DefaultRetry = RetryPolicy{Budget: 3 * time.Minute, AttemptTimeout: 30 * time.Second}

// NATSAttemptTimeout bounds one NATS call in ForNATS: nats.go's own default for a
// JetStream request.
const NATSAttemptTimeout = 5 * time.Second

// ForNATS is p for calls to NATS. A JetStream request is answered in milliseconds or not at
// all: one that went to a server as it went away, or to a leader as it stepped down, is
// lost, and only a new attempt gets an answer. Waiting out an attempt timeout sized for an
// S3 upload would hold the page (and the metadata worker's queue) for half a minute.
func (p RetryPolicy) ForNATS() RetryPolicy {
	p.AttemptTimeout = min(p.AttemptTimeout, NATSAttemptTimeout)
	return p
}

// Retry runs op until it succeeds, returns a Permanent error, the budget is spent or ctx
// ends, waiting 1 s, 2 s, 4 s … (at most 15 s) between attempts. Each failed attempt is
// logged with its number, so an outage shows in the logs as it happens.
func Retry(ctx context.Context, p RetryPolicy, log *slog.Logger, what string, op func(context.Context) error) error {
	deadline := time.Now().Add(p.Budget)
	delay := time.Second
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		err := op(actx)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("recovered", "op", what, pipeline.LogAttempt, attempt)
			}
			return nil
		}
		if IsPermanent(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
		}
		log.Warn("stage event", pipeline.LogOutcome, pipeline.OutcomeRetry, "op", what, pipeline.LogError, err.Error(),
			pipeline.LogAttempt, attempt, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(delay*2, 15*time.Second)
	}
}
