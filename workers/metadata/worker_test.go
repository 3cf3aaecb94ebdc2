package metadata

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// The fakes below stand in for the store, NATS and the status bucket, so the worker's
// handling of one job can be checked without a stack (the e2e tests run it on a real one).

type fakeStore struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (s *fakeStore) Get(_ context.Context, bucket, key string) (objectstore.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.objs[bucket+"/"+key]
	if !ok {
		return objectstore.Object{}, objectstore.ErrNotFound
	}
	return objectstore.Object{Data: data, ETag: objectstore.SHA256(data)}, nil
}

func (s *fakeStore) PutIfAbsent(_ context.Context, bucket, key string, data []byte, _ string, _ map[string]string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[bucket+"/"+key]; ok {
		return false, nil
	}
	s.objs[bucket+"/"+key] = data
	return true, nil
}

func (s *fakeStore) PutIfMatch(_ context.Context, bucket, key, etag string, data []byte, _ string, _ map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if objectstore.SHA256(s.objs[bucket+"/"+key]) != etag {
		return objectstore.ErrExists
	}
	s.objs[bucket+"/"+key] = data
	return nil
}

func (s *fakeStore) List(_ context.Context, bucket, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.objs {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

type fakeBus struct{}

func (fakeBus) DeadLetter(context.Context, pipeline.Stage, jetstream.Msg, string, int, string) error {
	return nil
}
func (fakeBus) RecordHead(context.Context, string) (bus.ChainHead, error) {
	return bus.ChainHead{}, nil
}
func (fakeBus) RecordEntry(context.Context, string, int, int) (pipeline.RecordEntry, bool, error) {
	return pipeline.RecordEntry{}, false, nil
}
func (fakeBus) AppendRecord(context.Context, pipeline.RecordEntry, bus.ChainHead) error { return nil }

type fakeStatus struct {
	mu    sync.Mutex
	pages map[int]pipeline.PageStatus
}

func (s *fakeStatus) UpdatePage(_ context.Context, doc string, page int, mutate func(p *pipeline.PageStatus, found bool) error) (pipeline.PageStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, found := s.pages[page]
	if err := mutate(&p, found); err != nil {
		return p, err
	}
	p.Doc, p.Page = doc, page
	s.pages[page] = p
	return p, nil
}

func (s *fakeStatus) FailPage(context.Context, string, int, int, string) error { return nil }

func (s *fakeStatus) Page(_ context.Context, _ string, page int) (pipeline.PageStatus, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pages[page]
	return p, ok, nil
}

func (s *fakeStatus) Pages(context.Context, string) ([]pipeline.PageStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []pipeline.PageStatus
	for _, p := range s.pages {
		out = append(out, p)
	}
	return out, nil
}

// fakeMsg is a job delivered once; only what the worker calls is implemented.
type fakeMsg struct {
	jetstream.Msg
	data  []byte
	acked bool
}

func (m *fakeMsg) Data() []byte { return m.data }
func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: 1}, nil
}
func (m *fakeMsg) DoubleAck(context.Context) error { m.acked = true; return nil }
func (m *fakeMsg) InProgress() error               { return nil }
func (m *fakeMsg) Term() error                     { return nil }

type verdictCount struct {
	verdict pipeline.Verdict
	reasons []string
}

type fakeMetrics struct {
	noMetrics
	done     int
	verdicts []verdictCount
}

func (m *fakeMetrics) PageDone() { m.done++ }
func (m *fakeMetrics) PageVerdict(v pipeline.Verdict, reasons []string) {
	m.verdicts = append(m.verdicts, verdictCount{v, reasons})
}

// TestDoneCarriesVerdict: the page marked done carries its reading's verdict and review
// reason (none when the reading has no Quality), replacing an earlier version's, and the
// verdict is counted.
func TestDoneCarriesVerdict(t *testing.T) {
	review := &pipeline.Quality{Verdict: pipeline.VerdictReview, Reasons: []string{pipeline.ReviewLittleText, pipeline.ReviewUnsureScale}}
	tests := []struct {
		name        string
		before      pipeline.PageStatus // the page's entry when the job arrives
		version     int
		quality     *pipeline.Quality
		wantVerdict pipeline.Verdict
		wantReview  string
		wantCounted bool
	}{
		{"no verdict from the OCR worker: none made up",
			pipeline.PageStatus{State: pipeline.StateMetadata, Version: 1}, 1, nil, "", "", false},
		{"ok", pipeline.PageStatus{State: pipeline.StateMetadata, Version: 1}, 1,
			&pipeline.Quality{Verdict: pipeline.VerdictOK, Score: 0.97}, pipeline.VerdictOK, "", true},
		{"review, its reasons joined", pipeline.PageStatus{State: pipeline.StateOCR, Version: 1}, 1,
			review, pipeline.VerdictReview, pipeline.ReviewLittleText + "; " + pipeline.ReviewUnsureScale, true},
		{"a later version's ok replaces a review",
			pipeline.PageStatus{State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLowScore}, 2,
			&pipeline.Quality{Verdict: pipeline.VerdictOK}, pipeline.VerdictOK, "", true},
		{"a later version with no verdict leaves none",
			pipeline.PageStatus{State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLowScore}, 2,
			nil, "", "", false},
	}
	priv, err := provenance.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := []byte("Minutes of the meeting of 4 May 1923.\n")
			const textKey = "d1/0001/v1/text.txt"
			store := &fakeStore{objs: map[string][]byte{pipeline.BucketTexts + "/" + textKey: text}}
			before := tt.before
			before.FileName = "a.png"
			status := &fakeStatus{pages: map[int]pipeline.PageStatus{1: before}}
			m := &fakeMetrics{}
			w := &Worker{store: store, bus: fakeBus{}, status: status, cfg: config{
				id: "test", log: slog.New(slog.NewTextHandler(io.Discard, nil)), retry: bus.RetryPolicy{Budget: time.Second, AttemptTimeout: time.Second},
				now: time.Now, signer: provenance.NewSigner(priv), metrics: m,
			}}
			job := pipeline.MetadataJob{
				OCRJob: pipeline.OCRJob{Doc: "d1", Page: 1, Version: tt.version, FileName: "a.png", Source: "box 1", Languages: []string{"eng"},
					Scan: pipeline.ObjectRef{Bucket: pipeline.BucketScans, Key: "d1/0001/scan.png", SHA256: objectstore.SHA256([]byte("scan")), Bytes: 4}},
				Text: pipeline.ObjectRef{Bucket: pipeline.BucketTexts, Key: textKey, SHA256: objectstore.SHA256(text), Bytes: int64(len(text))},
				OCR:  pipeline.OCRInfo{Engine: "tesseract", Quality: tt.quality},
			}
			data, err := pipeline.Encode(job)
			if err != nil {
				t.Fatal(err)
			}
			msg := &fakeMsg{data: data}
			w.handle(context.Background(), msg, w.cfg.log)

			p := status.pages[1]
			if !msg.acked || p.State != pipeline.StateDone || p.Version != tt.version {
				t.Fatalf("after the job: acked %v, page %s version %d; want done, version %d", msg.acked, p.State, p.Version, tt.version)
			}
			if p.Verdict != tt.wantVerdict || p.Review != tt.wantReview {
				t.Errorf("page verdict %q review %q, want %q %q", p.Verdict, p.Review, tt.wantVerdict, tt.wantReview)
			}
			if m.done != 1 {
				t.Errorf("PageDone counted %d times, want 1", m.done)
			}
			switch {
			case !tt.wantCounted && len(m.verdicts) != 0:
				t.Errorf("verdict counted %+v for a page with none", m.verdicts)
			case tt.wantCounted && (len(m.verdicts) != 1 || m.verdicts[0].verdict != tt.quality.Verdict || len(m.verdicts[0].reasons) != len(tt.quality.Reasons)):
				t.Errorf("verdict counted %+v, want once as %s %v", m.verdicts, tt.quality.Verdict, tt.quality.Reasons)
			}
			// The record carries the reading's Quality unchanged.
			var rec pipeline.Provenance
			if err := json.Unmarshal(store.objs[pipeline.BucketProvenance+"/"+pipeline.ProvenanceKey("d1", 1, tt.version)], &rec); err != nil {
				t.Fatalf("decode stored record: %v", err)
			}
			if got, want := jsonOf(t, rec.OCR.Quality), jsonOf(t, tt.quality); got != want {
				t.Errorf("record's quality %s, want %s", got, want)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
