// Package metrics is Colophon's monitoring: the Prometheus metrics of a worker process, and
// the HTTP endpoints an orchestrator and Prometheus read (/metrics, /healthz, /readyz).
// The workers know nothing of Prometheus: each takes a small Metrics interface, which a
// Stage here satisfies.
package metrics

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/colophon-archive/colophon/pipeline"
)

// Metric names, as /metrics shows them.
const (
	NamePagesProcessed = "colophon_pages_processed_total"
	NamePagesFailed    = "colophon_pages_failed_total"
	NamePagesVerdict   = "colophon_pages_verdict_total"
	NamePagesReview    = "colophon_pages_review_total"
	NameRedelivered    = "colophon_jobs_redelivered_total"
	NameRecognition    = "colophon_recognition_seconds"
	NameBytesRead      = "colophon_bytes_read_total"
	NameBytesWritten   = "colophon_bytes_written_total"
	NameQueuePending   = "colophon_queue_pending"
	NameQueueAcks      = "colophon_queue_ack_pending"
	NameQueueRedeliver = "colophon_queue_redelivered"
)

// RecognitionBuckets are the recognition histogram's upper bounds, in seconds: a clean page
// takes about a second, a page read again two to four, and the per-page limit is 180.
var RecognitionBuckets = []float64{0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 180}

// Metrics holds one process's metrics in a registry of its own (not Prometheus's global
// one, so tests and several stacks in one process do not collide).
type Metrics struct {
	reg          *prometheus.Registry
	processed    *prometheus.CounterVec
	failed       *prometheus.CounterVec
	verdict      *prometheus.CounterVec
	review       *prometheus.CounterVec
	redelivered  *prometheus.CounterVec
	recognition  prometheus.Histogram
	bytesRead    *prometheus.CounterVec
	bytesWritten *prometheus.CounterVec
	queues       *queueCollector
}

// New makes the metrics, with Go's and the process's own (memory, CPU, file descriptors).
func New() *Metrics {
	stage := []string{"stage"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NamePagesProcessed,
			Help: "Pages this process took through its stage: recognised (ocr) or recorded (metadata)."}, stage),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NamePagesFailed,
			Help: "Pages failed for good by this process, by stage and reason."}, []string{"stage", "reason"}),
		verdict: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NamePagesVerdict,
			Help: "Pages this process marked done, by the quality verdict of their reading (ok or review)."}, []string{"verdict"}),
		review: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NamePagesReview,
			Help: "Reasons given for pages this process marked done with verdict review: one count per reason."}, []string{"reason"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameRedelivered,
			Help: "Jobs this process received on a second or later delivery (a retry, a crashed worker, a lost ack)."}, stage),
		recognition: prometheus.NewHistogram(prometheus.HistogramOpts{Name: NameRecognition,
			Help:    "Recognition time of each page (cleanup, orientation, every reading), read or failed.",
			Buckets: RecognitionBuckets}),
		bytesRead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameBytesRead,
			Help: "Bytes read from the store: scans (ocr), outputs read back to be hashed (metadata)."}, stage),
		bytesWritten: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameBytesWritten,
			Help: "Bytes written to the store: text, hOCR, ALTO and PDF (ocr), provenance records (metadata)."}, stage),
		queues: &queueCollector{},
	}
	// Every verdict and review reason exists at 0, so a rate over them is defined before
	// the first page is judged.
	for _, v := range []pipeline.Verdict{pipeline.VerdictOK, pipeline.VerdictReview} {
		m.verdict.WithLabelValues(string(v))
	}
	for _, l := range pipeline.ReviewLabels() {
		m.review.WithLabelValues(l)
	}
	m.reg.MustRegister(m.processed, m.failed, m.verdict, m.review, m.redelivered, m.recognition, m.bytesRead, m.bytesWritten, m.queues,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is what /metrics serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Stage is the metrics of one stage's worker: it satisfies ocr.Metrics and metadata.Metrics.
type Stage struct {
	m            *Metrics
	processed    prometheus.Counter
	failed       *prometheus.CounterVec
	redelivered  prometheus.Counter
	bytesRead    prometheus.Counter
	bytesWritten prometheus.Counter
}

// Stage returns the metrics of stage's worker. Every series of the stage exists from here
// on, at 0, so a rate over it is defined before the first page.
func (m *Metrics) Stage(stage pipeline.Stage) *Stage {
	s := string(stage)
	st := &Stage{
		m:            m,
		processed:    m.processed.WithLabelValues(s),
		failed:       m.failed.MustCurryWith(prometheus.Labels{"stage": s}),
		redelivered:  m.redelivered.WithLabelValues(s),
		bytesRead:    m.bytesRead.WithLabelValues(s),
		bytesWritten: m.bytesWritten.WithLabelValues(s),
	}
	for _, r := range pipeline.FailReasons {
		st.failed.WithLabelValues(string(r))
	}
	return st
}

func (s *Stage) PageDone() { s.processed.Inc() }

// PageFailed counts a failed page. A reason outside pipeline.FailReasons is counted as
// "other": the label set stays bounded whatever a caller passes.
func (s *Stage) PageFailed(reason pipeline.FailReason) {
	if !slices.Contains(pipeline.FailReasons, reason) {
		reason = pipeline.ReasonOther
	}
	s.failed.WithLabelValues(string(reason)).Inc()
}

// PageVerdict counts a page marked done with a quality verdict, and each reason of a review
// verdict (as pipeline.ReviewLabel names it). A verdict neither ok nor review is not
// counted: the label set stays bounded.
func (s *Stage) PageVerdict(verdict pipeline.Verdict, reasons []string) {
	if verdict != pipeline.VerdictOK && verdict != pipeline.VerdictReview {
		return
	}
	s.m.verdict.WithLabelValues(string(verdict)).Inc()
	if verdict != pipeline.VerdictReview {
		return
	}
	for _, r := range reasons {
		s.m.review.WithLabelValues(pipeline.ReviewLabel(r)).Inc()
	}
}

func (s *Stage) Redelivered()                { s.redelivered.Inc() }
func (s *Stage) Recognition(d time.Duration) { s.m.recognition.Observe(d.Seconds()) }
func (s *Stage) BytesRead(n int)             { s.bytesRead.Add(float64(n)) }
func (s *Stage) BytesWritten(n int)          { s.bytesWritten.Add(float64(n)) }

// ConsumerInfo reads a JetStream consumer's state.
type ConsumerInfo func(ctx context.Context) (*jetstream.ConsumerInfo, error)

// QueueTimeout bounds reading one queue's state at a scrape.
const QueueTimeout = 2 * time.Second

// WatchQueue has every scrape report stage's queue, read from its consumer then: jobs not
// yet delivered, delivered and not yet acknowledged, and redelivered and not yet
// acknowledged. A queue that cannot be read (NATS down) is left out of that scrape.
func (m *Metrics) WatchQueue(stage pipeline.Stage, info ConsumerInfo) {
	m.queues.mu.Lock()
	defer m.queues.mu.Unlock()
	m.queues.queues = append(m.queues.queues, queue{string(stage), info})
}

type queue struct {
	stage string
	info  ConsumerInfo
}

// queueCollector reads the queues at scrape time rather than on a timer: the figures are as
// fresh as the scrape, and nothing polls NATS when nobody is looking.
type queueCollector struct {
	mu     sync.Mutex
	queues []queue
}

var (
	descPending = prometheus.NewDesc(NameQueuePending,
		"Jobs in the stage's queue not yet delivered to a worker (JetStream consumer num_pending).", []string{"stage"}, nil)
	descAckPending = prometheus.NewDesc(NameQueueAcks,
		"Jobs delivered to a worker and not yet acknowledged: pages under way (num_ack_pending).", []string{"stage"}, nil)
	descRedelivered = prometheus.NewDesc(NameQueueRedeliver,
		"Jobs delivered more than once and not yet acknowledged (num_redelivered).", []string{"stage"}, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPending
	ch <- descAckPending
	ch <- descRedelivered
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	qs := append([]queue(nil), c.queues...)
	c.mu.Unlock()
	for _, q := range qs {
		ctx, cancel := context.WithTimeout(context.Background(), QueueTimeout)
		info, err := q.info(ctx)
		cancel()
		if err != nil || info == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(info.NumPending), q.stage)
		ch <- prometheus.MustNewConstMetric(descAckPending, prometheus.GaugeValue, float64(info.NumAckPending), q.stage)
		ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.GaugeValue, float64(info.NumRedelivered), q.stage)
	}
}
