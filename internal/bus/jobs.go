package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot cure (the input is bad), so the job is
// failed at once instead of being redelivered.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

type reasonError struct {
	reason pipeline.FailReason
	err    error
}

func (e reasonError) Error() string { return e.err.Error() }
func (e reasonError) Unwrap() error { return e.err }

// Because labels err with the reason a page fails of it, for the failed pages metric. It
// keeps err's message and whatever else err is marked with (Permanent).
func Because(reason pipeline.FailReason, err error) error {
	if err == nil {
		return nil
	}
	return reasonError{reason, err}
}

// ReasonOf is the reason err was labelled with by Because; an unlabelled error that may
// pass (an outage that outlasted the retries) is ReasonUnavailable, any other ReasonOther.
func ReasonOf(err error) pipeline.FailReason {
	var r reasonError
	switch {
	case errors.As(err, &r):
		return r.reason
	case !IsPermanent(err):
		return pipeline.ReasonUnavailable
	}
	return pipeline.ReasonOther
}

// GiveUp reports whether a job that failed with err on its delivered-th delivery should be
// failed for good rather than retried.
func GiveUp(err error, delivered uint64) bool {
	return IsPermanent(err) || delivered >= pipeline.MaxDeliver
}

// Backoff is the redelivery delay after the delivered-th failed delivery: 2 s, 4 s, 8 s …
// up to 30 s, so a store outage is ridden out without hammering it.
func Backoff(delivered uint64) time.Duration {
	d := 2 * time.Second
	for i := uint64(1); i < delivered && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

// Heartbeat tells JetStream the job is still being worked on, every AckWait/3, so a long
// recognition is not redelivered to another worker. Call the returned stop when done.
func Heartbeat(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(pipeline.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// Delivered returns how many times msg has been delivered (1 on the first delivery).
func Delivered(msg jetstream.Msg) uint64 {
	md, err := msg.Metadata()
	if err != nil {
		return 1
	}
	return md.NumDelivered
}

// Pull fetches jobs from cons one at a time and calls handle for each, until ctx ends.
// handle gets a context that is not cancelled by ctx: a job under way is allowed
// grace to finish when the worker is asked to stop; past that it is handed back (nak) so
// another worker takes it at once instead of after AckWait.
func Pull(ctx context.Context, cons jetstream.Consumer, grace time.Duration, log *slog.Logger, handle func(context.Context, jetstream.Msg)) {
	for ctx.Err() == nil {
		// A bounded wait, so the loop notices shutdown; the context also ends it at once.
		fctx, cancelFetch := context.WithTimeout(ctx, 5*time.Second)
		msg, err := cons.Next(jetstream.FetchContext(fctx))
		cancelFetch()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !IsTimeout(err) {
				log.Warn("fetch job", "error", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			handle(jobCtx, msg)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			select {
			case <-done:
			case <-time.After(grace):
				// Still working: give the job back before we go.
				_ = msg.Nak()
				log.Warn("job handed back at shutdown", "subject", msg.Subject())
			}
		}
		cancel()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// PageFailer marks a page failed (Status does).
type PageFailer interface {
	FailPage(ctx context.Context, doc string, page, version int, reason string) error
}

// DeadLetterer records a job that failed for good (Bus does).
type DeadLetterer interface {
	DeadLetter(ctx context.Context, stage pipeline.Stage, msg jetstream.Msg, doc string, page int, reason string) error
}

// RetryOrFail settles a job whose handling failed with err: handed back with a backoff
// delay while deliveries remain and the error may pass; otherwise the page is failed with a
// reason naming it and its file, the job goes to the dead-letter subject and is terminated.
// Either way one log line says what happened. failed is true when the page was failed.
func RetryOrFail(ctx context.Context, msg jetstream.Msg, job pipeline.OCRJob, stage pipeline.Stage, err error, start time.Time,
	st PageFailer, dl DeadLetterer, log *slog.Logger) (failed bool) {
	dur := time.Since(start).Milliseconds()
	attempt := Delivered(msg)
	if !GiveUp(err, attempt) {
		delay := Backoff(attempt)
		_ = msg.NakWithDelay(delay)
		log.Warn("stage event", pipeline.LogOutcome, pipeline.OutcomeRetry, pipeline.LogDuration, dur, pipeline.LogError, err.Error(),
			pipeline.LogAttempt, attempt, "retry_in", delay.String())
		return false
	}
	reason := fmt.Sprintf("page %d (%s): %v", job.Page, job.FileName, err)
	if !IsPermanent(err) {
		reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, attempt)
	}
	if err := st.FailPage(ctx, job.Doc, job.Page, job.Version, reason); err != nil {
		log.Error("mark page failed", pipeline.LogError, err)
	}
	if err := dl.DeadLetter(ctx, stage, msg, job.Doc, job.Page, reason); err != nil {
		log.Error("dead-letter", pipeline.LogError, err)
	}
	_ = msg.Term()
	log.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogDuration, dur, pipeline.LogError, reason, pipeline.LogAttempt, attempt)
	return true
}
