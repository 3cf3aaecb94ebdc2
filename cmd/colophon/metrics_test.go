package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/metrics"
	"github.com/colophon-archive/colophon/pipeline"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scraped is one scrape of /metrics, parsed as Prometheus parses it.
type scraped map[string]*dto.MetricFamily

func scrape(t *testing.T, addr string) scraped {
	t.Helper()
	code, body := httpGet(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("GET %s/metrics: %d %s", addr, code, body)
	}
	fams, err := parseMetrics(body)
	if err != nil {
		t.Fatalf("parse %s/metrics: %v\n%s", addr, err, body)
	}
	return fams
}

// value is the sample of name whose labels include labels (a histogram's count); ok is
// false when there is none.
func (s scraped) value(name string, labels ...string) (v float64, ok bool) {
	f := s[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsAndHealth: workers run as their own processes with --metrics-addr, and dev with
// one too. Once a document (two good pages, one torn) is through, each /metrics counts its
// stage's pages, the failure by its reason, the bytes and the recognitions, and the queues
// stand empty; /healthz and /readyz answer 200. With NATS gone, /readyz says so (not 200)
// while /healthz still answers.
func TestMetricsAndHealth(t *testing.T) {
	devAddr := fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(t))
	pe := newProcEnv(t, "", "--metrics-addr", devAddr)
	ocrAddr := fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(t))
	metaAddr := fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(t))
	startProc(t, "ocr-worker", "worker", "ocr", "--concurrency", "1", "--metrics-addr", ocrAddr)
	startProc(t, "metadata-worker", "worker", "metadata", "--metrics-addr", metaAddr)
	for _, addr := range []string{devAddr, ocrAddr, metaAddr} {
		waitFor(t, 90*time.Second, addr+"/readyz to answer 200", func() bool {
			code, _ := httpGet(t, "http://"+addr+"/readyz")
			return code == 200
		})
		if code, body := httpGet(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("%s/healthz: %d %q", addr, code, body)
		}
	}
	for addr, want := range map[string]string{
		devAddr:  "nats: ok\ns3: ok\nconsumer ocr: ok\nconsumer metadata: ok\nconsumer ingest: ok\n",
		ocrAddr:  "nats: ok\ns3: ok\nconsumer ocr: ok\n",
		metaAddr: "nats: ok\ns3: ok\nconsumer metadata: ok\n",
	} {
		if code, body := httpGet(t, "http://"+addr+"/readyz"); code != 200 || body != want {
			t.Errorf("%s/readyz: %d %q, want 200 %q", addr, code, body, want)
		}
	}

	files, torn := sampleWithTorn(t)
	if r := pe.colophon("upload", "--source", "box 4", "--doc", "counted", "--wait", files[0], files[1], torn); r.code != 1 {
		t.Fatalf("upload --wait with a torn page: exit %d, want 1\n%s", r.code, r.stderr)
	}
	var scanBytes float64
	for _, f := range []string{files[0], files[1], torn} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		scanBytes += float64(fi.Size())
	}
	// What the two good pages' records say was stored: text, hOCR, ALTO and PDF.
	var outputBytes float64
	for _, rec := range decodeJSON[[]map[string]any](t, pe.colophon("provenance", "counted").stdout) {
		for _, part := range []string{"text", "hocr", "alto", "pdf"} {
			n, _ := lookup(rec, part+".bytes")
			f, _ := n.(float64)
			outputBytes += f
		}
	}
	if outputBytes == 0 {
		t.Fatal("no output bytes in the records")
	}

	ocr := scrape(t, ocrAddr)
	redelivered, _ := ocr.value(metrics.NameRedelivered, "stage", "ocr")
	type check struct {
		what string
		got  scraped
		name string
		lbl  []string
		want float64
		min  bool // at least want: a redelivery reads and writes again
	}
	checks := []check{
		{"ocr", ocr, metrics.NamePagesProcessed, []string{"stage", "ocr"}, 2, false},
		{"ocr", ocr, metrics.NamePagesFailed, []string{"stage", "ocr", "reason", "bad_image"}, 1, false},
		{"ocr", ocr, metrics.NamePagesFailed, []string{"stage", "ocr", "reason", "timeout"}, 0, false},
		{"ocr", ocr, metrics.NameRecognition, nil, 2, redelivered > 0}, // the torn page never reaches recognition
		{"ocr", ocr, metrics.NameBytesRead, []string{"stage", "ocr"}, scanBytes, redelivered > 0},
		{"ocr", ocr, metrics.NameBytesWritten, []string{"stage", "ocr"}, outputBytes, redelivered > 0},
		{"ocr", ocr, metrics.NameQueuePending, []string{"stage", "ocr"}, 0, false},
		{"ocr", ocr, metrics.NameQueueAcks, []string{"stage", "ocr"}, 0, false},
	}
	meta := scrape(t, metaAddr)
	metaRedelivered, _ := meta.value(metrics.NameRedelivered, "stage", "metadata")
	checks = append(checks, []check{
		{"metadata", meta, metrics.NamePagesProcessed, []string{"stage", "metadata"}, 2, false},
		{"metadata", meta, metrics.NameBytesRead, []string{"stage", "metadata"}, outputBytes, metaRedelivered > 0},
		{"metadata", meta, metrics.NameBytesWritten, []string{"stage", "metadata"}, 1, true},
		{"metadata", meta, metrics.NameQueuePending, []string{"stage", "metadata"}, 0, false},
	}...)
	dev := scrape(t, devAddr)
	for _, stage := range []string{"ocr", "metadata"} {
		checks = append(checks, check{"dev", dev, metrics.NameQueuePending, []string{"stage", stage}, 0, false})
	}
	for _, c := range checks {
		got, ok := c.got.value(c.name, c.lbl...)
		if !ok || (c.min && got < c.want) || (!c.min && got != c.want) {
			t.Errorf("%s: %s%v = %v (present: %v), want %v (at least: %v)", c.what, c.name, c.lbl, got, ok, c.want, c.min)
		}
	}
	for _, r := range pipeline.FailReasons {
		if v, ok := meta.value(metrics.NamePagesFailed, "stage", "metadata", "reason", string(r)); !ok || v != 0 {
			t.Errorf("metadata: %s{reason=%s} = %v (present: %v), want 0", metrics.NamePagesFailed, r, v, ok)
		}
	}
	if _, ok := ocr.value("process_resident_memory_bytes"); !ok {
		t.Error("ocr: no process metrics")
	}

	// NATS (and MinIO) go away with the dev stack: the workers are not ready, and say why.
	pe.dev.signal(syscall.SIGTERM)
	if !pe.dev.waitExit(30 * time.Second) {
		t.Fatal("dev did not stop")
	}
	waitFor(t, 60*time.Second, "/readyz to fail without NATS", func() bool {
		code, _ := httpGet(t, "http://"+ocrAddr+"/readyz")
		return code != 0 && code != 200
	})
	if code, body := httpGet(t, "http://"+ocrAddr+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "nats: FAIL") {
		t.Errorf("/readyz without NATS: %d %q", code, body)
	}
	if code, _ := httpGet(t, "http://"+ocrAddr+"/healthz"); code != 200 {
		t.Errorf("/healthz without NATS: %d, want 200 (the process is alive)", code)
	}
}

// parseMetrics reads the Prometheus text format with Prometheus's own parser.
func parseMetrics(text string) (scraped, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}
