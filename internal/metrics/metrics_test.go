package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"

	"github.com/colophon-archive/colophon/pipeline"
)

// value finds the sample of family name whose labels include want; ok is false when there is none.
func value(t *testing.T, m *Metrics, name string, want map[string]string) (v float64, ok bool) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, w := range want {
				if labels[k] != w {
					continue next
				}
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return s.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return s.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(s.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestStageCounts(t *testing.T) {
	m := New()
	ocr, meta := m.Stage(pipeline.StageOCR), m.Stage(pipeline.StageMetadata)
	ocr.PageDone()
	ocr.PageDone()
	meta.PageDone()
	ocr.PageFailed(pipeline.ReasonChecksum)
	ocr.PageFailed("scan abc/0001 exploded") // not a reason: must not become a label
	ocr.Redelivered()
	ocr.Recognition(1500 * time.Millisecond)
	ocr.Recognition(200 * time.Second)
	ocr.BytesRead(1000)
	ocr.BytesWritten(300)
	ocr.BytesWritten(200)
	meta.BytesWritten(64)

	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{NamePagesProcessed, map[string]string{"stage": "ocr"}, 2},
		{NamePagesProcessed, map[string]string{"stage": "metadata"}, 1},
		{NamePagesFailed, map[string]string{"stage": "ocr", "reason": "checksum_mismatch"}, 1},
		{NamePagesFailed, map[string]string{"stage": "ocr", "reason": "other"}, 1},
		{NamePagesFailed, map[string]string{"stage": "metadata", "reason": "checksum_mismatch"}, 0},
		{NameRedelivered, map[string]string{"stage": "ocr"}, 1},
		{NameRecognition, nil, 2},
		{NameBytesRead, map[string]string{"stage": "ocr"}, 1000},
		{NameBytesWritten, map[string]string{"stage": "ocr"}, 500},
		{NameBytesWritten, map[string]string{"stage": "metadata"}, 64},
	}
	for _, tt := range tests {
		got, ok := value(t, m, tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if _, ok := value(t, m, NamePagesFailed, map[string]string{"reason": "scan abc/0001 exploded"}); ok {
		t.Error("an unknown reason became a label")
	}
	// Every reason of a stage exists at 0 before any page fails.
	for _, r := range pipeline.FailReasons {
		if _, ok := value(t, m, NamePagesFailed, map[string]string{"stage": "metadata", "reason": string(r)}); !ok {
			t.Errorf("no %s series for metadata reason %s", NamePagesFailed, r)
		}
	}
}

func TestVerdictCounts(t *testing.T) {
	m := New()
	// Every verdict and reason exists at 0 before any page is judged.
	for _, v := range []string{"ok", "review"} {
		if got, ok := value(t, m, NamePagesVerdict, map[string]string{"verdict": v}); !ok || got != 0 {
			t.Errorf("%s{verdict=%s} = %v (present %v) before any page, want 0", NamePagesVerdict, v, got, ok)
		}
	}
	for _, l := range pipeline.ReviewLabels() {
		if got, ok := value(t, m, NamePagesReview, map[string]string{"reason": l}); !ok || got != 0 {
			t.Errorf("%s{reason=%s} = %v (present %v) before any page, want 0", NamePagesReview, l, got, ok)
		}
	}

	meta := m.Stage(pipeline.StageMetadata)
	meta.PageVerdict(pipeline.VerdictOK, nil)
	meta.PageVerdict(pipeline.VerdictOK, []string{pipeline.ReviewLowScore}) // ok: its reasons are not counted
	meta.PageVerdict(pipeline.VerdictReview, []string{pipeline.ReviewLittleText})
	meta.PageVerdict(pipeline.VerdictReview, []string{pipeline.ReviewLowScore, pipeline.ReviewUnsureScale})
	meta.PageVerdict(pipeline.VerdictReview, []string{"page 3 (x.png) looked odd"}) // not a reason: "other"
	meta.PageVerdict("maybe", []string{pipeline.ReviewLowScore})                    // not a verdict: not counted

	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{NamePagesVerdict, map[string]string{"verdict": "ok"}, 2},
		{NamePagesVerdict, map[string]string{"verdict": "review"}, 3},
		{NamePagesReview, map[string]string{"reason": "little_text"}, 1},
		{NamePagesReview, map[string]string{"reason": "low_score"}, 1},
		{NamePagesReview, map[string]string{"reason": "scale_unsure"}, 1},
		{NamePagesReview, map[string]string{"reason": "orientation_unsure"}, 0},
		{NamePagesReview, map[string]string{"reason": "other"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(t, m, tt.name, tt.labels)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if _, ok := value(t, m, NamePagesVerdict, map[string]string{"verdict": "maybe"}); ok {
		t.Error("an unknown verdict became a label")
	}
	if _, ok := value(t, m, NamePagesReview, map[string]string{"reason": "page 3 (x.png) looked odd"}); ok {
		t.Error("an unknown reason became a label")
	}
}

func TestQueueDepthOnScrape(t *testing.T) {
	m := New()
	calls := 0
	m.WatchQueue(pipeline.StageOCR, func(context.Context) (*jetstream.ConsumerInfo, error) {
		calls++
		return &jetstream.ConsumerInfo{NumPending: 7, NumAckPending: 2, NumRedelivered: 1}, nil
	})
	m.WatchQueue(pipeline.StageMetadata, func(context.Context) (*jetstream.ConsumerInfo, error) {
		return nil, errors.New("nats: connection closed")
	})
	for name, want := range map[string]float64{NameQueuePending: 7, NameQueueAcks: 2, NameQueueRedeliver: 1} {
		if got, ok := value(t, m, name, map[string]string{"stage": "ocr"}); !ok || got != want {
			t.Errorf("%s{stage=ocr} = %v (present %v), want %v", name, got, ok, want)
		}
		if _, ok := value(t, m, name, map[string]string{"stage": "metadata"}); ok {
			t.Errorf("%s{stage=metadata} reported for a queue that could not be read", name)
		}
	}
	calls = 0
	if _, err := m.Registry().Gather(); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("queue read %d times in a scrape, want once", calls)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	m := New()
	m.Stage(pipeline.StageOCR).PageDone()
	ready := &Readiness{}
	srv := httptest.NewServer(Handler(m, ready))
	defer srv.Close()

	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, srv.URL+"/metrics"); code != 200 || !strings.Contains(body, `colophon_pages_processed_total{stage="ocr"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	if code, _ := get(t, srv.URL+"/nothing"); code != 404 {
		t.Errorf("/nothing: %d, want 404", code)
	}

	ok := func(context.Context) error { return nil }
	tests := []struct {
		name     string
		set      bool
		checks   []Check
		wantCode int
		wantBody string
	}{
		{"still connecting", false, nil, 503, "starting: FAIL: not connected to NATS and S3 yet\n"},
		{"all hold", true, []Check{{"nats", ok}, {"s3", ok}}, 200, "nats: ok\ns3: ok\n"},
		{"one fails", true, []Check{{"nats", func(context.Context) error { return errors.New("not connected (RECONNECTING)") }}, {"s3", ok}},
			503, "nats: FAIL: not connected (RECONNECTING)\ns3: ok\n"},
		{"a check that hangs ends with its request", true, []Check{{"consumer ocr", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}},
			503, "consumer ocr: FAIL: context deadline exceeded\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Readiness{}
			if tt.set {
				r.Set(tt.checks...)
			}
			// The request's own deadline, shorter than CheckTimeout, ends a hanging check.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/readyz", nil))
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("/readyz: %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := Serve(ctx, "127.0.0.1:0", Handler(New(), &Readiness{}), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+addr.String()+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	// A port already taken fails at once.
	if _, err := Serve(ctx, addr.String(), http.NotFoundHandler(), slog.Default()); err == nil {
		t.Error("Serve on a port in use succeeded")
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr.String() + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("still serving after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
