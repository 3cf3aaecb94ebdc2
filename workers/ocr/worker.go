// Package ocr is the OCR worker: it takes page jobs from the OCR stream, checks the scan
// against its checksum, recognises it with Tesseract, stores the text and hands the page on
// to the metadata worker.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/internal/version"
	"github.com/colophon-archive/colophon/pipeline"
)

// Store is what the worker needs of the object store.
type Store interface {
	Get(ctx context.Context, bucket, key string) (objectstore.Object, error)
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string, meta map[string]string) (created bool, err error)
}

// Bus is what the worker needs of NATS.
type Bus interface {
	Publish(ctx context.Context, subject string, data []byte, msgID string) (bool, error)
	DeadLetter(ctx context.Context, stage pipeline.Stage, msg jetstream.Msg, doc string, page int, reason string) error
}

// Status is what the worker needs of the status bucket.
type Status interface {
	UpdatePage(ctx context.Context, doc string, page int, mutate func(p *pipeline.PageStatus, found bool) error) (pipeline.PageStatus, error)
	FailPage(ctx context.Context, doc string, page, version int, reason string) error
	Page(ctx context.Context, doc string, page int) (pipeline.PageStatus, bool, error)
}

// Recognizer reads one page at a time. Each worker goroutine owns one.
type Recognizer interface {
	// Load prepares the model, so the first page does not pay for it.
	Load() error
	// Read recognises a page; it stops when ctx ends.
	Read(ctx context.Context, p tesseract.Page) (tesseract.Result, error)
	// Orientation says how the page lies.
	Orientation(ctx context.Context, img *image.Gray, dpi int) (tesseract.Orientation, error)
	// Models names the model files it reads with, by SHA-256.
	Models() ([]tesseract.Model, error)
	Close() error
}

// Metrics counts what the worker does, for monitoring; internal/metrics has the Prometheus
// one. Without WithMetrics nothing is counted.
type Metrics interface {
	PageDone()
	PageFailed(reason pipeline.FailReason)
	// Redelivered counts a job delivered again (after a retry, a crash or a lost ack).
	Redelivered()
	// Recognition is one page's recognition time: cleanup, orientation, every reading.
	Recognition(d time.Duration)
	BytesRead(n int)    // scan bytes fetched from the store
	BytesWritten(n int) // output bytes stored
}

type noMetrics struct{}

func (noMetrics) PageDone()                      {}
func (noMetrics) PageFailed(pipeline.FailReason) {}
func (noMetrics) Redelivered()                   {}
func (noMetrics) Recognition(time.Duration)      {}
func (noMetrics) BytesRead(int)                  {}
func (noMetrics) BytesWritten(int)               {}

// Worker runs Concurrency recognitions at a time.
type Worker struct {
	store     Store
	bus       Bus
	status    Status
	consumer  jetstream.Consumer
	announce  func(ctx context.Context, info bus.WorkerInfo)
	exhausted func(ctx context.Context, st bus.PageFailer, onFailed func(), log *slog.Logger) error
	cfg       config
	engineVer string
	host      string
	versions  struct{ leptonica, gosseract, colophon string }
}

type config struct {
	concurrency int
	id          string
	log         *slog.Logger
	defaultDPI  int
	maxPixels   int64
	grace       time.Duration
	pageTimeout time.Duration
	retry       bus.RetryPolicy
	newEngine   func() Recognizer
	preprocess  bool                                                   // clean scans before recognition
	orient      bool                                                   // detect orientation and turn pages upright
	guess       func(*image.Gray, int) (preprocess.Orientation, error) // the letter-shape orientation guess
	retryBelow  float64                                                // look at the orientation again when mean confidence is under this; 0: never read a page twice
	// A first reading scoring under readAgainBelow is read cleaned too, and under
	// localBelow with Sauvola (judge.go); tests raise them to force the readings.
	readAgainBelow, localBelow float64
	metrics                    Metrics
}

// Option configures a Worker.
type Option func(*config)

// WithConcurrency sets how many pages are recognised at once; default one per CPU, since
// each recognition is single-threaded (OMP_THREAD_LIMIT=1).
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = n } }

// WithID names the worker in logs, provenance and health; default "<host>-<pid>".
func WithID(id string) Option { return func(c *config) { c.id = id } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithDefaultDPI sets the resolution assumed for scans that declare none (or an absurd one,
// like the 1 dpi some scanners write); default 300, the usual archival scanning resolution.
func WithDefaultDPI(dpi int) Option { return func(c *config) { c.defaultDPI = dpi } }

// WithMaxPixels bounds the pixels a scan's header may declare; default imageinfo.DefaultMaxPixels.
func WithMaxPixels(n int64) Option { return func(c *config) { c.maxPixels = n } }

// WithShutdownGrace sets how long an in-flight page may take to finish once the worker is
// asked to stop, before it is handed back to the queue; default 8 s.
func WithShutdownGrace(d time.Duration) Option { return func(c *config) { c.grace = d } }

// DefaultPageTimeout is the per-page recognition limit: a clean page takes about a second,
// a hard one a minute; past three minutes a page is failed rather than holding a core.
const DefaultPageTimeout = 180 * time.Second

// WithPageTimeout sets the per-page recognition time limit; default DefaultPageTimeout.
func WithPageTimeout(d time.Duration) Option { return func(c *config) { c.pageTimeout = d } }

// WithRetry sets how long store and NATS calls are retried within one delivery.
func WithRetry(p bus.RetryPolicy) Option { return func(c *config) { c.retry = p } }

// WithPreprocessing turns the cleanup before recognition (border removal, normalisation,
// deskew, binarisation, despeckle) on or off; default on.
func WithPreprocessing(on bool) Option { return func(c *config) { c.preprocess = on } }

// WithOrientation turns orientation detection (pages turned 90, 180 or 270 degrees) on or
// off; default on.
func WithOrientation(on bool) Option { return func(c *config) { c.orient = on } }

// WithRetryBelow sets the mean word confidence under which a reading is taken as perhaps
// of a page turned on its side or upside down, and the page's orientation is looked at
// again; default DefaultRetryBelow. 0 reads every page once, as it comes: no orientation
// check after reading, no cleaned or second reading however poor the first.
func WithRetryBelow(conf float64) Option { return func(c *config) { c.retryBelow = conf } }

// WithMetrics has the worker count pages, failures, bytes and recognition times in m.
func WithMetrics(m Metrics) Option { return func(c *config) { c.metrics = m } }

// WithRecognizer replaces Tesseract, for tests of the worker's own logic.
func WithRecognizer(newEngine func() Recognizer) Option {
	return func(c *config) { c.newEngine = newEngine }
}

// New prepares a worker on the shared OCR consumer. b must have the pipeline topology.
func New(ctx context.Context, b *bus.Bus, store *objectstore.Store, opts ...Option) (*Worker, error) {
	cfg := config{
		concurrency:    runtime.NumCPU(),
		log:            slog.Default(),
		defaultDPI:     300,
		grace:          8 * time.Second,
		pageTimeout:    DefaultPageTimeout,
		retry:          bus.DefaultRetry,
		newEngine:      func() Recognizer { return tesseract.New("eng") },
		preprocess:     true,
		orient:         true,
		guess:          preprocess.GuessOrientation,
		retryBelow:     DefaultRetryBelow,
		readAgainBelow: readAgainBelow,
		localBelow:     localBelow,
	}
	for _, o := range opts {
		o(&cfg)
	}
	// A gosseract upgrade that moved what the engine reads refuses the worker, by name,
	// instead of failing every page.
	if err := tesseract.CheckGosseract(); err != nil {
		return nil, fmt.Errorf("OCR worker: %w", err)
	}
	if cfg.metrics == nil {
		cfg.metrics = noMetrics{}
	}
	if cfg.id == "" {
		cfg.id = bus.WorkerID()
	}
	if cfg.concurrency < 1 {
		return nil, fmt.Errorf("OCR worker concurrency %d: want 1 or more", cfg.concurrency)
	}
	if cfg.pageTimeout <= 0 {
		return nil, fmt.Errorf("OCR page timeout %s: want more than zero", cfg.pageTimeout)
	}
	host, _ := os.Hostname() // recorded as is; empty if the system will not say
	cons, err := b.Consumer(ctx, pipeline.StreamOCR, pipeline.ConsumerOCR)
	if err != nil {
		return nil, err
	}
	st, err := b.OpenStatus(ctx)
	if err != nil {
		return nil, err
	}
	return &Worker{
		store:    store,
		bus:      b,
		status:   st,
		consumer: cons,
		announce: func(ctx context.Context, info bus.WorkerInfo) { b.Announce(ctx, info, cfg.log) },
		exhausted: func(ctx context.Context, st bus.PageFailer, onFailed func(), log *slog.Logger) error {
			return b.HandleExhausted(ctx, pipeline.StreamOCR, pipeline.ConsumerOCR, pipeline.StageOCR, st, onFailed, log)
		},
		cfg:       cfg,
		engineVer: tesseract.Version(),
		host:      host,
		versions: struct{ leptonica, gosseract, colophon string }{
			preprocess.Version(), version.Module("github.com/otiai10/gosseract/v2"), version.Colophon()},
	}, nil
}

// Run works until ctx ends, then lets in-flight pages finish (or hands them back) and returns.
func (w *Worker) Run(ctx context.Context) error {
	log := w.cfg.log.With("worker", w.cfg.id)
	log.Info("OCR worker started", "concurrency", w.cfg.concurrency, "engine", tesseract.Name, "engine_version", w.engineVer,
		"page_timeout", w.cfg.pageTimeout.String())
	m := w.cfg.metrics
	if err := w.exhausted(ctx, w.status, func() { m.PageFailed(pipeline.ReasonExhausted) }, log); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.announce(ctx, bus.WorkerInfo{Kind: pipeline.WorkerOCR, ID: w.cfg.id, Concurrency: w.cfg.concurrency, Started: time.Now().UTC()})
	}()
	for range w.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := w.newSlot(log)
			defer s.close()
			bus.Pull(ctx, w.consumer, w.cfg.grace, log, func(jctx context.Context, msg jetstream.Msg) {
				w.handle(jctx, msg, s, log)
				// A page leaves tens of MiB of garbage on the Go heap (the decoded and
				// cleaned images, the outputs), and the heap grows to twice what a page
				// holds before the collector runs; returned to the system now, the worker's
				// memory between pages is the same after 500 pages as after 50. A
				// collection of a heap this small takes a few milliseconds a page.
				debug.FreeOSMemory()
			})
		}()
	}
	wg.Wait()
	log.Info("OCR worker stopped")
	return nil
}

func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, s *slot, log *slog.Logger) {
	start := time.Now()
	// Heartbeat from the first moment: retries during a store outage take time too.
	stop := bus.Heartbeat(msg)
	defer stop()
	attempt := bus.Delivered(msg)
	m := w.cfg.metrics
	if attempt > 1 {
		m.Redelivered()
	}
	job, err := pipeline.DecodeOCRJob(msg.Data())
	if err != nil {
		m.PageFailed(pipeline.ReasonUnreadableJob)
		reason := fmt.Sprintf("unreadable OCR job: %v", err)
		log.Error("stage event", pipeline.LogStage, pipeline.StageOCR, pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, reason)
		if err := w.bus.DeadLetter(ctx, pipeline.StageOCR, msg, job.Doc, job.Page, reason); err != nil {
			log.Error("dead-letter", pipeline.LogError, err)
		}
		_ = msg.Term()
		return
	}
	log = log.With(pipeline.LogDoc, job.Doc, pipeline.LogPage, job.Page, pipeline.LogStage, pipeline.StageOCR)

	// A redelivered job whose page already moved on (the ack was lost) is done: skip it
	// rather than recognise the page twice.
	var skip string
	_, err = w.status.UpdatePage(ctx, job.Doc, job.Page, func(p *pipeline.PageStatus, found bool) error {
		if found && p.Version > job.Version {
			skip = fmt.Sprintf("page is at version %d", p.Version)
			return bus.ErrUnchanged
		}
		if found && p.Version == job.Version && p.State != pipeline.StateQueued && p.State != pipeline.StateOCR {
			skip = "page already " + string(p.State)
			return bus.ErrUnchanged
		}
		p.State, p.Version, p.ScanSHA256, p.Error = pipeline.StateOCR, job.Version, job.Scan.SHA256, ""
		// The status points at the scan the current version reads, whoever queued it.
		p.ScanKey, p.ScanBytes, p.FilePage = job.Scan.Key, job.Scan.Bytes, job.FilePage
		if p.FileName == "" {
			p.FileName = job.FileName
		}
		return nil
	})
	if err != nil {
		if bus.RetryOrFail(ctx, msg, job, pipeline.StageOCR, err, start, w.status, w.bus, log) {
			m.PageFailed(bus.ReasonOf(err))
		}
		return
	}
	if skip != "" {
		_ = msg.Ack()
		log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", skip, pipeline.LogAttempt, attempt)
		return
	}
	log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeStarted, pipeline.LogAttempt, attempt)

	info, err := w.process(ctx, job, s, log)
	var late superseded
	if errors.As(err, &late) {
		_ = msg.Ack()
		log.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", late.why, pipeline.LogDuration, time.Since(start).Milliseconds(), pipeline.LogAttempt, attempt)
		return
	}
	if err != nil {
		if bus.RetryOrFail(ctx, msg, job, pipeline.StageOCR, err, start, w.status, w.bus, log) {
			m.PageFailed(bus.ReasonOf(err))
		}
		return
	}
	if err := msg.DoubleAck(ctx); err != nil {
		// The page is safely handed on; a redelivery will be skipped above.
		log.Warn("ack OCR job", pipeline.LogError, err)
	}
	m.PageDone()
	attrs := []any{pipeline.LogOutcome, pipeline.OutcomeOK, pipeline.LogDuration, time.Since(start).Milliseconds(),
		"recognition_ms", info.DurationMS, "confidence", fmt.Sprintf("%.1f", info.MeanConfidence), "words", info.Words,
		"readings", max(1, len(info.Attempts)), "dpi", info.DPI, pipeline.LogAttempt, attempt}
	if q := info.Quality; q != nil {
		attrs = append(attrs, "verdict", q.Verdict, "score", fmt.Sprintf("%.3f", q.Score))
		if r := q.Review(); r != "" {
			attrs = append(attrs, "review", r)
		}
	}
	log.Info("stage event", attrs...)
}

// process does the page's work. Errors wrapped with bus.Permanent are the page's fault;
// others (store or NATS trouble) have already been retried for the retry budget.
func (w *Worker) process(ctx context.Context, job pipeline.OCRJob, s *slot, log *slog.Logger) (pipeline.OCRInfo, error) {
	var info pipeline.OCRInfo
	var obj objectstore.Object
	err := bus.Retry(ctx, w.cfg.retry, log, "fetch scan", func(ctx context.Context) error {
		var err error
		obj, err = w.store.Get(ctx, job.Scan.Bucket, job.Scan.Key)
		switch {
		case errors.Is(err, objectstore.ErrNotFound):
			return bus.Because(pipeline.ReasonMissingObject, bus.Permanent(fmt.Errorf("scan %s is missing from the store", job.Scan.Key)))
		case errors.Is(err, objectstore.ErrUnreadable):
			// Damaged on the store's drives: no retry mends it, so the page fails now.
			return bus.Because(pipeline.ReasonUnreadable, bus.Permanent(fmt.Errorf("scan %s: %w (damaged on its drives; heal or restore it, then reprocess the page)", job.Scan.Key, err)))
		}
		return err
	})
	if err != nil {
		return info, err
	}
	w.cfg.metrics.BytesRead(len(obj.Data))
	if got := objectstore.SHA256(obj.Data); got != job.Scan.SHA256 {
		return info, bus.Because(pipeline.ReasonChecksum,
			bus.Permanent(fmt.Errorf("scan %s checksum mismatch: job says %s, store has %s", job.Scan.Key, job.Scan.SHA256, got)))
	}
	// A page of a multi-page file is its place in it; pages of single-image files are 0.
	img, hdr, err := imageinfo.DecodePage(ctx, obj.Data, max(job.FilePage, 1)-1, imageinfo.Limits{MaxPixels: w.cfg.maxPixels})
	if err != nil {
		if ctx.Err() != nil {
			return info, ctx.Err()
		}
		if job.FilePage > 0 {
			err = fmt.Errorf("page %d of the file: %w", job.FilePage, err)
		}
		return info, bus.Because(pipeline.ReasonBadImage, bus.Permanent(err))
	}
	obj.Data = nil // the decoded image is all we need from here on

	t0 := time.Now()
	// The PDF is dated when the page was submitted, not when it was read: a page read twice
	// (a redelivery after a lost ack) gives the same bytes, and the checksums the metadata
	// job carries hold whichever reading's objects the store kept.
	// DPI is what the header declares; the reading settles the resolution from the text.
	r, err := s.readPage(ctx, log, tesseract.Page{Image: img, DPI: hdr.DPI, Number: job.Page, Langs: job.Languages,
		Title: fmt.Sprintf("%s page %d", job.Doc, job.Page), Created: job.Submitted})
	if err != nil && ctx.Err() != nil {
		return info, ctx.Err() // stopped, not measured
	}
	w.cfg.metrics.Recognition(time.Duration(r.info.DurationMS) * time.Millisecond)
	if err != nil {
		return info, bus.Permanent(err)
	}
	info = r.info
	info.Engine, info.EngineVersion, info.Languages = tesseract.Name, w.engineVer, job.Languages
	info.DPI, info.Worker, info.Host, info.Recognised, info.Finished = r.dpi, w.cfg.id, w.host, t0.UTC(), time.Now().UTC()
	info.LeptonicaVersion, info.GosseractVersion, info.ColophonVersion = w.versions.leptonica, w.versions.gosseract, w.versions.colophon
	info.InputTextLayer = hdr.TextLayer
	info.Models = r.models

	outputs := []struct {
		format, key, contentType string
		data                     []byte
	}{
		{pipeline.FormatText, pipeline.TextKey(job.Doc, job.Page, job.Version), "text/plain; charset=utf-8", []byte(r.res.Text)},
		{pipeline.FormatHOCR, pipeline.HOCRKey(job.Doc, job.Page, job.Version), "text/html; charset=utf-8", r.res.HOCR},
		{pipeline.FormatALTO, pipeline.ALTOKey(job.Doc, job.Page, job.Version), "application/xml", r.res.ALTO},
		{pipeline.FormatPDF, pipeline.PDFKey(job.Doc, job.Page, job.Version), "application/pdf", r.res.PDF},
	}
	// A worker that read the page late (paused past the ack wait while another finished
	// it) stores nothing: the page's outputs are the ones its record vouches for.
	if err := w.checkCurrent(ctx, job); err != nil {
		return info, err
	}
	refs := map[string]*pipeline.ObjectRef{}
	for _, o := range outputs {
		if o.data == nil && o.format != pipeline.FormatText {
			continue
		}
		ref, err := w.storeOutput(ctx, job, o.format, o.key, o.contentType, o.data, log)
		if err != nil {
			return info, err
		}
		refs[o.format] = &ref
	}
	mj := pipeline.MetadataJob{OCRJob: job, Text: *refs[pipeline.FormatText], HOCR: refs[pipeline.FormatHOCR], ALTO: refs[pipeline.FormatALTO], PDF: refs[pipeline.FormatPDF], OCR: info}
	data, err := pipeline.Encode(mj)
	if err != nil {
		return info, err
	}
	// A duplicate on the first try is another reading of this job that handed the page on
	// first (a later try's duplicate may be this one's own publish whose answer was lost).
	tries, handedOn := 0, false
	err = bus.Retry(ctx, w.cfg.retry.ForNATS(), log, "queue metadata job", func(ctx context.Context) error {
		tries++
		dup, err := w.bus.Publish(ctx, pipeline.SubjectMetadata, data, mj.MsgID())
		handedOn = dup && tries == 1
		return err
	})
	if err != nil {
		return info, err
	}
	if handedOn {
		return info, superseded{"another reading of this job handed the page on first"}
	}
	err = bus.Retry(ctx, w.cfg.retry.ForNATS(), log, "update status", func(ctx context.Context) error {
		_, err := w.status.UpdatePage(ctx, job.Doc, job.Page, func(p *pipeline.PageStatus, _ bool) error {
			if p.Version != job.Version || p.State != pipeline.StateOCR {
				return bus.ErrUnchanged // the metadata worker was quicker
			}
			p.State = pipeline.StateMetadata
			return nil
		})
		return err
	})
	return info, err
}

// superseded is process's answer when the page moved on while it was being read: another
// worker finished it or handed it on, or a newer version was queued. Nothing of this
// reading is kept, and it is not counted as a page read.
type superseded struct{ why string }

func (s superseded) Error() string { return s.why }

// checkCurrent returns superseded when job's page is no longer this worker's to finish.
func (w *Worker) checkCurrent(ctx context.Context, job pipeline.OCRJob) error {
	p, found, err := w.status.Page(ctx, job.Doc, job.Page)
	switch {
	case err != nil:
		return fmt.Errorf("read status: %w", err)
	case !found:
		return nil
	case p.Version > job.Version:
		return superseded{fmt.Sprintf("page is at version %d", p.Version)}
	case p.Version == job.Version && (p.State == pipeline.StateDone || p.State == pipeline.StateFailed):
		return superseded{"page already " + string(p.State)}
	}
	return nil
}

// storeOutput stores one output where none is yet. Found stored already (an earlier reading
// of this job, by a worker that stopped before handing the page on, or one racing this one),
// the stored object is kept and named in the metadata job: once stored, an output may be in
// a record, and is never replaced.
func (w *Worker) storeOutput(ctx context.Context, job pipeline.OCRJob, format, key, contentType string, data []byte, log *slog.Logger) (pipeline.ObjectRef, error) {
	ref := pipeline.ObjectRef{Bucket: pipeline.BucketTexts, Key: key, SHA256: objectstore.SHA256(data), Bytes: int64(len(data))}
	meta := map[string]string{pipeline.MetaSHA256: ref.SHA256, pipeline.MetaDoc: job.Doc, pipeline.MetaPage: fmt.Sprint(job.Page)}
	var created bool
	err := bus.Retry(ctx, w.cfg.retry, log, "store "+format, func(ctx context.Context) error {
		var err error
		created, err = w.store.PutIfAbsent(ctx, ref.Bucket, ref.Key, data, contentType, meta)
		return err
	})
	if err != nil {
		return ref, err
	}
	if created {
		w.cfg.metrics.BytesWritten(len(data))
		return ref, nil
	}
	var stored objectstore.Object
	err = bus.Retry(ctx, w.cfg.retry, log, "read stored "+format, func(ctx context.Context) error {
		var err error
		stored, err = w.store.Get(ctx, ref.Bucket, ref.Key)
		return err
	})
	if err != nil {
		return ref, err
	}
	if sum := objectstore.SHA256(stored.Data); sum != ref.SHA256 {
		log.Info("output stored by an earlier reading kept", "format", format, "stored_sha256", sum, "read_sha256", ref.SHA256)
		ref.SHA256, ref.Bytes = sum, int64(len(stored.Data))
	}
	return ref, nil
}

// slot is one recognition at a time: a worker goroutine and the engine it owns.
type slot struct {
	w      *Worker
	log    *slog.Logger
	engine Recognizer
}

func (w *Worker) newSlot(log *slog.Logger) *slot {
	s := &slot{w: w, log: log}
	s.engine = s.loadEngine()
	return s
}

func (s *slot) loadEngine() Recognizer {
	e := s.w.cfg.newEngine()
	if err := e.Load(); err != nil {
		// Pages will fail with the reason; the worker stays up.
		s.log.Error("load OCR model", pipeline.LogError, err)
	}
	return e
}

func (s *slot) close() { _ = s.engine.Close() }
