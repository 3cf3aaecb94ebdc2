// Package ingest is the ingest worker: S3-native ingest. MinIO publishes an event on
// pipeline.SubjectS3Events for every object created in the scans bucket; for each one that
// Colophon did not store itself, the worker reads the object, makes it the next page(s) of
// the document its key names (<doc>/<file>), and stores and queues them as upload does.
package ingest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// Worker takes S3 events from the shared ingest consumer.
type Worker struct {
	store    *objectstore.Store
	client   *client.Client
	bus      *bus.Bus
	status   *bus.Status
	ingest   *bus.Ingest
	consumer jetstream.Consumer
	cfg      config
}

type config struct {
	id           string
	log          *slog.Logger
	concurrency  int
	grace        time.Duration
	retry        bus.RetryPolicy
	maxFileBytes int64
	maxPixels    int64
	notify       bool
	claimLease   time.Duration
}

// DefaultClaimLease is how long an object's ingest entry, while its pages are being claimed
// and queued, belongs to the handler that wrote it last. Past it, the handler is taken for
// dead (its event is redelivered 30 s after a crash) and another finishes its work. Far
// longer than a live handler takes between two writes of the entry.
const DefaultClaimLease = 5 * time.Minute

// Option configures a Worker.
type Option func(*config)

// WithID names the worker in logs and health; default "<host>-<pid>".
func WithID(id string) Option { return func(c *config) { c.id = id } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithConcurrency sets how many events are handled at once; default 2. The work is reading
// and storing objects, and counting the pages of PDFs.
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithRetry sets how long store and NATS calls are retried within one delivery.
func WithRetry(p bus.RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithMaxFileBytes bounds an object taken as a scan; default client.DefaultMaxFileBytes.
func WithMaxFileBytes(n int64) Option { return func(c *config) { c.maxFileBytes = n } }

// WithBucketNotification sets whether the worker, at start, has the scans bucket send its
// s3:ObjectCreated events to MinIO's Colophon NATS target (pipeline.NotifyARN) when it does
// not yet; default on. A deployment whose setup job does it (deploy/minio/init.sh) may turn
// it off and deny the worker s3:PutBucketNotification.
func WithBucketNotification(on bool) Option { return func(c *config) { c.notify = on } }

// New prepares a worker on the shared ingest consumer. b must have the pipeline topology.
func New(ctx context.Context, b *bus.Bus, store *objectstore.Store, opts ...Option) (*Worker, error) {
	// An attempt reads a whole object (up to 256 MiB) and counts a PDF's pages: more time
	// than a job's single store call.
	retry := bus.RetryPolicy{Budget: bus.DefaultRetry.Budget, AttemptTimeout: 2 * time.Minute}
	cfg := config{log: slog.Default(), concurrency: 2, grace: 5 * time.Second, retry: retry,
		maxFileBytes: client.DefaultMaxFileBytes, notify: true, claimLease: DefaultClaimLease}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.id == "" {
		cfg.id = bus.WorkerID()
	}
	if cfg.concurrency < 1 {
		return nil, fmt.Errorf("ingest worker concurrency %d: want 1 or more", cfg.concurrency)
	}
	cons, err := b.Consumer(ctx, pipeline.StreamS3Events, pipeline.ConsumerIngest)
	if err != nil {
		return nil, err
	}
	st, err := b.OpenStatus(ctx)
	if err != nil {
		return nil, err
	}
	in, err := b.OpenIngest(ctx)
	if err != nil {
		return nil, err
	}
	c, err := client.New(ctx, b, store)
	if err != nil {
		return nil, err
	}
	return &Worker{store: store, client: c, bus: b, status: st, ingest: in, consumer: cons, cfg: cfg}, nil
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	log := w.cfg.log.With("worker", w.cfg.id)
	log.Info("ingest worker started", "bucket", pipeline.BucketScans, "concurrency", w.cfg.concurrency)
	if w.cfg.notify {
		w.ensureNotification(ctx, log)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		w.bus.Announce(ctx, bus.WorkerInfo{Kind: pipeline.WorkerIngest, ID: w.cfg.id, Concurrency: w.cfg.concurrency, Started: time.Now().UTC()}, log)
	})
	for range w.cfg.concurrency {
		wg.Go(func() {
			bus.Pull(ctx, w.consumer, w.cfg.grace, log, func(jctx context.Context, msg jetstream.Msg) { w.handle(jctx, msg, log) })
		})
	}
	wg.Wait()
	log.Info("ingest worker stopped")
	return nil
}

// ensureNotification has the scans bucket publish its new objects to the Colophon NATS
// target. MinIO refuses it when it has no such target; the worker then still takes any
// events that come (another server, set up by hand, may publish them), and says how to fix it.
func (w *Worker) ensureNotification(ctx context.Context, log *slog.Logger) {
	nctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	added, err := w.store.EnsureObjectCreatedNotification(nctx, pipeline.BucketScans, pipeline.NotifyARN)
	switch {
	case err != nil:
		log.Warn("objects put straight into the scans bucket will not be ingested until the bucket sends its events to NATS",
			pipeline.LogError, err.Error(),
			"fix", fmt.Sprintf("give MinIO the NATS target %s (MINIO_NOTIFY_NATS_*_%s, see README: S3-native ingest), then: mc event add ALIAS/%s %s --event put",
				pipeline.NotifyTargetID, pipeline.NotifyTargetID, pipeline.BucketScans, pipeline.NotifyARN))
	case added:
		log.Info("scans bucket now sends s3:ObjectCreated events to NATS", "arn", pipeline.NotifyARN)
	}
}

// outcome is what became of one event.
type outcome struct {
	kind   string // pipeline.OutcomeOK, OutcomeSkipped, OutcomeFailed
	reason string // why skipped, or why failed
	doc    string
	first  int
	pages  int
	entry  pipeline.IngestEntry
}

func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, log *slog.Logger) {
	start := time.Now()
	stop := bus.Heartbeat(msg)
	defer stop()
	attempt := bus.Delivered(msg)
	log = log.With(pipeline.LogStage, pipeline.StageIngest)
	ev, err := pipeline.DecodeS3EventLog(msg.Data())
	if err != nil {
		reason := fmt.Sprintf("unreadable S3 event: %v", err)
		log.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, reason)
		if err := w.bus.DeadLetter(ctx, pipeline.StageIngest, msg, "", 0, reason); err != nil {
			log.Error("dead-letter", pipeline.LogError, err)
		}
		_ = msg.Term()
		return
	}
	// MinIO sends one record per message; each is handled on its own all the same.
	var retry error
	for _, rec := range ev.Records {
		key, kerr := rec.ObjectKey()
		if kerr != nil {
			key = rec.S3.Object.Key // as it came; object() refuses it
		}
		rlog := log.With("key", key, "version_id", rec.S3.Object.VersionID)
		var out outcome
		owner := w.cfg.id + "/" + rand.Text()[:12] // this handling of the event
		// An S3 or NATS outage is ridden out inside the delivery; object is idempotent.
		err := bus.Retry(ctx, w.cfg.retry, rlog, "ingest "+key, func(ctx context.Context) error {
			var err error
			out, err = w.object(ctx, rec, owner, rlog)
			return err
		})
		if err != nil && !bus.IsPermanent(err) && attempt < pipeline.MaxDeliver {
			retry = err
			rlog.Warn("stage event", pipeline.LogOutcome, pipeline.OutcomeRetry, pipeline.LogError, err.Error(), pipeline.LogAttempt, attempt)
			continue
		}
		if err != nil {
			if !bus.IsPermanent(err) {
				err = fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			out = w.fail(ctx, out.entry, err, rlog)
		}
		w.report(out, start, attempt, rlog)
	}
	if retry != nil {
		_ = msg.NakWithDelay(bus.Backoff(attempt))
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		log.Warn("ack S3 event", pipeline.LogError, err)
	}
}

func (w *Worker) report(out outcome, start time.Time, attempt uint64, log *slog.Logger) {
	if out.doc != "" {
		log = log.With(pipeline.LogDoc, out.doc)
	}
	dur := time.Since(start).Milliseconds()
	switch out.kind {
	case pipeline.OutcomeOK:
		log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeOK, "first_page", out.first, "pages", out.pages,
			pipeline.LogDuration, dur, pipeline.LogAttempt, attempt)
	case pipeline.OutcomeFailed:
		log.Error("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, out.reason, pipeline.LogDuration, dur, pipeline.LogAttempt, attempt)
	case "ignored":
		// Colophon's own scans and events that create nothing: every upload makes one.
		log.Debug("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", out.reason)
	default:
		log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", out.reason, pipeline.LogAttempt, attempt)
	}
}

// fail records an event that cannot be taken, under its object version, and says why,
// naming the object.
func (w *Worker) fail(ctx context.Context, e pipeline.IngestEntry, err error, log *slog.Logger) outcome {
	e.State, e.FirstPage, e.Pages, e.DocRevision = pipeline.IngestFailed, 0, 0, 0
	e.Error = fmt.Sprintf("s3://%s/%s: %v", e.Bucket, e.Key, err)
	if perr := w.ingest.Put(ctx, pipeline.IngestFailureKey(e.Bucket, e.Key, e.VersionID, e.ETag), e); perr != nil {
		log.Error("record ingest failure", pipeline.LogError, perr.Error())
	}
	return outcome{kind: pipeline.OutcomeFailed, reason: e.Error, doc: e.Doc, entry: e}
}

// objectMeta is what an object's user metadata says about its document.
type objectMeta struct {
	source, date, uploader string
	langs                  []string
}

func readMeta(m map[string]string, principal string) (objectMeta, error) {
	var om objectMeta
	om.source, _ = pipeline.UserMeta(m, pipeline.MetaSource)
	om.date, _ = pipeline.UserMeta(m, pipeline.MetaDate)
	om.source, om.date = strings.TrimSpace(om.source), strings.TrimSpace(om.date)
	if len(om.source) > client.MaxSourceBytes || !utf8.ValidString(om.source) {
		return om, fmt.Errorf("x-amz-meta-source must be valid UTF-8 of at most %d bytes", client.MaxSourceBytes)
	}
	if om.date != "" {
		if _, err := pipeline.ParseDate(om.date); err != nil {
			return om, fmt.Errorf("x-amz-meta-date: %w", err)
		}
	}
	if l, ok := pipeline.UserMeta(m, pipeline.MetaLanguages); ok && strings.TrimSpace(l) != "" {
		langs, err := pipeline.ParseLanguages(l)
		if err != nil {
			return om, fmt.Errorf("x-amz-meta-lang: %w", err)
		}
		om.langs = langs
	}
	om.uploader, _ = pipeline.UserMeta(m, pipeline.MetaUploader)
	if om.uploader = strings.TrimSpace(om.uploader); om.uploader == "" {
		// Who wrote the object, as S3 knows them: its access key.
		om.uploader = "s3:" + principal
		if principal == "" {
			om.uploader = "s3"
		}
	}
	if len(om.uploader) > client.MaxSourceBytes || !utf8.ValidString(om.uploader) {
		return om, fmt.Errorf("x-amz-meta-uploader must be valid UTF-8 of at most %d bytes", client.MaxSourceBytes)
	}
	return om, nil
}

// object handles one event record. A Permanent error is the object's fault: it is recorded
// as a failure and not retried; other errors are retried. out.entry names the object for
// the failure record.
func (w *Worker) object(ctx context.Context, ev pipeline.S3Event, owner string, log *slog.Logger) (out outcome, err error) {
	bucket := ev.S3.Bucket.Name
	out.entry = pipeline.IngestEntry{Bucket: bucket, Key: ev.S3.Object.Key, VersionID: ev.S3.Object.VersionID, ETag: strings.Trim(ev.S3.Object.ETag, `"`)}
	if bucket != pipeline.BucketScans || !ev.CreatesObject() {
		return outcome{kind: "ignored", reason: fmt.Sprintf("%s in bucket %s", ev.EventName, bucket)}, nil
	}
	key, err := ev.ObjectKey()
	if err != nil {
		return out, bus.Permanent(err)
	}
	out.entry.Key = key
	ver, etag := out.entry.VersionID, out.entry.ETag

	// Colophon's own scans (stored by upload, or copied here by ingest) are already pages.
	// Their key layout is Colophon's: an object there without Colophon's metadata (a stored
	// scan put back by hand, or mirrored without its metadata) is left alone too, never
	// taken for a new page.
	if pipeline.LooksLikeStoredScan(key) {
		if pipeline.IsStoredScan(key, ev.S3.Object.UserMetadata) {
			return outcome{kind: "ignored", reason: "a scan Colophon stored"}, nil
		}
		log.Warn("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped,
			"reason", "the key has the layout of a scan Colophon stores (<doc>/<page>/<sha256>.<ext>) but not its metadata: left alone; put new scans under <doc>/<file>")
		return outcome{kind: "ignored", reason: "Colophon's scan layout"}, nil
	}

	// This very version failed before: the same event again.
	failKey := pipeline.IngestFailureKey(bucket, key, ver, etag)
	if f, _, found, err := w.ingest.Get(ctx, failKey); err != nil {
		return out, err
	} else if found {
		return outcome{kind: pipeline.OutcomeSkipped, reason: "this version was refused before: " + f.Error, doc: f.Doc}, nil
	}

	doc, file, err := pipeline.ParseIngestKey(key)
	if err != nil {
		return out, bus.Permanent(err)
	}
	out.entry.Doc, out.doc = doc, doc
	objKey := pipeline.IngestObjectKey(bucket, key)
	e, rev, found, err := w.ingest.Get(ctx, objKey)
	if err != nil {
		return out, err
	}
	if found && e.State == pipeline.IngestQueued && e.VersionID == ver && e.ETag == etag {
		return outcome{kind: pipeline.OutcomeSkipped, doc: doc, reason: fmt.Sprintf("already ingested as pages %d to %d", e.FirstPage, e.FirstPage+e.Pages-1)}, nil
	}
	if found && e.State != pipeline.IngestQueued && e.Owner != owner && time.Since(e.Updated) < w.cfg.claimLease {
		// Another event of this key (the same one twice, or a PUT again) is being taken:
		// once it is, this one finds it done.
		return out, fmt.Errorf("another worker (%s) is ingesting this key since %s; this event waits for it", e.Owner, e.Updated.Format(time.RFC3339))
	}

	obj, err := w.store.GetVersion(ctx, bucket, key, ver, w.cfg.maxFileBytes)
	switch {
	case errors.Is(err, objectstore.ErrNotFound):
		return out, bus.Permanent(fmt.Errorf("the object (version %s) is gone: it was deleted before it could be read", ver))
	case errors.Is(err, objectstore.ErrTooLarge):
		return out, bus.Permanent(err)
	case err != nil:
		return out, err
	}
	sum := objectstore.SHA256(obj.Data)
	out.entry.SHA256 = sum
	if found && e.SHA256 == sum && e.State == pipeline.IngestQueued {
		// PUT again with the same bytes: a new version of the object, not a new page.
		return outcome{kind: pipeline.OutcomeSkipped, doc: doc, reason: fmt.Sprintf("unchanged: the same bytes as version %s, pages %d to %d", e.VersionID, e.FirstPage, e.FirstPage+e.Pages-1)}, nil
	}
	if found && e.SHA256 != sum && e.State == pipeline.IngestQueued {
		return out, bus.Permanent(fmt.Errorf("the key was already ingested as page %d of document %s (sha256 %s), and a page's scan is never replaced; "+
			"put the new scan under a new name to add it as a new page, or run `colophon reprocess %s --page %d` to read the stored one again",
			e.FirstPage, e.Doc, e.SHA256, e.Doc, e.FirstPage))
	}
	if found && e.SHA256 != sum {
		// Other bytes under this key were being taken when their worker stopped: their own
		// event, redelivered, finishes them.
		return out, bus.Permanent(fmt.Errorf("other bytes under this key (sha256 %s) were being ingested when their worker stopped, and a page's scan is never replaced; put the new scan under a new name",
			e.SHA256))
	}

	om, err := readMeta(obj.Metadata, ev.UserIdentity.PrincipalID)
	if err != nil {
		return out, bus.Permanent(err)
	}
	pages, refusal, err := client.CheckScan(ctx, obj.Data, w.cfg.maxPixels)
	if err != nil {
		return out, err
	}
	if refusal != "" {
		pages = 1 // a file that is not a scan is one failed page, as upload makes it
	}
	switch {
	case !found:
		e = out.entry
		e.State, e.Pages, e.Owner = pipeline.IngestAllocating, pages, owner
		if rev, err = w.ingest.Write(ctx, objKey, e, 0); err != nil {
			return out, err // another handler made it first: look again
		}
	case e.Owner != owner:
		// Its worker stopped half way (the lease ran out): finish its work as ours.
		log.Warn("taking over an unfinished ingest", "owner", e.Owner, "state", e.State, "first_page", e.FirstPage)
		e.Owner = owner
		if rev, err = w.ingest.Write(ctx, objKey, e, rev); err != nil {
			return out, err
		}
	}
	req, first, err := w.allocate(ctx, objKey, &e, &rev, om)
	if err != nil {
		if bus.IsPermanent(err) {
			// Nothing was claimed: let a corrected version of the object be taken.
			if derr := w.ingest.Delete(ctx, objKey, rev); derr != nil {
				log.Warn("forget refused object", pipeline.LogError, derr.Error())
			}
		}
		return out, err
	}
	req.MaxPixels = w.cfg.maxPixels
	res, err := w.client.QueueScanFile(ctx, req, first, client.ScanFile{Path: key, Name: file, Data: obj.Data, Pages: pages, Refusal: refusal})
	if err != nil {
		return out, err
	}
	e.State, e.DocRevision = pipeline.IngestQueued, 0
	if _, err := w.ingest.Write(ctx, objKey, e, rev); err != nil && !errors.Is(err, bus.ErrConflict) {
		return out, err
	}
	for _, pr := range res {
		if pr.Error != "" {
			log.Error("stage event", pipeline.LogDoc, doc, pipeline.LogPage, pr.Page, pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, pr.Error)
		}
	}
	return outcome{kind: pipeline.OutcomeOK, doc: doc, first: first, pages: pages}, nil
}

// allocate claims the next e.Pages page numbers of e.Doc for the object: a compare-and-set
// on the document's status entry, so objects of one document arriving at once get distinct
// pages. The claim is written to the object's ingest entry before the document's, so a
// worker that dies in between leaves enough for the redelivery to tell whether the pages
// became the object's. It returns the request to queue the pages with.
func (w *Worker) allocate(ctx context.Context, objKey string, e *pipeline.IngestEntry, rev *uint64, om objectMeta) (client.UploadRequest, int, error) {
	req := client.UploadRequest{Doc: e.Doc, Uploader: om.uploader}
	if e.State == pipeline.IngestAllocated && e.FirstPage > 0 {
		d, err := w.status.Document(ctx, e.Doc)
		if err != nil {
			return req, 0, err
		}
		return w.request(req, d, om), e.FirstPage, nil
	}
	if e.State == pipeline.IngestAllocating && e.FirstPage > 0 {
		// A claim begun by a worker that died: did the document's entry take it?
		d, drev, err := w.status.DocumentRevision(ctx, e.Doc)
		if err != nil && !errors.Is(err, bus.ErrNoDocument) {
			return req, 0, err
		}
		if err == nil && drev != e.DocRevision && d.Pages >= e.FirstPage+e.Pages-1 {
			p, pfound, err := w.status.Page(ctx, e.Doc, e.FirstPage)
			if err != nil {
				return req, 0, err
			}
			if !pfound || p.ScanSHA256 == e.SHA256 {
				return w.request(req, d, om), e.FirstPage, nil
			}
		}
	}
	first := 0
	d, _, err := w.status.UpdateDocument(ctx, e.Doc, func(d *pipeline.DocumentStatus, drev uint64, found bool) error {
		if !found {
			if om.source == "" {
				return bus.Permanent(fmt.Errorf("document %s is new and the object has no source: set x-amz-meta-source (where the pages come from: archive, collection, box)", e.Doc))
			}
			*d = pipeline.DocumentStatus{Doc: e.Doc, Source: om.source, Date: om.date, Languages: om.langs, Created: time.Now().UTC()}
			if len(d.Languages) == 0 {
				d.Languages = []string{"eng"}
			}
		} else if (om.source != "" && om.source != d.Source) || (om.date != "" && om.date != d.Date) {
			return bus.Permanent(fmt.Errorf("document %s exists with source %q and date %q, and the object says source %q and date %q: give the same (or none), or put it under another document",
				e.Doc, d.Source, d.Date, om.source, om.date))
		}
		if d.Pages+e.Pages > pipeline.MaxPages {
			return bus.Permanent(fmt.Errorf("document %s has %d pages: %d more would pass the limit of %d", e.Doc, d.Pages, e.Pages, pipeline.MaxPages))
		}
		first = d.Pages + 1
		claim := *e
		claim.State, claim.FirstPage, claim.DocRevision = pipeline.IngestAllocating, first, drev
		n, err := w.ingest.Write(ctx, objKey, claim, *rev)
		if err != nil {
			return err
		}
		*e, *rev = claim, n
		d.Pages += e.Pages
		return nil
	})
	if err != nil {
		return req, 0, err
	}
	claimed := *e
	claimed.State, claimed.DocRevision = pipeline.IngestAllocated, 0
	n, err := w.ingest.Write(ctx, objKey, claimed, *rev)
	if err != nil {
		return req, 0, err
	}
	*e, *rev = claimed, n
	return w.request(req, d, om), first, nil
}

// request fills in the document's source and date, and the languages: the object's, else
// the document's, else English.
func (w *Worker) request(req client.UploadRequest, d pipeline.DocumentStatus, om objectMeta) client.UploadRequest {
	req.Source, req.Date, req.Languages = d.Source, d.Date, om.langs
	if len(req.Languages) == 0 {
		req.Languages = d.Languages
	}
	if len(req.Languages) == 0 {
		req.Languages = []string{"eng"}
	}
	return req
}
