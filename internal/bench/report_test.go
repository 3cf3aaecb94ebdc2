package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sampleReport is a full 20-page run of one round as Finish sees it, before the case changes
// it: the figures measured are in the round, the top-level entries hold the rest.
func sampleReport() *Report {
	cer := 0.002
	return &Report{
		Date:     time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC),
		Machine:  MachineInfo{CPUs: 2, MemTotalMiB: 24105, OS: "Debian GNU/Linux 12 (bookworm)", Tesseract: "tesseract 5.3.0"},
		Pages:    PagesInfo{Count: 20, Source: "generated", Width: FullPageWidth, Height: FullPageHeight, Words: 8000, GroundTruth: true},
		Jobs:     2,
		Baseline: BaselineRun{Command: "tesseract PAGE stdout", MeanCER: &cer},
		OCRmyPDF: OCRmyPDFRun{Status: StatusMeasured, Version: "14.0.1", Command: "ocrmypdf --jobs 2 --sidecar sidecar.txt in.pdf out.pdf", MeanCER: &cer},
		Pipeline: PipelineRun{MeanCER: &cer, MeanCERVsBaseline: &cer},
		Rounds: []Round{{
			Order:    []string{ContenderBaseline, ContenderOCRmyPDF, ContenderPipeline},
			Baseline: RoundRun{Seconds: 60, CPUSeconds: 110, OtherCPUSeconds: 6},
			OCRmyPDF: &OCRmyPDFRound{RoundRun: RoundRun{Seconds: 90, CPUSeconds: 150}},
			Pipeline: PipelineRound{Doc: "bench-round-1", RoundRun: RoundRun{Seconds: 50}, RecognitionSeconds: 96, RecognitionCPUSeconds: 95,
				ProcessCPUSeconds: 98, MinIOCPUSeconds: 2},
		}},
		Overhead: OverheadRun{Samples: []OverheadSample{
			{OverheadMS: 40, RecognitionMS: 4000, UploadMS: 10, ToRecognitionMS: 5, AfterRecognitionMS: 20, GetMS: 5},
			{OverheadMS: 60, RecognitionMS: 4200, UploadMS: 12, ToRecognitionMS: 7, AfterRecognitionMS: 30, GetMS: 11},
		}},
	}
}

func TestReportFinish(t *testing.T) {
	r := sampleReport()
	r.Finish()
	near := func(name string, got, want float64) {
		t.Helper()
		if got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("baseline pages/min", r.Baseline.PagesPerMinute, 20)
	near("OCRmyPDF pages/min", r.OCRmyPDF.PagesPerMinute, 20.0/90*60)
	near("pipeline pages/min", r.Pipeline.PagesPerMinute, 24)
	near("pipeline/baseline", r.Ratios.PipelineToBaseline, 1.2)
	if r.Ratios.PipelineToOCRmyPDF == nil {
		t.Fatal("pipeline/OCRmyPDF not computed")
	}
	near("pipeline/OCRmyPDF", *r.Ratios.PipelineToOCRmyPDF, 1.8)
	near("CPU total", r.Pipeline.CPU.TotalSeconds, 100)
	near("CPU overhead", r.Pipeline.CPU.OverheadSeconds, 5)
	near("CPU overhead share", r.Pipeline.CPU.OverheadShare, 5.0/95)
	near("CPU overhead share by duration", r.Pipeline.CPU.OverheadShareByDuration, 4.0/96)
	near("overhead p50", r.Overhead.P50MS, 50)
	near("overhead p95", r.Overhead.P95MS, 59)
	near("median after recognition", r.Overhead.MedianAfterRecognitionMS, 25)
	near("median recognition", r.Overhead.MedianRecognitionMS, 4100)
	if len(r.Targets) != 3 {
		t.Fatalf("targets: %+v", r.Targets)
	}
	for _, tg := range r.Targets {
		if tg.Met == nil || !*tg.Met {
			t.Errorf("target %q: got %s, met %v; want met", tg.Name, tg.Got, tg.Met)
		}
	}
}

func TestReportText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(r *Report)
		want    []string // in the text, in this order
		notWant []string
	}{
		{
			name: "every contender measured, targets met",
			want: []string{
				"pages: 20 generated, 2480x3508 px (first page)", "8000 words of ground truth",
				"machine: 2 CPUs, 24105 MiB, Debian GNU/Linux 12 (bookworm), tesseract 5.3.0; 2 jobs",
				"other programs, cores",
				"tesseract CLI, parallel", "20.0", "60.0", "110.0", "5.50", "0.0020", "0.10",
				"OCRmyPDF", "13.3", "90.0",
				"colophon pipeline", "24.0", "50.0",
				"OCRmyPDF 14.0.1: ocrmypdf --jobs 2 --sidecar sidecar.txt in.pdf out.pdf",
				"pipeline / baseline: 1.20x", "pipeline / OCRmyPDF: 1.80x",
				"pipeline CPU: 100.0 s (this process 98.0 s + MinIO 2.0 s); recognition 95.0 s CPU (96.0 s wall",
				"CPU overhead: 5.0 s = 5.3% of recognition CPU (4.2% of recognition wall time)",
				"2 samples", "p50 50 ms, p95 59 ms (median recognition 4100 ms)",
				"medians: upload 11 ms, to recognition 6 ms, after recognition 25 ms, get 8 ms",
				"targets:", "1.20x  met", "1.80x  met", "50 ms  met",
			},
			notWant: []string{"MISSED", "not their conditions", "n/a"},
		},
		{
			name: "OCRmyPDF not installed",
			change: func(r *Report) {
				r.OCRmyPDF = OCRmyPDFRun{Status: StatusNotInstalled, Reason: "ocrmypdf: not installed; scripts/install-deps --bench installs it"}
				r.Rounds[0].OCRmyPDF = nil
			},
			want: []string{
				"OCRmyPDF  not installed",
				"OCRmyPDF: not installed (ocrmypdf: not installed; scripts/install-deps --bench installs it)",
				"pipeline / OCRmyPDF: n/a (OCRmyPDF not installed)",
				"OCRmyPDF not installed  not measured",
			},
			notWant: []string{"1.80x"},
		},
		{
			name: "OCRmyPDF skipped",
			change: func(r *Report) {
				r.OCRmyPDF = OCRmyPDFRun{Status: StatusSkipped, Reason: "--skip-ocrmypdf"}
				r.Rounds[0].OCRmyPDF = nil
			},
			want: []string{"OCRmyPDF: skipped (--skip-ocrmypdf)", "pipeline / OCRmyPDF: n/a (OCRmyPDF skipped)"},
		},
		{
			name: "targets missed",
			change: func(r *Report) {
				r.Rounds[0].Pipeline.Seconds = 75
				r.Overhead.Samples[0].OverheadMS, r.Overhead.Samples[1].OverheadMS = 200, 300
			},
			want: []string{"pipeline / baseline: 0.80x", "pipeline / OCRmyPDF: 1.20x", "0.80x  MISSED", "1.20x  MISSED", "250 ms  MISSED"},
		},
		{
			name: "smoke pages are not the targets' conditions",
			change: func(r *Report) {
				r.Smoke, r.Pages.Count, r.Pages.Width, r.Pages.Height = true, 2, SmokePageWidth, SmokePageHeight
			},
			want: []string{"pages: 2 generated, 1240x1000 px", "targets (not their conditions: they are for 20 or more full A4 pages at 300 dpi):"},
		},
		{
			name: "given pages without ground truth, no overhead samples",
			change: func(r *Report) {
				r.Pages.Source, r.Pages.Words, r.Pages.GroundTruth = "/scans", 0, false
				r.Baseline.MeanCER, r.OCRmyPDF.MeanCER, r.Pipeline.MeanCER = nil, nil, nil
				r.Overhead.Samples = nil
			},
			want:    []string{"pages: 20 from /scans", "n/a", "0 samples:", "no samples  not measured"},
			notWant: []string{"words of ground truth", "p95"},
		},
		{
			name:   "CPU profile named",
			change: func(r *Report) { r.Pipeline.CPUProfile = "bench.pprof" },
			want:   []string{"CPU profile of the pipeline run: bench.pprof (go tool pprof -top bin/colophon bench.pprof)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := checkReportText(t, tc.change, tc.want, tc.notWant)
			// JSON never meets a NaN, whatever was missing.
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("JSON: %v", err)
			}
		})
	}
}

func collapseSpaces(s string) string {
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return s
}

func TestReportJSON(t *testing.T) {
	r := sampleReport()
	r.OCRmyPDF = OCRmyPDFRun{Status: StatusNotInstalled}
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"date", "machine", "pages", "jobs", "baseline", "ocrmypdf", "pipeline", "ratios", "overhead", "targets", "load_average_before", "load_average_after"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	ratios := m["ratios"].(map[string]any)
	if v, ok := ratios["pipeline_to_ocrmypdf"]; !ok || v != nil {
		t.Errorf("pipeline_to_ocrmypdf = %v (present %v), want null", v, ok)
	}
	if got := m["ocrmypdf"].(map[string]any)["status"]; got != "not installed" {
		t.Errorf("ocrmypdf status = %v", got)
	}
}

// checkReportText writes sampleReport, changed by change, as text and checks that want appears
// in order and notWant not at all. Column widths are tabwriter's business: runs of spaces
// compare as one.
func checkReportText(t *testing.T, change func(*Report), want, notWant []string) *Report {
	t.Helper()
	r := sampleReport()
	if change != nil {
		change(r)
	}
	r.Finish()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := collapseSpaces(b.String())
	rest := text
	for _, w := range want {
		w = collapseSpaces(w)
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%q missing (or out of order) in:\n%s", w, text)
		}
		rest = rest[i+len(w):]
	}
	for _, w := range notWant {
		if strings.Contains(text, w) {
			t.Errorf("%q should not be in:\n%s", w, text)
		}
	}
	return r
}
