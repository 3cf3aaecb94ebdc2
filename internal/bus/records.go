package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// recordLogConfig is the record log: kept for good, nothing deleted or purged through the
// API, so it outlives any record rewritten or deleted in the object store.
//
// No direct gets: with them any replica answers a read, and a replica that has not yet
// applied the last append gives a stale chain head. Reads go to the stream's leader, which
// has applied every append it acknowledged.
var recordLogConfig = jetstream.StreamConfig{
	Name:        pipeline.StreamRecords,
	Subjects:    []string{pipeline.SubjectRecords + ".>"},
	Retention:   jetstream.LimitsPolicy,
	Storage:     jetstream.FileStorage,
	Duplicates:  pipeline.DuplicateWindow,
	DenyDelete:  true,
	DenyPurge:   true,
	AllowDirect: false,
}

// ErrChainMoved is an append that lost a race: another record of the document was appended
// since its chain's head was read. Read the head again and rebuild the record.
var ErrChainMoved = errors.New("the document's record chain moved on")

// ChainHead is the last entry of a document's chain in the record log.
type ChainHead struct {
	Entry pipeline.RecordEntry
	// LogSeq is the entry's sequence in the stream, which the next append expects; 0 when
	// the document has no record yet.
	LogSeq uint64
}

// RecordHead reads the last entry of doc's chain; a document with none has a zero head.
// Reads of the record log wait out a leader election (rideOutElection).
func (b *Bus) RecordHead(ctx context.Context, doc string) (ChainHead, error) {
	return b.lastRecordOn(ctx, pipeline.RecordsFilter(doc))
}

// RecordEntry reads the log's entry for version of a page's record, if there is one.
func (b *Bus) RecordEntry(ctx context.Context, doc string, page, version int) (pipeline.RecordEntry, bool, error) {
	h, err := b.lastRecordOn(ctx, pipeline.RecordSubject(doc, page, version))
	return h.Entry, h.LogSeq != 0, err
}

func (b *Bus) lastRecordOn(ctx context.Context, subject string) (h ChainHead, err error) {
	err = rideOutElection(ctx, func(ctx context.Context) error {
		h, err = b.lastRecordOnce(ctx, subject)
		return err
	})
	return h, err
}

func (b *Bus) lastRecordOnce(ctx context.Context, subject string) (ChainHead, error) {
	s, err := b.JS.Stream(ctx, pipeline.StreamRecords)
	if err != nil {
		return ChainHead{}, fmt.Errorf("record log: %w", err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return ChainHead{}, nil
	}
	if err != nil {
		return ChainHead{}, fmt.Errorf("read record log %s: %w", subject, err)
	}
	var e pipeline.RecordEntry
	if err := json.Unmarshal(msg.Data, &e); err != nil {
		return ChainHead{}, fmt.Errorf("record log entry %d on %s is unreadable: %w", msg.Sequence, subject, err)
	}
	return ChainHead{Entry: e, LogSeq: msg.Sequence}, nil
}

// AppendRecord adds e to its document's chain, provided the chain's head is still at
// head.LogSeq; otherwise it returns ErrChainMoved and appends nothing. A repeated append
// of the same entry (a retry after a lost reply) is dropped by its message ID.
func (b *Bus) AppendRecord(ctx context.Context, e pipeline.RecordEntry, head ChainHead) error {
	data, err := pipeline.Encode(e)
	if err != nil {
		return err
	}
	subject := pipeline.RecordSubject(e.Doc, e.Page, e.Version)
	_, err = b.JS.Publish(ctx, subject, data,
		jetstream.WithMsgID(fmt.Sprintf("rec.%s.%04d.v%d.%s", e.Doc, e.Page, e.Version, e.SHA256)),
		jetstream.WithExpectLastSequenceForSubject(head.LogSeq, pipeline.RecordsFilter(e.Doc)))
	// A replicated stream also refuses an append while another one for the same chain is
	// still being agreed on (JSErrCodeStreamWrongLastSequenceConstant): the chain moves.
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant) {
		return ErrChainMoved
	}
	if err != nil {
		return fmt.Errorf("append record %s to the record log: %w", e.Key, err)
	}
	return nil
}

// RecordEntries reads doc's chain from the record log, oldest first.
func (b *Bus) RecordEntries(ctx context.Context, doc string) (out []pipeline.RecordEntry, err error) {
	err = rideOutElection(ctx, func(ctx context.Context) error {
		out, err = b.recordEntriesOnce(ctx, doc)
		return err
	})
	return out, err
}

func (b *Bus) recordEntriesOnce(ctx context.Context, doc string) ([]pipeline.RecordEntry, error) {
	c, err := b.JS.OrderedConsumer(ctx, pipeline.StreamRecords, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{pipeline.RecordsFilter(doc)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("read record log of %s: %w", doc, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read record log of %s: %w", doc, err)
	}
	var out []pipeline.RecordEntry
	var last uint64 // stream sequence of the last entry read
	for left := info.NumPending; left > 0; {
		batch, err := c.Fetch(int(min(left, 256)), jetstream.FetchContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("read record log of %s: %w", doc, err)
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			var e pipeline.RecordEntry
			if err := json.Unmarshal(msg.Data(), &e); err != nil {
				m, _ := msg.Metadata()
				seq := uint64(0)
				if m != nil {
					seq = m.Sequence.Stream
				}
				return nil, fmt.Errorf("record log entry %d on %s is unreadable: %w", seq, msg.Subject(), err)
			}
			out = append(out, e)
			if m, err := msg.Metadata(); err == nil {
				last = m.Sequence.Stream
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read record log of %s: %w", doc, err)
		}
		if got == 0 {
			return nil, fmt.Errorf("read record log of %s: %d entries announced, none delivered", doc, left)
		}
		left -= uint64(got)
	}
	// The ordered consumer may sit on a replica that has not applied the latest append yet;
	// the head is read from the stream's leader. A read that missed it is read again.
	head, err := b.lastRecordOnce(ctx, pipeline.RecordsFilter(doc))
	if err != nil {
		return nil, err
	}
	if head.LogSeq > last {
		return nil, fmt.Errorf("read record log of %s: entry %d not on the replica read yet: %w", doc, head.LogSeq, errReplicaBehind)
	}
	return out, nil
}

// RecordDocs lists every document with an entry in the record log.
func (b *Bus) RecordDocs(ctx context.Context) (docs []string, err error) {
	err = rideOutElection(ctx, func(ctx context.Context) error {
		docs, err = b.recordDocsOnce(ctx)
		return err
	})
	return docs, err
}

func (b *Bus) recordDocsOnce(ctx context.Context) ([]string, error) {
	s, err := b.JS.Stream(ctx, pipeline.StreamRecords)
	if err != nil {
		return nil, fmt.Errorf("record log: %w", err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(pipeline.SubjectRecords+".>"))
	if err != nil {
		return nil, fmt.Errorf("record log: %w", err)
	}
	seen := map[string]bool{}
	var docs []string
	for subj := range info.State.Subjects {
		// colophon.records.<doc>.<page>.v<version>
		parts := strings.Split(strings.TrimPrefix(subj, pipeline.SubjectRecords+"."), ".")
		if len(parts) == 3 && !seen[parts[0]] {
			seen[parts[0]] = true
			docs = append(docs, parts[0])
		}
	}
	return docs, nil
}
