// Package metadata is the metadata worker: for each recognised page it reads the outputs
// back from the store, recomputes their checksums independently of the OCR worker, writes
// the page's signed provenance record, appends it to its document's chain in the record log
// and marks the page done.
package metadata

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/audit"
	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/dates"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// Store is what the worker needs of the object store.
type Store interface {
	Get(ctx context.Context, bucket, key string) (objectstore.Object, error)
	List(ctx context.Context, bucket, prefix string) ([]string, error)
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) (created bool, err error)
	PutIfMatch(ctx context.Context, bucket, key, etag string, data []byte, contentType string, meta map[string]string) error
}

// Bus is what the worker needs of NATS: the dead-letter subject and the record log.
type Bus interface {
	DeadLetter(ctx context.Context, stage pipeline.Stage, msg jetstream.Msg, doc string, page int, reason string) error
	RecordHead(ctx context.Context, doc string) (bus.ChainHead, error)
	RecordEntry(ctx context.Context, doc string, page, version int) (pipeline.RecordEntry, bool, error)
	AppendRecord(ctx context.Context, e pipeline.RecordEntry, head bus.ChainHead) error
}

// Status is what the worker needs of the status bucket.
type Status interface {
	UpdatePage(ctx context.Context, doc string, page int, mutate func(p *pipeline.PageStatus, found bool) error) (pipeline.PageStatus, error)
	FailPage(ctx context.Context, doc string, page, version int, reason string) error
	Page(ctx context.Context, doc string, page int) (pipeline.PageStatus, bool, error)
	Pages(ctx context.Context, doc string) ([]pipeline.PageStatus, error)
}

// Metrics counts what the worker does, for monitoring; internal/metrics has the Prometheus
// one. Without WithMetrics nothing is counted.
type Metrics interface {
	PageDone()
	PageFailed(reason pipeline.FailReason)
	// PageVerdict counts a page marked done with its reading's quality verdict and, for
	// review, its reasons.
	PageVerdict(verdict pipeline.Verdict, reasons []string)
	// Redelivered counts a job delivered again (after a retry, a crash or a lost ack).
	Redelivered()
	BytesRead(n int)    // output bytes read back to be hashed
	BytesWritten(n int) // record bytes stored
}

type noMetrics struct{}

func (noMetrics) PageDone()                              {}
func (noMetrics) PageFailed(pipeline.FailReason)         {}
func (noMetrics) PageVerdict(pipeline.Verdict, []string) {}
func (noMetrics) Redelivered()                           {}
func (noMetrics) BytesRead(int)                          {}
func (noMetrics) BytesWritten(int)                       {}

// Worker records provenance, one page at a time: the work is a few small reads and writes.
type Worker struct {
	store      Store
	auditStore audit.Store
	auditLog   audit.Log
	bus        Bus
	status     Status
	consumer   jetstream.Consumer
	announce   func(ctx context.Context, info bus.WorkerInfo)
	exhausted  func(ctx context.Context, st bus.PageFailer, onFailed func(), log *slog.Logger) error
	cfg        config
}

type config struct {
	id         string
	log        *slog.Logger
	grace      time.Duration
	retry      bus.RetryPolicy
	now        func() time.Time
	signer     *provenance.Signer
	auditEvery time.Duration
	metrics    Metrics
}

// Option configures a Worker.
type Option func(*config)

// WithID names the worker in logs and health; default "<host>-<pid>".
func WithID(id string) Option { return func(c *config) { c.id = id } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithRetry sets how long store and NATS calls are retried within one delivery.
func WithRetry(p bus.RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithSigner sets the key records are signed with. Required: a record anyone could have
// written proves nothing.
func WithSigner(s *provenance.Signer) Option { return func(c *config) { c.signer = s } }

// WithAuditEvery has the worker run a fixity audit of every document (as colophon verify
// --all does, trusting its own signing key) every d, logging one fixity-check event per
// document and one error line per failed record. 0, the default, runs none.
func WithAuditEvery(d time.Duration) Option { return func(c *config) { c.auditEvery = d } }

// WithMetrics has the worker count pages, failures and bytes in m.
func WithMetrics(m Metrics) Option { return func(c *config) { c.metrics = m } }

// New prepares a worker on the shared metadata consumer. b must have the pipeline topology.
func New(ctx context.Context, b *bus.Bus, store *objectstore.Store, opts ...Option) (*Worker, error) {
	cfg := config{log: slog.Default(), grace: 5 * time.Second, retry: bus.DefaultRetry, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.metrics == nil {
		cfg.metrics = noMetrics{}
	}
	if cfg.signer == nil {
		return nil, errors.New("metadata worker: no signing key: make one with 'colophon keygen' and give it with --signing-key or " +
			provenance.EnvSigningKeyFile)
	}
	if cfg.id == "" {
		cfg.id = bus.WorkerID()
	}
	cons, err := b.Consumer(ctx, pipeline.StreamMetadata, pipeline.ConsumerMetadata)
	if err != nil {
		return nil, err
	}
	st, err := b.OpenStatus(ctx)
	if err != nil {
		return nil, err
	}
	return &Worker{
		store:      store,
		auditStore: store,
		auditLog:   b,
		bus:        b,
		status:     st,
		consumer:   cons,
		announce:   func(ctx context.Context, info bus.WorkerInfo) { b.Announce(ctx, info, cfg.log) },
		exhausted: func(ctx context.Context, st bus.PageFailer, onFailed func(), log *slog.Logger) error {
			return b.HandleExhausted(ctx, pipeline.StreamMetadata, pipeline.ConsumerMetadata, pipeline.StageMetadata, st, onFailed, log)
		},
		cfg: cfg,
	}, nil
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	log := w.cfg.log.With("worker", w.cfg.id)
	log.Info("metadata worker started")
	m := w.cfg.metrics
	if err := w.exhausted(ctx, w.status, func() { m.PageFailed(pipeline.ReasonExhausted) }, log); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.announce(ctx, bus.WorkerInfo{Kind: pipeline.WorkerMetadata, ID: w.cfg.id, Concurrency: 1, Started: w.cfg.now().UTC()})
	}()
	if w.cfg.auditEvery > 0 {
		go w.audits(ctx, log)
	}
	bus.Pull(ctx, w.consumer, w.cfg.grace, log, func(jctx context.Context, msg jetstream.Msg) {
		w.handle(jctx, msg, log)
	})
	<-done
	log.Info("metadata worker stopped")
	return nil
}

func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, log *slog.Logger) {
	start := time.Now()
	stop := bus.Heartbeat(msg) // retries during a store outage take time
	defer stop()
	attempt := bus.Delivered(msg)
	m := w.cfg.metrics
	if attempt > 1 {
		m.Redelivered()
	}
	job, err := pipeline.DecodeMetadataJob(msg.Data())
	if err != nil {
		m.PageFailed(pipeline.ReasonUnreadableJob)
		reason := fmt.Sprintf("unreadable metadata job: %v", err)
		log.Error("stage event", pipeline.LogStage, pipeline.StageMetadata, pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, reason)
		if err := w.bus.DeadLetter(ctx, pipeline.StageMetadata, msg, job.Doc, job.Page, reason); err != nil {
			log.Error("dead-letter", pipeline.LogError, err)
		}
		_ = msg.Term()
		return
	}
	log = log.With(pipeline.LogDoc, job.Doc, pipeline.LogPage, job.Page, pipeline.LogStage, pipeline.StageMetadata)
	log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeStarted, pipeline.LogAttempt, attempt)

	rec, skipped, err := w.process(ctx, job, log)
	if err != nil {
		if bus.RetryOrFail(ctx, msg, job.OCRJob, pipeline.StageMetadata, err, start, w.status, w.bus, log) {
			m.PageFailed(bus.ReasonOf(err))
		}
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack metadata job", pipeline.LogError, err)
	}
	if skipped != "" {
		log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", skipped, pipeline.LogAttempt, attempt)
		return
	}
	m.PageDone()
	attrs := []any{pipeline.LogOutcome, pipeline.OutcomeOK, pipeline.LogDuration, time.Since(start).Milliseconds(),
		"text_sha256", rec.Text.SHA256, pipeline.LogAttempt, attempt}
	if q := rec.OCR.Quality; q != nil {
		m.PageVerdict(q.Verdict, q.Reasons)
		attrs = append(attrs, "verdict", string(q.Verdict))
		if r := q.Review(); r != "" {
			attrs = append(attrs, "review", r)
		}
	}
	log.Info("stage event", attrs...)
	w.reportComplete(ctx, job.Doc)
}

// checkOutput fetches a stored output and checks it hashes to what the job says.
func (w *Worker) checkOutput(ctx context.Context, name string, ref pipeline.ObjectRef, log *slog.Logger) ([]byte, error) {
	var obj objectstore.Object
	err := bus.Retry(ctx, w.cfg.retry, log, "fetch "+name, func(ctx context.Context) error {
		var err error
		obj, err = w.store.Get(ctx, ref.Bucket, ref.Key)
		switch {
		case errors.Is(err, objectstore.ErrNotFound):
			return bus.Because(pipeline.ReasonMissingObject, bus.Permanent(fmt.Errorf("%s %s is missing from the store", name, ref.Key)))
		case errors.Is(err, objectstore.ErrUnreadable):
			return bus.Because(pipeline.ReasonUnreadable, bus.Permanent(fmt.Errorf("%s %s: %w", name, ref.Key, err)))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	w.cfg.metrics.BytesRead(len(obj.Data))
	if got := objectstore.SHA256(obj.Data); got != ref.SHA256 {
		return nil, bus.Because(pipeline.ReasonChecksum,
			bus.Permanent(fmt.Errorf("%s %s checksum mismatch: OCR worker stored %s, store has %s", name, ref.Key, ref.SHA256, got)))
	}
	return obj.Data, nil
}

func (w *Worker) process(ctx context.Context, job pipeline.MetadataJob, log *slog.Logger) (rec pipeline.Provenance, skipped string, err error) {
	// Each output's hash is recomputed here, not taken from the OCR worker's word: the record
	// vouches for the bytes that are actually in the store.
	outputs := []struct {
		name string
		ref  *pipeline.ObjectRef
	}{{pipeline.FormatText, &job.Text}, {pipeline.FormatHOCR, job.HOCR}, {pipeline.FormatALTO, job.ALTO}, {pipeline.FormatPDF, job.PDF}}
	var text []byte
	for _, o := range outputs {
		if o.ref == nil {
			continue
		}
		data, err := w.checkOutput(ctx, o.name, *o.ref, log)
		if err != nil {
			return rec, "", err
		}
		o.ref.Bytes = int64(len(data))
		if o.name == pipeline.FormatText {
			text = data
		}
	}
	rec = pipeline.Provenance{
		Doc:      job.Doc,
		Page:     job.Page,
		Version:  job.Version,
		Source:   job.Source,
		Date:     job.Date,
		FileName: job.FileName,
		FilePage: job.FilePage,
		Uploader: job.Uploader,
		Uploaded: job.Submitted,
		Created:  w.cfg.now().UTC().Truncate(time.Second),
		Scan:     job.Scan,
		Text:     job.Text,
		HOCR:     job.HOCR,
		ALTO:     job.ALTO,
		PDF:      job.PDF,
		OCR:      job.OCR,
	}
	for _, c := range dates.Find(string(text)) {
		rec.DatesFound = append(rec.DatesFound, pipeline.DateFound{Page: job.Page, Text: c.Text, Date: c.Date, Confidence: c.Confidence})
	}
	var skip string
	// Check before writing so a late duplicate never replaces the record of a finished page.
	if p, _, err := w.status.Page(ctx, job.Doc, job.Page); err != nil {
		return rec, "", fmt.Errorf("read status: %w", err)
	} else if p.Version > job.Version || (p.Version == job.Version && p.State == pipeline.StateDone) {
		return rec, "page already " + string(p.State), nil
	}
	if err := w.record(ctx, &rec, log); err != nil {
		return rec, "", err
	}
	_, err = w.status.UpdatePage(ctx, job.Doc, job.Page, func(p *pipeline.PageStatus, _ bool) error {
		if p.Version > job.Version {
			skip = fmt.Sprintf("page is at version %d", p.Version)
			return bus.ErrUnchanged
		}
		if p.Version == job.Version && p.State == pipeline.StateDone {
			// Another worker finished it while this one was late: its record stands.
			skip = "page already done"
			return bus.ErrUnchanged
		}
		p.State, p.Version, p.Error = pipeline.StateDone, job.Version, ""
		// The page's verdict is its reading's, replacing an earlier version's; a reading
		// with none (nil Quality) leaves none, never one made up here.
		p.Verdict, p.Review = "", ""
		if q := job.OCR.Quality; q != nil {
			p.Verdict, p.Review = q.Verdict, q.Review()
		}
		return nil
	})
	if err != nil {
		return rec, "", fmt.Errorf("update status: %w", err)
	}
	return rec, skip, nil
}

// audits runs a fixity audit every auditEvery until ctx ends.
func (w *Worker) audits(ctx context.Context, log *slog.Logger) {
	log = log.With(pipeline.LogStage, pipeline.StageFixity)
	t := time.NewTicker(w.cfg.auditEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.auditOnce(ctx, log)
	}
}

// auditOnce audits every document in the record log or the store, one at a time, and logs
// the outcome: a fixity-check event per document, and a line per failed record naming what
// failed.
func (w *Worker) auditOnce(ctx context.Context, log *slog.Logger) {
	docs, err := audit.Docs(ctx, w.auditStore, w.auditLog)
	if err != nil {
		log.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, fmt.Sprintf("list documents: %v", err))
		return
	}
	opts := audit.Options{Trusted: []ed25519.PublicKey{w.cfg.signer.PublicKey()}}
	for _, doc := range docs {
		start := time.Now()
		rep, err := audit.Run(ctx, w.auditStore, w.auditLog, w.status, []string{doc}, opts)
		dlog := log.With(pipeline.LogDoc, doc)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			dlog.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogDuration, time.Since(start).Milliseconds(), pipeline.LogError, err.Error())
			continue
		}
		for _, row := range rep.Rows {
			if row.Failed() {
				dlog.Error("fixity check failed", pipeline.LogPage, row.Page, "version", row.Version, pipeline.LogError, strings.Join(row.Problems, "; "))
			}
		}
		outcome, level := pipeline.OutcomeOK, slog.LevelInfo
		if rep.Failures() > 0 {
			outcome, level = pipeline.OutcomeFailed, slog.LevelError
		}
		dlog.Log(ctx, level, "stage event", "event", "fixity check", pipeline.LogOutcome, outcome, pipeline.LogDuration, time.Since(start).Milliseconds(),
			"records", len(rep.Rows), "failed", rep.Failures(), "objects", rep.Objects, "pending", rep.Pending)
	}
}

// maxChainRaces bounds how often one record loses the race to its document's chain head to
// other workers' records before the job is handed back (to be delivered again later).
const maxChainRaces = 50

// record stores rec, signed, and appends it to its document's chain in the record log. The
// record is stored before its log entry: a record in the store but not in the log is one a
// crash interrupted, which the job's redelivery writes again; a log entry always names a
// record that was stored.
//
// The record is written only where none is (If-None-Match), so a worker that wakes late
// (paused past its ack wait while another finished the page) can never replace a record
// that is chained: it finds the key taken and settles with what is there (settleTaken).
func (w *Worker) record(ctx context.Context, rec *pipeline.Provenance, log *slog.Logger) error {
	key := pipeline.ProvenanceKey(rec.Doc, rec.Page, rec.Version)
	// Chained already: the worker stopped between the append and the status update.
	logged, found, err := w.recordEntry(ctx, rec, log)
	if err != nil {
		return err
	}
	if found {
		return w.alreadyChained(ctx, key, logged, log)
	}

	for race := 1; ; race++ {
		head, err := w.recordHead(ctx, rec.Doc, log)
		if err != nil {
			return err
		}
		// Our own entry at the head: an append that got in although its answer was lost
		// (a leader change) before the chain moved. Chaining the page again would double it.
		if head.LogSeq != 0 && head.Entry.Page == rec.Page && head.Entry.Version == rec.Version {
			return w.alreadyChained(ctx, key, head.Entry, log)
		}
		if head.LogSeq == 0 {
			if err := w.checkFirstRecord(ctx, key, rec.Doc); err != nil {
				return err
			}
		}
		rec.Chain = &pipeline.Chain{Seq: head.Entry.Seq + 1}
		if head.LogSeq != 0 {
			prev := head.Entry.RecordRef
			rec.Chain.Prev = &prev
		}
		if err := w.cfg.signer.Sign(rec); err != nil {
			return bus.Because(pipeline.ReasonRecord, err)
		}
		data, err := pipeline.Encode(rec)
		if err != nil {
			return err
		}
		meta := map[string]string{pipeline.MetaSHA256: objectstore.SHA256(data), pipeline.MetaDoc: rec.Doc, pipeline.MetaPage: fmt.Sprint(rec.Page)}
		var created bool
		err = bus.Retry(ctx, w.cfg.retry, log, "store provenance record", func(ctx context.Context) error {
			var err error
			created, err = w.store.PutIfAbsent(ctx, pipeline.BucketProvenance, key, data, "application/json", meta)
			return err
		})
		if err != nil {
			return err
		}
		if created {
			w.cfg.metrics.BytesWritten(len(data))
		} else {
			chain, done, err := w.settleTaken(ctx, key, data, meta, log)
			if err != nil || done {
				return err
			}
			if chain == nil {
				continue // replaced meanwhile by another worker: look again
			}
			if !bytes.Equal(chain, data) {
				// Another worker's record for this very job, kept: it is the page's record.
				if err := json.Unmarshal(chain, rec); err != nil {
					return err
				}
				data = chain
			}
		}
		entry := pipeline.RecordEntry{
			RecordRef: pipeline.RecordRef{Page: rec.Page, Version: rec.Version, Key: key, SHA256: objectstore.SHA256(data)},
			Doc:       rec.Doc, Seq: rec.Chain.Seq, Prev: rec.Chain.Prev, Created: rec.Created,
		}
		err = bus.Retry(ctx, w.cfg.retry.ForNATS(), log, "append to record log", func(ctx context.Context) error {
			err := w.bus.AppendRecord(ctx, entry, head)
			if errors.Is(err, bus.ErrChainMoved) {
				return bus.Permanent(err) // not for Retry: read the new head
			}
			return err
		})
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, bus.ErrChainMoved):
			return err
		case race == maxChainRaces:
			return bus.Because(pipeline.ReasonRecord, fmt.Errorf("append record %s: lost the race to the chain's head %d times", key, race))
		}
	}
}

// checkFirstRecord is asked before a document's first record is chained: other records of
// the document already stored mean either another page's first record, stored by a worker
// that stopped before its append (its redelivery chains it, and this job after it), or a
// record log that was lost, where a new chain would start beside the stored one. Either way
// the job waits, and if the log stays empty it fails saying how to rebuild it.
func (w *Worker) checkFirstRecord(ctx context.Context, key, doc string) error {
	keys, err := audit.RecordKeys(ctx, w.store, doc)
	if err != nil {
		return err
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == key })
	if len(keys) == 0 {
		return nil
	}
	return bus.Because(pipeline.ReasonRecord, fmt.Errorf("document %s has %d provenance records in the store (%s first) but none in the record log: "+
		"waiting for them to be chained; if the log was lost, rebuild it with `%s %s`", doc, len(keys), keys[0], audit.RebuildCommand, doc))
}

// settleTaken decides what to do when the record's key is taken. What is stored there is
// one of:
//   - our own bytes: a put whose answer was lost; chain them;
//   - a record the log holds: another worker finished the page; nothing is left to do;
//   - another worker's record that fits the chain's head as it is now: its writer may be
//     about to append it, so it is kept and appended (whoever appends first, the other finds
//     its entry at the head);
//   - another worker's record built on a head the chain has since moved past: its writer's
//     append, which expects that head, can never succeed, so it is replaced with ours, but
//     only while it is still that very version (If-Match).
//
// It returns the bytes to chain, or done when the page's record is chained already, or
// neither when the key changed again meanwhile (the caller starts over).
func (w *Worker) settleTaken(ctx context.Context, key string, data []byte, meta map[string]string, log *slog.Logger) (chain []byte, done bool, err error) {
	var stored objectstore.Object
	err = bus.Retry(ctx, w.cfg.retry, log, "read stored provenance record", func(ctx context.Context) error {
		var err error
		stored, err = w.store.Get(ctx, pipeline.BucketProvenance, key)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if bytes.Equal(stored.Data, data) {
		return data, false, nil
	}
	var found pipeline.Provenance
	if err := json.Unmarshal(stored.Data, &found); err != nil || found.Chain == nil {
		return nil, false, bus.Because(pipeline.ReasonRecord, bus.Permanent(fmt.Errorf("provenance record %s is stored already and unreadable (%v)", key, err)))
	}
	// Read after the stored record: the head can only have moved on since that was written.
	logged, inLog, err := w.recordEntry(ctx, &found, log)
	if err != nil {
		return nil, false, err
	}
	if inLog {
		return nil, true, w.alreadyChained(ctx, key, logged, log)
	}
	head, err := w.recordHead(ctx, found.Doc, log)
	if err != nil {
		return nil, false, err
	}
	if fitsHead(found.Chain, head) {
		log.Info("record stored by another worker kept", "seq", found.Chain.Seq)
		return stored.Data, false, nil
	}
	err = bus.Retry(ctx, w.cfg.retry, log, "replace stale provenance record", func(ctx context.Context) error {
		err := w.store.PutIfMatch(ctx, pipeline.BucketProvenance, key, stored.ETag, data, "application/json", meta)
		if errors.Is(err, objectstore.ErrExists) {
			return bus.Permanent(err)
		}
		return err
	})
	switch {
	case errors.Is(err, objectstore.ErrExists):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	w.cfg.metrics.BytesWritten(len(data))
	log.Info("stale record replaced", "stale_seq", found.Chain.Seq, "head_seq", head.Entry.Seq)
	return data, false, nil
}

// fitsHead reports whether a record's chain link continues the chain at head.
func fitsHead(c *pipeline.Chain, head bus.ChainHead) bool {
	if c.Seq != head.Entry.Seq+1 {
		return false
	}
	if head.LogSeq == 0 {
		return c.Prev == nil
	}
	return c.Prev != nil && *c.Prev == head.Entry.RecordRef
}

func (w *Worker) recordEntry(ctx context.Context, rec *pipeline.Provenance, log *slog.Logger) (e pipeline.RecordEntry, found bool, err error) {
	err = bus.Retry(ctx, w.cfg.retry.ForNATS(), log, "read record log", func(ctx context.Context) error {
		var err error
		e, found, err = w.bus.RecordEntry(ctx, rec.Doc, rec.Page, rec.Version)
		return err
	})
	return e, found, err
}

func (w *Worker) recordHead(ctx context.Context, doc string, log *slog.Logger) (h bus.ChainHead, err error) {
	err = bus.Retry(ctx, w.cfg.retry.ForNATS(), log, "read record chain", func(ctx context.Context) error {
		var err error
		h, err = w.bus.RecordHead(ctx, doc)
		return err
	})
	return h, err
}

// alreadyChained checks the stored record is the one the log's entry names.
func (w *Worker) alreadyChained(ctx context.Context, key string, logged pipeline.RecordEntry, log *slog.Logger) error {
	obj, err := w.store.Get(ctx, pipeline.BucketProvenance, key)
	if err != nil {
		return fmt.Errorf("read provenance record %s, already in the record log: %w", key, err)
	}
	w.cfg.metrics.BytesRead(len(obj.Data))
	if got := objectstore.SHA256(obj.Data); got != logged.SHA256 {
		return bus.Because(pipeline.ReasonRecord, bus.Permanent(fmt.Errorf("provenance record %s does not match its record log entry: log has %s, store has %s", key, logged.SHA256, got)))
	}
	log.Info("record already chained", "seq", logged.Seq)
	return nil
}

// reportComplete logs the document's completion when its last page is done.
func (w *Worker) reportComplete(ctx context.Context, doc string) {
	pages, err := w.status.Pages(ctx, doc)
	if err != nil {
		return
	}
	failed, review := 0, 0
	for _, p := range pages {
		switch p.State {
		case pipeline.StateDone:
			if p.Verdict == pipeline.VerdictReview {
				review++
			}
		case pipeline.StateFailed:
			failed++
		default:
			return
		}
	}
	w.cfg.log.Info("stage event", "worker", w.cfg.id, pipeline.LogDoc, doc, pipeline.LogStage, "document",
		pipeline.LogOutcome, pipeline.OutcomeCompleted, "pages", len(pages), "failed", failed, "review", review)
}
