package bench

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestRoundOrder(t *testing.T) {
	three := []string{ContenderBaseline, ContenderOCRmyPDF, ContenderPipeline}
	two := []string{ContenderBaseline, ContenderPipeline}
	for _, tc := range []struct {
		name       string
		contenders []string
		round      int
		want       []string
	}{
		{"three, round 0", three, 0, three},
		{"three, round 1", three, 1, []string{ContenderOCRmyPDF, ContenderPipeline, ContenderBaseline}},
		{"three, round 2", three, 2, []string{ContenderPipeline, ContenderBaseline, ContenderOCRmyPDF}},
		{"three, round 3 starts over", three, 3, three},
		{"two, round 0", two, 0, two},
		{"two, round 1", two, 1, []string{ContenderPipeline, ContenderBaseline}},
		{"two, round 2", two, 2, two},
		{"one", []string{ContenderPipeline}, 5, []string{ContenderPipeline}},
		{"none", nil, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.contenders)
			got := RoundOrder(tc.contenders, tc.round)
			if !slices.Equal(got, tc.want) {
				t.Errorf("RoundOrder(%v, %d) = %v, want %v", tc.contenders, tc.round, got, tc.want)
			}
			if !slices.Equal(tc.contenders, in) {
				t.Errorf("RoundOrder changed its argument to %v", tc.contenders)
			}
		})
	}

	// Over as many rounds as contenders, each contender runs once in each position.
	for _, list := range [][]string{two, three} {
		for pos := range list {
			var at []string
			for round := range list {
				at = append(at, RoundOrder(list, round)[pos])
			}
			slices.Sort(at)
			want := slices.Sorted(slices.Values(list))
			if !slices.Equal(at, want) {
				t.Errorf("%v: position %d held %v over %d rounds, want each once", list, pos, at, len(list))
			}
		}
	}
}

// sampleRound is a round of sampleReport's 20 pages that took these wall seconds (ocr 0:
// OCRmyPDF did not run); CPU and other programs' time are the same every round.
func sampleRound(round int, base, ocr, pipe float64) Round {
	all := []string{ContenderBaseline, ContenderOCRmyPDF, ContenderPipeline}
	rd := Round{
		Baseline: RoundRun{Seconds: base, CPUSeconds: 110, OtherCPUSeconds: 6},
		Pipeline: PipelineRound{
			Doc: "bench-round-" + string(rune('1'+round)), RoundRun: RoundRun{Seconds: pipe, OtherCPUSeconds: 3},
			UploadSeconds: 0.5, RecognitionSeconds: 96, RecognitionCPUSeconds: 95, ProcessCPUSeconds: 98, MinIOCPUSeconds: 2,
		},
	}
	if ocr > 0 {
		rd.OCRmyPDF = &OCRmyPDFRound{RoundRun: RoundRun{Seconds: ocr, CPUSeconds: 150}, Img2PDFSeconds: 1}
	} else {
		all = []string{ContenderBaseline, ContenderPipeline}
	}
	rd.Order = RoundOrder(all, round)
	return rd
}

func TestReportFinishRounds(t *testing.T) {
	type want struct {
		toBaseline, toBaselineTotals float64
		toOCRmyPDF, toOCRmyPDFTotals float64 // 0: null
		roundToOCRmyPDF              []float64
		basePPM, ocrPPM, pipePPM     float64
		baseSeconds, pipeSeconds     float64
		cpuTotal, cpuOverhead        float64
		doc                          string
		targetGot                    string
	}
	for _, tc := range []struct {
		name   string
		rounds []Round
		status string // OCRmyPDF's
		want   want
	}{
		{
			name:   "one round: the figures of a single run",
			rounds: []Round{sampleRound(0, 60, 90, 50)},
			status: StatusMeasured,
			want: want{
				toBaseline: 1.2, toBaselineTotals: 1.2, toOCRmyPDF: 1.8, toOCRmyPDFTotals: 1.8, roundToOCRmyPDF: []float64{1.8},
				basePPM: 20, ocrPPM: 20.0 / 90 * 60, pipePPM: 24, baseSeconds: 60, pipeSeconds: 50,
				cpuTotal: 100, cpuOverhead: 5, doc: "bench-round-1", targetGot: "1.20x",
			},
		},
		{
			// Ratios 1.2, 1.0 and 1.05: the median is the middle one, not the totals' 173/160.
			name:   "three rounds, every contender",
			rounds: []Round{sampleRound(0, 60, 90, 50), sampleRound(1, 50, 100, 50), sampleRound(2, 63, 80, 60)},
			status: StatusMeasured,
			want: want{
				toBaseline: 1.05, toBaselineTotals: 173.0 / 160, toOCRmyPDF: 1.8, toOCRmyPDFTotals: 270.0 / 160,
				roundToOCRmyPDF: []float64{1.8, 2, 80.0 / 60},
				basePPM:         60.0 / 173 * 60, ocrPPM: 60.0 / 270 * 60, pipePPM: 60.0 / 160 * 60, baseSeconds: 173, pipeSeconds: 160,
				cpuTotal: 300, cpuOverhead: 15, doc: "bench-round-3", targetGot: "1.05x, median of 3 rounds",
			},
		},
		{
			name:   "two rounds, OCRmyPDF not installed",
			rounds: []Round{sampleRound(0, 60, 0, 50), sampleRound(1, 50, 0, 60)},
			status: StatusNotInstalled,
			want: want{
				toBaseline: (1.2 + 50.0/60) / 2, toBaselineTotals: 1, roundToOCRmyPDF: []float64{0, 0},
				basePPM: 40.0 / 110 * 60, pipePPM: 40.0 / 110 * 60, baseSeconds: 110, pipeSeconds: 110,
				cpuTotal: 200, cpuOverhead: 10, doc: "bench-round-2", targetGot: "1.02x, median of 2 rounds",
			},
		},
		{
			// Its first round stays in the rounds, but a contender that failed has no ratio.
			name:   "OCRmyPDF failed in the second round",
			rounds: []Round{sampleRound(0, 60, 90, 50), sampleRound(1, 50, 0, 50)},
			status: StatusFailed,
			want: want{
				toBaseline: 1.1, toBaselineTotals: 1.1, roundToOCRmyPDF: []float64{1.8, 0},
				basePPM: 40.0 / 110 * 60, pipePPM: 24, baseSeconds: 110, pipeSeconds: 100,
				cpuTotal: 200, cpuOverhead: 10, doc: "bench-round-2", targetGot: "1.10x, median of 2 rounds",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleReport()
			r.Rounds, r.OCRmyPDF.Status = tc.rounds, tc.status
			r.Finish()
			r.Finish() // twice: the totals are worked out afresh, not added to
			near := func(name string, got, want float64) {
				t.Helper()
				if got < want-1e-9 || got > want+1e-9 {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			nullable := func(name string, got *float64, want float64) {
				t.Helper()
				switch {
				case want == 0 && got != nil:
					t.Errorf("%s = %v, want null", name, *got)
				case want != 0 && got == nil:
					t.Errorf("%s = null, want %v", name, want)
				case got != nil:
					near(name, *got, want)
				}
			}
			w := tc.want
			near("pipeline/baseline", r.Ratios.PipelineToBaseline, w.toBaseline)
			near("pipeline/baseline of the totals", r.Ratios.PipelineToBaselineTotals, w.toBaselineTotals)
			nullable("pipeline/OCRmyPDF", r.Ratios.PipelineToOCRmyPDF, w.toOCRmyPDF)
			nullable("pipeline/OCRmyPDF of the totals", r.Ratios.PipelineToOCRmyPDFTotals, w.toOCRmyPDFTotals)
			near("baseline pages/min", r.Baseline.PagesPerMinute, w.basePPM)
			near("OCRmyPDF pages/min", r.OCRmyPDF.PagesPerMinute, w.ocrPPM)
			near("pipeline pages/min", r.Pipeline.PagesPerMinute, w.pipePPM)
			near("baseline seconds", r.Baseline.Seconds, w.baseSeconds)
			near("pipeline seconds", r.Pipeline.Seconds, w.pipeSeconds)
			n := float64(len(tc.rounds))
			near("baseline CPU", r.Baseline.CPUSeconds, 110*n)
			near("baseline other CPU", r.Baseline.OtherCPUSeconds, 6*n)
			near("pipeline upload", r.Pipeline.UploadSeconds, 0.5*n)
			near("pipeline recognition", r.Pipeline.RecognitionSeconds, 96*n)
			near("pipeline recognition CPU", r.Pipeline.RecognitionCPUSeconds, 95*n)
			near("pipeline CPU", r.Pipeline.CPU.TotalSeconds, w.cpuTotal)
			near("pipeline CPU overhead", r.Pipeline.CPU.OverheadSeconds, w.cpuOverhead)
			near("pipeline CPU overhead share", r.Pipeline.CPU.OverheadShare, 5.0/95)
			if r.Pipeline.Doc != w.doc {
				t.Errorf("pipeline doc %q, want the last round's %q", r.Pipeline.Doc, w.doc)
			}
			if got := r.Targets[0].Got; got != w.targetGot {
				t.Errorf("target got %q, want %q", got, w.targetGot)
			}
			for i, rd := range r.Rounds {
				near("round pipeline/baseline", rd.PipelineToBaseline, rd.Baseline.Seconds/rd.Pipeline.Seconds)
				nullable("round pipeline/OCRmyPDF", rd.PipelineToOCRmyPDF, w.roundToOCRmyPDF[i])
				near("round baseline pages/min", rd.Baseline.PagesPerMinute, 20/rd.Baseline.Seconds*60)
				near("round baseline other cores", rd.Baseline.OtherCores, 6/rd.Baseline.Seconds)
				near("round pipeline CPU", rd.Pipeline.CPUSeconds, 100)
			}
		})
	}
}

func TestReportTextRounds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(r *Report)
		want    []string // in the text, in this order
		notWant []string
	}{
		{
			name: "three rounds",
			change: func(r *Report) {
				r.Rounds = []Round{sampleRound(0, 60, 90, 50), sampleRound(1, 50, 100, 50), sampleRound(2, 63, 80, 60)}
			},
			want: []string{
				"all 3 rounds together (every contender read the 20 pages once a round):",
				// 60 pages in 173 s; 330 s CPU over 60 pages; 18 s others' over 173 s.
				"tesseract CLI, parallel 20.8 173.0 330.0 5.50 0.0020 0.10",
				"colophon pipeline 22.5 160.0 300.0 5.00",
				"img2pdf first: 3.0 s in all, not counted",
				"pipeline: one 20-page document a round, upload 1.5 s in all (recognition starts meanwhile); its text against the baseline's (last round): CER 0.0020",
				"round by round",
				"round order baseline s OCRmyPDF s pipeline s pipeline/baseline pipeline/OCRmyPDF other programs, max cores",
				"1 baseline, OCRmyPDF, pipeline 60.0 90.0 50.0 1.20x 1.80x 0.10",
				"2 OCRmyPDF, pipeline, baseline 50.0 100.0 50.0 1.00x 2.00x 0.12",
				"3 pipeline, baseline, OCRmyPDF 63.0 80.0 60.0 1.05x 1.33x 0.10",
				"pipeline / baseline: median of 3 rounds 1.05x (rounds: 1.20x 1.00x 1.05x; totals 1.08x)",
				"pipeline / OCRmyPDF: median of 3 rounds 1.80x (rounds: 1.80x 2.00x 1.33x; totals 1.69x)",
				"pipeline CPU, all 3 rounds: 300.0 s (this process 294.0 s + MinIO 6.0 s)",
				"targets:", "1.05x, median of 3 rounds met", "1.80x, median of 3 rounds met",
			},
			notWant: []string{"not the same in every round"},
		},
		{
			name: "two rounds without OCRmyPDF, a text that changed",
			change: func(r *Report) {
				r.OCRmyPDF = OCRmyPDFRun{Status: StatusSkipped, Reason: "--skip-ocrmypdf"}
				r.Rounds = []Round{sampleRound(0, 60, 0, 50), sampleRound(1, 50, 0, 60)}
				r.TextsDiffer = []string{ContenderPipeline}
			},
			want: []string{
				"all 2 rounds together",
				"the text of pipeline was not the same in every round; the CERs are the last round's",
				"1 baseline, pipeline 60.0 - 50.0 1.20x - 0.10",
				"2 pipeline, baseline 50.0 - 60.0 0.83x - 0.12",
				"pipeline / baseline: median of 2 rounds 1.02x (rounds: 1.20x 0.83x; totals 1.00x)",
				"pipeline / OCRmyPDF: n/a (OCRmyPDF skipped)",
			},
		},
		{
			name:    "one round reads as a single run",
			want:    []string{"pipeline / baseline: 1.20x", "pipeline / OCRmyPDF: 1.80x", "pipeline CPU: 100.0 s"},
			notWant: []string{"round by round", "rounds", "median of", "in all", "last round"},
		},
		{
			name: "CPU profile of the first round",
			change: func(r *Report) {
				r.Rounds = []Round{sampleRound(0, 60, 90, 50), sampleRound(1, 50, 100, 50)}
				r.Pipeline.CPUProfile = "bench.pprof"
			},
			want: []string{"CPU profile of the first round's pipeline run: bench.pprof"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) { checkReportText(t, tc.change, tc.want, tc.notWant) })
	}
}

func TestReportJSONRounds(t *testing.T) {
	r := sampleReport()
	r.OCRmyPDF = OCRmyPDFRun{Status: StatusNotInstalled}
	r.Rounds = []Round{sampleRound(0, 60, 0, 50), sampleRound(1, 50, 0, 60)}
	r.Finish()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Rounds []map[string]any `json:"rounds"`
		Ratios map[string]any   `json:"ratios"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Rounds) != 2 {
		t.Fatalf("%d rounds in %s", len(m.Rounds), b)
	}
	for _, k := range []string{"order", "baseline", "ocrmypdf", "pipeline", "pipeline_to_baseline", "pipeline_to_ocrmypdf"} {
		if _, ok := m.Rounds[0][k]; !ok {
			t.Errorf("no %q in round %v", k, m.Rounds[0])
		}
	}
	p := m.Rounds[1]["pipeline"].(map[string]any)
	for _, k := range []string{"doc", "seconds", "pages_per_minute", "cpu_seconds", "other_cores", "process_cpu_seconds", "minio_cpu_seconds"} {
		if _, ok := p[k]; !ok {
			t.Errorf("no %q in round 2's pipeline %v", k, p)
		}
	}
	if m.Rounds[0]["ocrmypdf"] != nil {
		t.Errorf("round 1 ocrmypdf = %v, want null", m.Rounds[0]["ocrmypdf"])
	}
	for _, k := range []string{"pipeline_to_baseline", "pipeline_to_baseline_totals", "pipeline_to_ocrmypdf", "pipeline_to_ocrmypdf_totals"} {
		if _, ok := m.Ratios[k]; !ok {
			t.Errorf("no %q in ratios %v", k, m.Ratios)
		}
	}
}
