package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// DeadLetter records a job that failed for good on its stage's dead-letter subject.
func (b *Bus) DeadLetter(ctx context.Context, stage pipeline.Stage, msg jetstream.Msg, doc string, page int, reason string) error {
	return b.deadLetter(ctx, stage, msg.Data(), Delivered(msg), streamSeq(msg), doc, page, reason)
}

func (b *Bus) deadLetter(ctx context.Context, stage pipeline.Stage, job []byte, deliveries, seq uint64, doc string, page int, reason string) error {
	dl := pipeline.DeadLetter{
		Stage:      stage,
		Doc:        doc,
		Page:       page,
		Reason:     reason,
		Deliveries: deliveries,
		Failed:     time.Now().UTC(),
		Job:        string(job),
	}
	data, err := pipeline.Encode(dl)
	if err != nil {
		return err
	}
	// The stream sequence makes the ID: the same job dead-lettered twice (by its worker and
	// by the max-deliveries watcher) is recorded once.
	id := fmt.Sprintf("dead.%s.%s.%d.%d", stage, doc, page, seq)
	if _, err := b.Publish(ctx, pipeline.DeadSubject(stage), data, id); err != nil {
		return fmt.Errorf("dead-letter %s job: %w", stage, err)
	}
	return nil
}

func streamSeq(msg jetstream.Msg) uint64 {
	md, err := msg.Metadata()
	if err != nil {
		return 0
	}
	return md.Sequence.Stream
}
