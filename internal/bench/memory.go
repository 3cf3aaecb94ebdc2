package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

// MaxRSSGrowth is the memory target for an OCR worker: its resident set after 500 pages
// at most this many times its resident set after 50.
const MaxRSSGrowth = 1.2

// MemoryOptions says which worker to measure and what to feed it.
type MemoryOptions struct {
	// Binary is the colophon executable to run as `colophon worker ocr --concurrency 1`;
	// a command measuring itself passes os.Executable().
	Binary string
	// Env is the worker's environment; nil means os.Environ(). It must point the worker at
	// the deployment Client uses: COLOPHON_NATS_URL, COLOPHON_S3_ENDPOINT,
	// COLOPHON_S3_ACCESS_KEY, COLOPHON_S3_SECRET_KEY (and any NATS sign-in or TLS variables).
	Env []string
	// Client (a *client.Client) uploads the pages and follows them. The deployment must run
	// no other OCR worker (it would take pages from the one measured); metadata workers are
	// not needed.
	Client Client
	// Files are page scans, uploaded in turn (and again from the first) until Pages pages
	// have been sent.
	Files []string
	// Pages is how many pages to push through; 0 means 500.
	Pages int
	// At lists the page counts after which to sample; nil means 1, 50, 100, 200 and 500.
	// Counts past Pages are dropped, and Pages is always sampled.
	At []int
	// Log receives the worker's output (JSON log lines); nil discards it.
	Log io.Writer
}

// MemorySample is the worker's memory once it had recognised Pages pages and was idle.
type MemorySample struct {
	Pages   int
	RSSKiB  int64 // VmRSS: resident now
	PeakKiB int64 // VmHWM: the most resident so far
	Elapsed time.Duration
}

// MemoryReport is what MeasureWorkerRSS found.
type MemoryReport struct {
	Samples []MemorySample
	// Failed counts pages the pipeline failed (they count as recognised all the same: the
	// worker did the work).
	Failed int
	// Ratio is the last sample's RSS over the RSS after 50 pages; 0 without both.
	Ratio float64
}

// RSSAt returns the resident set sampled after pages pages.
func (r MemoryReport) RSSAt(pages int) (kib int64, ok bool) {
	for _, s := range r.Samples {
		if s.Pages == pages {
			return s.RSSKiB, true
		}
	}
	return 0, false
}

// String is the report as a table, with the verdict against MaxRSSGrowth.
func (r MemoryReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%8s %12s %12s %10s\n", "pages", "RSS MiB", "peak MiB", "elapsed")
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "%8d %12.1f %12.1f %10s\n", s.Pages, float64(s.RSSKiB)/1024, float64(s.PeakKiB)/1024, s.Elapsed.Round(time.Second))
	}
	if r.Failed > 0 {
		fmt.Fprintf(&b, "%d pages failed\n", r.Failed)
	}
	if r.Ratio > 0 {
		verdict := "within"
		if r.Ratio > MaxRSSGrowth {
			verdict = "over"
		}
		last := r.Samples[len(r.Samples)-1].Pages
		fmt.Fprintf(&b, "RSS after %d pages / after 50: %.3f (%s the %.1fx target)\n", last, r.Ratio, verdict, MaxRSSGrowth)
	}
	return b.String()
}

// memSettle is how long the worker is left after its last page before it is sampled: time
// to acknowledge the job and log, so the sample is of an idle worker. A variable for tests.
var memSettle = time.Second

// MeasureWorkerRSS starts a separate OCR worker process with one recognition at a time,
// pushes opts.Pages pages through it in documents that end at each sampling point, and
// after each such document has left OCR reads the worker's resident set from
// /proc/<pid>/status. The worker is stopped before it returns. Linux only.
func MeasureWorkerRSS(ctx context.Context, opts MemoryOptions) (MemoryReport, error) {
	var rep MemoryReport
	if opts.Binary == "" || opts.Client == nil || len(opts.Files) == 0 {
		return rep, errors.New("measure worker memory: need the colophon binary, a client and page files")
	}
	if opts.Pages == 0 {
		opts.Pages = 500
	}
	if opts.Pages < 1 || opts.Pages > pipeline.MaxPages {
		return rep, fmt.Errorf("measure worker memory: %d pages: want 1 to %d", opts.Pages, pipeline.MaxPages)
	}
	marks := memMarks(opts.At, opts.Pages)

	w, err := startMemWorker(opts)
	if err != nil {
		return rep, err
	}
	defer w.stop()

	start := time.Now()
	run := pipeline.NewDocID(start)
	sent := 0
	for _, mark := range marks {
		files := make([]string, 0, mark-sent)
		for i := sent; i < mark; i++ {
			files = append(files, opts.Files[i%len(opts.Files)])
		}
		doc := fmt.Sprintf("%s-rss%d", run, mark)
		failed, err := w.recognise(ctx, opts.Client, doc, files)
		rep.Failed += failed
		if err != nil {
			return rep, fmt.Errorf("measure worker memory: pages %d to %d: %w", sent+1, mark, err)
		}
		sent = mark
		select {
		case <-time.After(memSettle):
		case <-ctx.Done():
			return rep, ctx.Err()
		}
		rss, peak, err := ReadProcMemory(w.cmd.Process.Pid)
		if err != nil {
			return rep, fmt.Errorf("measure worker memory: %w", err)
		}
		rep.Samples = append(rep.Samples, MemorySample{Pages: mark, RSSKiB: rss, PeakKiB: peak, Elapsed: time.Since(start)})
	}
	rep.Ratio = memRatio(rep.Samples)
	return rep, nil
}

// memMarks turns the requested sampling points into the ones used: sorted, unique, within
// 1..pages, and ending at pages.
func memMarks(at []int, pages int) []int {
	if at == nil {
		at = []int{1, 50, 100, 200, 500}
	}
	var out []int
	for _, n := range at {
		if n >= 1 && n < pages {
			out = append(out, n)
		}
	}
	out = append(out, pages)
	slices.Sort(out)
	return slices.Compact(out)
}

// memRatio is the last sample's RSS over the RSS after 50 pages, or 0.
func memRatio(samples []MemorySample) float64 {
	if len(samples) == 0 {
		return 0
	}
	last := samples[len(samples)-1]
	for _, s := range samples {
		if s.Pages == 50 && s.RSSKiB > 0 && last.Pages > 50 {
			return float64(last.RSSKiB) / float64(s.RSSKiB)
		}
	}
	return 0
}

// ReadProcMemory reads a process's resident set (VmRSS) and its peak (VmHWM), in KiB, from
// /proc/<pid>/status.
func ReadProcMemory(pid int) (rssKiB, peakKiB int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	if rssKiB, err = ProcStatusKiB(b, "VmRSS"); err != nil {
		return 0, 0, fmt.Errorf("process %d: %w", pid, err)
	}
	if peakKiB, err = ProcStatusKiB(b, "VmHWM"); err != nil {
		return 0, 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return rssKiB, peakKiB, nil
}

// ProcStatusKiB returns the value of a size field ("VmRSS", "VmHWM", ...) of a
// /proc/<pid>/status file, in KiB.
func ProcStatusKiB(status []byte, field string) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected value %q", field, strings.TrimSpace(value))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s: unexpected value %q", field, strings.TrimSpace(value))
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s in process status", field)
}

// memWorker is the OCR worker process being measured.
type memWorker struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error    // how it exited, once exited is closed
	tail   *memTail // the end of its output, for errors
}

func startMemWorker(opts MemoryOptions) (*memWorker, error) {
	w := &memWorker{exited: make(chan struct{}), tail: &memTail{max: 4 << 10}}
	w.cmd = exec.Command(opts.Binary, "--log-format", "json", "worker", "ocr", "--concurrency", "1")
	w.cmd.Env = opts.Env
	out := io.Writer(w.tail)
	if opts.Log != nil {
		out = io.MultiWriter(opts.Log, w.tail)
	}
	w.cmd.Stdout, w.cmd.Stderr = out, out
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start OCR worker: %w", err)
	}
	go func() {
		w.err = w.cmd.Wait()
		close(w.exited)
	}()
	return w, nil
}

// stop asks the worker to stop and kills it if it has not within ten seconds.
func (w *memWorker) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

// recognise uploads files as document doc and waits until every page has left OCR
// (recognised, or failed), returning how many failed.
func (w *memWorker) recognise(ctx context.Context, c Client, doc string, files []string) (failed int, err error) {
	res, err := c.Upload(ctx, client.UploadRequest{Doc: doc, Source: "colophon bench: OCR worker memory", Files: files})
	if err != nil {
		return 0, err
	}
	if r := res.Refused(); len(r) > 0 {
		return 0, fmt.Errorf("upload refused page %d (%s): %s", r[0].Page, r[0].File, r[0].Error)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.exited:
			cancel()
		case <-wctx.Done():
		}
	}()
	past := map[int]pipeline.PageState{}
	_, err = c.Wait(wctx, doc, func(_ client.Report, p pipeline.PageStatus) {
		switch p.State {
		case pipeline.StateMetadata, pipeline.StateDone, pipeline.StateFailed:
			past[p.Page] = p.State
		}
		if len(past) == len(files) {
			cancel() // every page is past OCR: no need to wait for metadata
		}
	})
	for _, st := range past {
		if st == pipeline.StateFailed {
			failed++
		}
	}
	if len(past) == len(files) {
		return failed, nil
	}
	select {
	case <-w.exited:
		return failed, fmt.Errorf("OCR worker exited (%v) after %d of %d pages; its output ended:\n%s", w.err, len(past), len(files), w.tail)
	default:
	}
	if err == nil {
		err = errors.New("document complete before every page left OCR")
	}
	return failed, err
}

// memTail keeps the last max bytes written to it.
type memTail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *memTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = bytes.Clone(t.buf[over:])
	}
	return len(p), nil
}

func (t *memTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
