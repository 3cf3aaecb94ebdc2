package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/bench"
)

// runBenchCmd runs `colophon bench ARGS` in-process; bench starts its own stack.
func runBenchCmd(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"--log-format", "text", "bench"}, args...), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// TestBenchSmoke runs the benchmark in its CI mode and checks the report is complete and
// sane. It never checks speed: the figures are for docs/benchmarks.md.
func TestBenchSmoke(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "bench.pprof")
	r := runBenchCmd(t, "--smoke", "--json", "--cpuprofile", profile)
	if r.code != 0 {
		t.Fatalf("bench --smoke --json: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	rep := decodeJSON[bench.Report](t, r.stdout)
	t.Logf("report:\n%s", r.stdout)

	if !rep.Smoke || rep.Pages.Count != 2 || rep.Pages.Source != "generated" || !rep.Pages.GroundTruth || rep.Pages.Words == 0 || rep.Jobs < 1 {
		t.Errorf("pages %+v, smoke %v, jobs %d", rep.Pages, rep.Smoke, rep.Jobs)
	}
	if rep.Machine.CPUs < 1 || !strings.HasPrefix(rep.Machine.Tesseract, "tesseract ") {
		t.Errorf("machine %+v", rep.Machine)
	}
	// Clean rendered pages: the engine reads them (nearly) perfectly, so 0 is a fine CER.
	cerOK := func(name string, c *float64) {
		t.Helper()
		if c == nil || *c < 0 || *c >= 0.05 {
			t.Errorf("%s mean CER %v, want in [0, 0.05)", name, c)
		}
	}
	if rep.Baseline.PagesPerMinute <= 0 || rep.Baseline.Seconds <= 0 || rep.Baseline.CPUSeconds <= 0 {
		t.Errorf("baseline %+v", rep.Baseline)
	}
	cerOK("baseline", rep.Baseline.MeanCER)
	p := rep.Pipeline
	if p.PagesPerMinute <= 0 || p.Seconds <= 0 || p.RecognitionSeconds <= 0 || p.RecognitionCPUSeconds <= 0 || p.Doc == "" {
		t.Errorf("pipeline %+v", p)
	}
	cerOK("pipeline", p.MeanCER)
	cerOK("pipeline against baseline", p.MeanCERVsBaseline)
	if p.CPU.ProcessSeconds <= 0 || p.CPU.MinIOSeconds < 0 || p.CPU.TotalSeconds != p.CPU.ProcessSeconds+p.CPU.MinIOSeconds {
		t.Errorf("pipeline CPU %+v", p.CPU)
	}
	if rep.Ratios.PipelineToBaseline <= 0 {
		t.Errorf("pipeline/baseline %v", rep.Ratios.PipelineToBaseline)
	}
	switch rep.OCRmyPDF.Status {
	case bench.StatusMeasured:
		if x := rep.Ratios.PipelineToOCRmyPDF; x == nil || *x <= 0 || rep.OCRmyPDF.PagesPerMinute <= 0 {
			t.Errorf("OCRmyPDF measured but ratio %v, %+v", x, rep.OCRmyPDF)
		}
		cerOK("OCRmyPDF", rep.OCRmyPDF.MeanCER)
	case bench.StatusNotInstalled:
		if rep.Ratios.PipelineToOCRmyPDF != nil || !strings.Contains(rep.OCRmyPDF.Reason, "install-deps --bench") {
			t.Errorf("OCRmyPDF not installed but %+v, ratio %v", rep.OCRmyPDF, rep.Ratios.PipelineToOCRmyPDF)
		}
	default:
		t.Errorf("OCRmyPDF status %q (%s), want measured or not installed", rep.OCRmyPDF.Status, rep.OCRmyPDF.Reason)
	}
	if len(rep.Overhead.Samples) != 2 {
		t.Fatalf("%d overhead samples, want 2", len(rep.Overhead.Samples))
	}
	for i, s := range rep.Overhead.Samples {
		// End to end includes recognition and more; the parts add up to the whole.
		if s.RecognitionMS <= 0 || s.EndToEndMS <= s.RecognitionMS || s.OverheadMS <= 0 || s.UploadMS <= 0 || s.GetMS <= 0 {
			t.Errorf("overhead sample %d: %+v", i+1, s)
		}
		if sum := s.UploadMS + s.ToRecognitionMS + s.RecognitionMS + s.AfterRecognitionMS + s.GetMS; sum < s.EndToEndMS-1 || sum > s.EndToEndMS+1 {
			t.Errorf("overhead sample %d: parts add up to %v ms, end to end %v ms", i+1, sum, s.EndToEndMS)
		}
	}
	if o := rep.Overhead; o.P50MS <= 0 || o.P95MS < o.P50MS {
		t.Errorf("overhead p50 %v, p95 %v", o.P50MS, o.P95MS)
	}
	if len(rep.Targets) != 3 {
		t.Errorf("targets %+v", rep.Targets)
	}
	checkSmokeRounds(t, rep)
	if st, err := os.Stat(profile); err != nil || st.Size() == 0 || rep.Pipeline.CPUProfile != profile {
		t.Errorf("CPU profile %s: %v (report names %q)", profile, err, rep.Pipeline.CPUProfile)
	}
}

// checkSmokeRounds checks --smoke's 2 rounds: each contender in each, in a rotated order, the
// pipeline a document of its own each round, and the top-level figures their totals.
func checkSmokeRounds(t *testing.T, rep bench.Report) {
	t.Helper()
	if len(rep.Rounds) != 2 {
		t.Fatalf("%d rounds, want 2 (--smoke)", len(rep.Rounds))
	}
	contenders := []string{bench.ContenderBaseline, bench.ContenderPipeline}
	if rep.OCRmyPDF.Status == bench.StatusMeasured {
		contenders = []string{bench.ContenderBaseline, bench.ContenderOCRmyPDF, bench.ContenderPipeline}
	}
	docs := map[string]bool{}
	var baseSeconds, pipeSeconds float64
	for i, rd := range rep.Rounds {
		if want := bench.RoundOrder(contenders, i); !slices.Equal(rd.Order, want) {
			t.Errorf("round %d order %v, want %v", i+1, rd.Order, want)
		}
		if rd.Baseline.Seconds <= 0 || rd.Baseline.CPUSeconds <= 0 || rd.Baseline.PagesPerMinute <= 0 {
			t.Errorf("round %d baseline %+v", i+1, rd.Baseline)
		}
		p := rd.Pipeline
		if p.Seconds <= 0 || p.ProcessCPUSeconds <= 0 || p.RecognitionCPUSeconds <= 0 || p.Doc == "" || rd.PipelineToBaseline <= 0 {
			t.Errorf("round %d pipeline %+v, ratio %v", i+1, p, rd.PipelineToBaseline)
		}
		if (rd.OCRmyPDF != nil) != (rep.OCRmyPDF.Status == bench.StatusMeasured) || (rd.PipelineToOCRmyPDF != nil) != (rd.OCRmyPDF != nil) {
			t.Errorf("round %d OCRmyPDF %+v, ratio %v; OCRmyPDF %s", i+1, rd.OCRmyPDF, rd.PipelineToOCRmyPDF, rep.OCRmyPDF.Status)
		}
		docs[p.Doc] = true
		baseSeconds += rd.Baseline.Seconds
		pipeSeconds += p.Seconds
	}
	if len(docs) != 2 {
		t.Errorf("pipeline documents %v, want 2 distinct", docs)
	}
	if rep.Pipeline.Doc != rep.Rounds[1].Pipeline.Doc {
		t.Errorf("pipeline doc %q, want the last round's %q", rep.Pipeline.Doc, rep.Rounds[1].Pipeline.Doc)
	}
	near := func(a, b float64) bool { return a > b-1e-9 && a < b+1e-9 }
	if !near(rep.Baseline.Seconds, baseSeconds) || !near(rep.Pipeline.Seconds, pipeSeconds) {
		t.Errorf("totals: baseline %v s, pipeline %v s; the rounds add up to %v and %v", rep.Baseline.Seconds, rep.Pipeline.Seconds, baseSeconds, pipeSeconds)
	}
	if rep.Ratios.PipelineToBaselineTotals <= 0 {
		t.Errorf("pipeline/baseline of the totals %v", rep.Ratios.PipelineToBaselineTotals)
	}
}

// TestBenchSmokeText checks the report people read, with OCRmyPDF skipped on purpose.
func TestBenchSmokeText(t *testing.T) {
	r := runBenchCmd(t, "--smoke", "--skip-ocrmypdf", "--overhead-samples", "1", "--jobs", "1")
	if r.code != 0 {
		t.Fatalf("bench: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"pages: 2 generated, 1240x1000 px", "; 1 jobs",
		"tesseract CLI, parallel", "colophon pipeline",
		"baseline: tesseract PAGE stdout, OMP_THREAD_LIMIT=1, 1 processes at a time",
		"OCRmyPDF: skipped (--skip-ocrmypdf)",
		"all 2 rounds together", "round by round", "baseline, pipeline", "pipeline, baseline",
		"pipeline / baseline: median of 2 rounds ", "pipeline / OCRmyPDF: n/a (OCRmyPDF skipped)",
		"pipeline CPU, all 2 rounds: ", "1 samples:", "p50 ",
		"targets (not their conditions",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("%q missing from:\n%s", want, r.stdout)
		}
	}
	// The workers' per-page lines stay out of the way unless asked for.
	if strings.Contains(r.stderr, "stage event") {
		t.Errorf("worker page logs on stderr at the default level:\n%s", r.stderr)
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pages", "0"}, "--pages must be 1 or more"},
		{[]string{"--jobs", "0"}, "--jobs must be 1 or more"},
		{[]string{"--rounds", "0"}, "--rounds must be 1 or more"},
		{[]string{"--overhead-samples", "-1"}, "--overhead-samples must be 0 or more"},
		{[]string{"--pages-from", filepath.Join(t.TempDir(), "nowhere")}, "nowhere"},
		{[]string{"extra"}, "unknown command"},
	} {
		r := runBenchCmd(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want non-zero and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestBenchMemorySmoke runs `colophon bench --memory --smoke` as a user would, as its own
// process (the worker it measures is the same binary), and checks the curve is reported. It
// checks nothing about the memory figures: those are for docs/benchmarks.md.
func TestBenchMemorySmoke(t *testing.T) {
	bin := colophonBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "bench", "--memory", "--smoke")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("colophon bench --memory --smoke: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	// One row per sampling point, each with a resident set in MiB.
	rows := regexp.MustCompile(`(?m)^\s+(\d+)\s+(\d+\.\d)\s+(\d+\.\d)\s+\S+$`).FindAllStringSubmatch(string(out), -1)
	var pages []string
	for _, r := range rows {
		pages = append(pages, r[1])
		if mib, _ := strconv.ParseFloat(r[2], 64); mib < 10 || mib > 4096 {
			t.Errorf("after %s pages: resident %s MiB, not a plausible worker", r[1], r[2])
		}
	}
	if strings.Join(pages, ",") != "1,2,3" {
		t.Errorf("sampled after %v pages, want 1,2,3\n%s", pages, out)
	}
}

// TestBenchFidelitySmoke runs `colophon bench --fidelity --smoke` and checks the report
// names both contenders' readings of both pages and the targets. It checks nothing about
// how well either read: those figures are for docs/benchmarks.md.
func TestBenchFidelitySmoke(t *testing.T) {
	r := runBenchCmd(t, "--fidelity", "--smoke", "--json")
	if r.code != 0 {
		t.Fatalf("bench --fidelity --smoke --json: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	rep := decodeJSON[bench.FidelityReport](t, r.stdout)
	if !rep.Smoke || len(rep.Pages) != 2 || len(rep.Targets) == 0 {
		t.Fatalf("report: smoke %v, %d pages, %d targets", rep.Smoke, len(rep.Pages), len(rep.Targets))
	}
	for _, p := range rep.Pages {
		if p.Chars == 0 || p.Tesseract.Seconds <= 0 || p.Pipeline.Seconds <= 0 || p.Tesseract.Error != "" || p.Pipeline.Error != "" {
			t.Errorf("page %s: %+v", p.Name, p)
		}
		// The OCR worker's time on the page, from its record, is part of the pipeline's.
		if e := p.Pipeline.EngineSeconds; e <= 0 || e >= p.Pipeline.Seconds {
			t.Errorf("page %s: pipeline engine seconds %.3f, want in (0, %.3f)", p.Name, e, p.Pipeline.Seconds)
		}
		// Generated pages are English; the verdict is the record's, or none.
		if bench.LangArg(p.Langs) != "eng" {
			t.Errorf("page %s: languages %v, want eng", p.Name, p.Langs)
		}
		switch v := p.Pipeline.Verdict; v {
		case bench.NoVerdict, "ok", "review":
		default:
			t.Errorf("page %s: verdict %q", p.Name, v)
		}
	}
	if rep.WorseThanPlain == nil || len(rep.WorseThanPlain) != 0 {
		t.Errorf("worse than plain %v, want [] (no real pages in a smoke run)", rep.WorseThanPlain)
	}
}
