package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

const statusSample = `Name:	colophon
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1693620 kB
VmSize:	 1693620 kB
VmHWM:	   90112 kB
VmRSS:	   87500 kB
RssAnon:	   68272 kB
Threads:	9
`

func TestProcStatusKiB(t *testing.T) {
	tests := []struct {
		status, field string
		want          int64
		wantErr       bool
	}{
		{statusSample, "VmRSS", 87500, false},
		{statusSample, "VmHWM", 90112, false},
		{statusSample, "RssAnon", 68272, false},
		{statusSample, "VmSwap", 0, true},                 // absent
		{statusSample, "Threads", 0, true},                // not a size
		{"VmRSS:\t12 MB\n", "VmRSS", 0, true},             // unknown unit
		{"VmRSS:\t-3 kB\n", "VmRSS", 0, true},             // negative
		{"VmRSSx:\t1 kB\nVmRSS: 7 kB", "VmRSS", 7, false}, // prefix is not a match; no final newline
		{"", "VmRSS", 0, true},
	}
	for _, tt := range tests {
		got, err := ProcStatusKiB([]byte(tt.status), tt.field)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ProcStatusKiB(%q, %s) = %d, %v; want %d, error %v", tt.status, tt.field, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReadProcMemorySelf(t *testing.T) {
	rss, peak, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || peak < rss {
		t.Fatalf("own memory: RSS %d KiB, peak %d KiB", rss, peak)
	}
	if _, _, err := ReadProcMemory(-1); err == nil {
		t.Fatal("ReadProcMemory(-1) succeeded")
	}
}

func TestMemMarks(t *testing.T) {
	tests := []struct {
		at    []int
		pages int
		want  []int
	}{
		{nil, 500, []int{1, 50, 100, 200, 500}},
		{nil, 120, []int{1, 50, 100, 120}},
		{nil, 1, []int{1}},
		{[]int{}, 30, []int{30}},
		{[]int{300, 10, 10, 0, -5, 900}, 500, []int{10, 300, 500}},
	}
	for _, tt := range tests {
		if got := memMarks(tt.at, tt.pages); !slices.Equal(got, tt.want) {
			t.Errorf("memMarks(%v, %d) = %v, want %v", tt.at, tt.pages, got, tt.want)
		}
	}
}

func TestMemoryReport(t *testing.T) {
	s := []MemorySample{{Pages: 1, RSSKiB: 50 << 10}, {Pages: 50, RSSKiB: 100 << 10}, {Pages: 500, RSSKiB: 110 << 10}}
	r := MemoryReport{Samples: s, Ratio: memRatio(s)}
	if r.Ratio != 1.1 {
		t.Errorf("ratio %v, want 1.1", r.Ratio)
	}
	if kib, ok := r.RSSAt(50); !ok || kib != 100<<10 {
		t.Errorf("RSSAt(50) = %d, %v", kib, ok)
	}
	if _, ok := r.RSSAt(200); ok {
		t.Error("RSSAt(200) found a sample that was never taken")
	}
	if out := r.String(); !strings.Contains(out, "1.100 (within the 1.2x target)") || !strings.Contains(out, "     500        110.0") {
		t.Errorf("report:\n%s", out)
	}
	r.Samples[2].RSSKiB = 130 << 10
	r.Ratio = memRatio(r.Samples)
	if out := r.String(); !strings.Contains(out, "over the 1.2x target") {
		t.Errorf("report:\n%s", out)
	}
	for _, s := range [][]MemorySample{nil, s[:1], s[:2], {{Pages: 50, RSSKiB: 0}, {Pages: 60, RSSKiB: 9}}} {
		if got := memRatio(s); got != 0 {
			t.Errorf("memRatio(%v) = %v, want 0", s, got)
		}
	}
}

// fakeClient stands in for a deployment: each upload's pages pass OCR at once (unless
// stuck), and Wait, like the real one, returns only when its context ends.
type fakeClient struct {
	mu      sync.Mutex
	uploads []client.UploadRequest
	stuck   bool
}

func (f *fakeClient) Upload(_ context.Context, req client.UploadRequest) (client.UploadResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploads = append(f.uploads, req)
	return client.UploadResult{Doc: req.Doc}, nil
}

func (f *fakeClient) Wait(ctx context.Context, doc string, progress func(client.Report, pipeline.PageStatus)) (client.Report, error) {
	f.mu.Lock()
	req := f.uploads[len(f.uploads)-1]
	f.mu.Unlock()
	if req.Doc != doc {
		return client.Report{}, errors.New("waiting for a document never uploaded")
	}
	for n := range req.Files {
		if f.stuck {
			break
		}
		state := pipeline.StateMetadata
		if n == 0 {
			state = pipeline.StateFailed
		}
		progress(client.Report{}, pipeline.PageStatus{Doc: doc, Page: n + 1, State: pipeline.StateOCR})
		progress(client.Report{}, pipeline.PageStatus{Doc: doc, Page: n + 1, State: state})
	}
	<-ctx.Done()
	return client.Report{}, ctx.Err()
}

func (f *fakeClient) Text(context.Context, string, int) ([]client.PageText, error) { return nil, nil }

// fakeWorker writes a script that stands in for the colophon binary.
func fakeWorker(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "colophon")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMeasureWorkerRSSOrchestration runs the whole measurement against a stand-in worker
// process and deployment: one document per sampling point, files used in turn, a sample
// of the live process at each point, and the worker stopped at the end.
func TestMeasureWorkerRSSOrchestration(t *testing.T) {
	defer func(d time.Duration) { memSettle = d }(memSettle)
	memSettle = 10 * time.Millisecond
	fc := &fakeClient{}
	var log strings.Builder
	rep, err := MeasureWorkerRSS(context.Background(), MemoryOptions{
		Binary: fakeWorker(t, `echo "worker $*"; exec sleep 60`),
		Env:    os.Environ(),
		Client: fc,
		Files:  []string{"a.png", "b.png", "c.png"},
		Pages:  7,
		At:     []int{2, 5},
		Log:    &syncWriter{w: &log},
	})
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	for _, s := range rep.Samples {
		pages = append(pages, s.Pages)
		if s.RSSKiB <= 0 || s.PeakKiB < s.RSSKiB {
			t.Errorf("sample %+v", s)
		}
	}
	if !slices.Equal(pages, []int{2, 5, 7}) {
		t.Errorf("sampled at %v, want [2 5 7]", pages)
	}
	if rep.Failed != 3 || rep.Ratio != 0 {
		t.Errorf("failed %d, ratio %v; want 3 (one per document) and 0 (no 50-page sample)", rep.Failed, rep.Ratio)
	}
	var files []string
	for _, u := range fc.uploads {
		files = append(files, u.Files...)
	}
	if want := []string{"a.png", "b.png", "c.png", "a.png", "b.png", "c.png", "a.png"}; !slices.Equal(files, want) || len(fc.uploads) != 3 {
		t.Errorf("%d uploads of %v, want 3 of %v", len(fc.uploads), files, want)
	}
	if !strings.Contains(log.String(), "worker --log-format json worker ocr --concurrency 1") {
		t.Errorf("worker output %q", log.String())
	}
}

func TestMeasureWorkerRSSWorkerExits(t *testing.T) {
	fc := &fakeClient{stuck: true}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := MeasureWorkerRSS(ctx, MemoryOptions{
		Binary: fakeWorker(t, `echo "cannot reach NATS" >&2; exit 3`),
		Client: fc,
		Files:  []string{"a.png"},
		Pages:  3,
	})
	if err == nil || !strings.Contains(err.Error(), "cannot reach NATS") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("error %v; want the worker's exit and output", err)
	}
	if ctx.Err() != nil {
		t.Fatal("took until the deadline to notice the worker had gone")
	}
}

func TestMeasureWorkerRSSOptions(t *testing.T) {
	ok := MemoryOptions{Binary: "/bin/true", Client: &fakeClient{}, Files: []string{"a.png"}}
	for name, mutate := range map[string]func(*MemoryOptions){
		"no binary": func(o *MemoryOptions) { o.Binary = "" },
		"no client": func(o *MemoryOptions) { o.Client = nil },
		"no files":  func(o *MemoryOptions) { o.Files = nil },
		"negative":  func(o *MemoryOptions) { o.Pages = -1 },
		"too many":  func(o *MemoryOptions) { o.Pages = pipeline.MaxPages + 1 },
	} {
		o := ok
		mutate(&o)
		if _, err := MeasureWorkerRSS(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
