package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/colophon-archive/colophon/pipeline"
)

// maxDeliveriesAdvisory is the part of JetStream's max-deliveries advisory we read.
type maxDeliveriesAdvisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// HandleExhausted fails the pages of jobs that JetStream stops redelivering because every
// delivery ended without an answer: the worker crashed, was killed or hung each time, so
// no worker was left to settle the job itself. Without this such a page would sit in its
// stage for ever and its job would stay in the work queue. The page is failed with the
// reason, the job dead-lettered and removed from the stream. Every worker of a stage may
// run this; the work is idempotent. onFailed (if not nil) is called once per job, by the
// handler that removed it, so a count of failed pages does not grow with the workers. It
// stops when ctx ends.
func (b *Bus) HandleExhausted(ctx context.Context, stream, consumer string, stage pipeline.Stage, st PageFailer, onFailed func(), log *slog.Logger) error {
	subject := fmt.Sprintf("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", stream, consumer)
	sub, err := b.NC.Subscribe(subject, func(m *nats.Msg) {
		var adv maxDeliveriesAdvisory
		if err := json.Unmarshal(m.Data, &adv); err != nil || adv.StreamSeq == 0 {
			log.Warn("unreadable max-deliveries advisory", pipeline.LogError, fmt.Sprint(err))
			return
		}
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if b.failExhausted(hctx, stream, stage, adv, st, log) && onFailed != nil {
			onFailed()
		}
	})
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// failExhausted reports whether this call removed the job.
func (b *Bus) failExhausted(ctx context.Context, streamName string, stage pipeline.Stage, adv maxDeliveriesAdvisory, st PageFailer, log *slog.Logger) bool {
	stream, err := b.JS.Stream(ctx, streamName)
	if err != nil {
		log.Error("max deliveries: open stream", pipeline.LogError, err.Error())
		return false
	}
	raw, err := stream.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		return false // already settled and removed (by another worker, or by a late ack)
	}
	// Both job types carry doc, page, version and file name at the top level.
	var job pipeline.OCRJob
	_ = json.Unmarshal(raw.Data, &job)
	reason := fmt.Sprintf("page %d (%s): gave up after %d deliveries: each ended without an answer (the worker crashed, was killed or hung)",
		job.Page, job.FileName, adv.Deliveries)
	elog := log.With(pipeline.LogDoc, job.Doc, pipeline.LogPage, job.Page, pipeline.LogStage, stage)
	if job.Doc != "" && job.Page > 0 {
		if err := st.FailPage(ctx, job.Doc, job.Page, max(job.Version, 1), reason); err != nil {
			elog.Error("mark page failed", pipeline.LogError, err.Error())
			return false // the next advisory or a person can retry; keep the job
		}
	}
	if err := b.deadLetter(ctx, stage, raw.Data, adv.Deliveries, adv.StreamSeq, job.Doc, job.Page, reason); err != nil {
		elog.Error("dead-letter", pipeline.LogError, err.Error())
		return false
	}
	// Every handler of the stage may get this far; only one deletes the job.
	removed := stream.DeleteMsg(ctx, adv.StreamSeq) == nil
	elog.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, reason, pipeline.LogAttempt, adv.Deliveries)
	return removed
}
