package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// The targets, for the report (never for tests).
const (
	TargetPipelineToBaseline = 1.0   // pipeline pages/min over the parallel tesseract baseline's
	TargetPipelineToOCRmyPDF = 1.5   // over OCRmyPDF --jobs N --sidecar
	TargetOverheadP50MS      = 150.0 // overhead of a single page on an idle pipeline
	TargetMinPages           = 20    // the targets are for this many full pages or more
)

// Report is everything one `colophon bench` run measured: the JSON of `bench --json`.
//
// The throughput comparison runs in Rounds, each contender once a round. Baseline, OCRmyPDF
// and Pipeline are the totals over all rounds, and Ratios the medians of the rounds' ratios;
// Finish works them out from the rounds. With one round they are that round's figures.
type Report struct {
	Date       time.Time   `json:"date"`
	Command    string      `json:"command"`
	Smoke      bool        `json:"smoke"`
	Machine    MachineInfo `json:"machine"`
	LoadBefore [3]float64  `json:"load_average_before"`
	LoadAfter  [3]float64  `json:"load_average_after"`
	Pages      PagesInfo   `json:"pages"`
	Jobs       int         `json:"jobs"`
	Baseline   BaselineRun `json:"baseline"`
	OCRmyPDF   OCRmyPDFRun `json:"ocrmypdf"`
	Pipeline   PipelineRun `json:"pipeline"`
	Rounds     []Round     `json:"rounds"`
	// TextsDiffer names the contenders whose text of the pages was not the same in every
	// round (it should be); the CERs are from the last round.
	TextsDiffer []string    `json:"texts_differ,omitempty"`
	Ratios      Ratios      `json:"ratios"`
	Overhead    OverheadRun `json:"overhead"`
	Targets     []Target    `json:"targets"`
}

// PagesInfo describes the pages every contender read.
type PagesInfo struct {
	Count  int    `json:"count"`
	Source string `json:"source"` // "generated" or the directory
	// Width x Height of the first page, in pixels.
	Width  int   `json:"width"`
	Height int   `json:"height"`
	Bytes  int64 `json:"bytes"` // all page files together
	// Words is the number of words of ground truth, over the pages that have it.
	Words       int  `json:"words"`
	GroundTruth bool `json:"ground_truth"` // every page has it, so mean CERs cover them all
}

// Full reports whether the pages are the targets' conditions: TargetMinPages or more A4
// pages at 300 dpi (or larger).
func (p PagesInfo) Full() bool {
	return p.Count >= TargetMinPages && p.Width*p.Height >= FullPageWidth*FullPageHeight*9/10
}

// BaselineRun is plain tesseract, as many processes at a time as jobs.
type BaselineRun struct {
	Command        string   `json:"command"`
	Seconds        float64  `json:"seconds"`
	PagesPerMinute float64  `json:"pages_per_minute"`
	CPUSeconds     float64  `json:"cpu_seconds"`
	MeanCER        *float64 `json:"mean_cer"` // against ground truth; null without it
	// OtherCPUSeconds is the CPU time other programs took on this machine meanwhile.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
}

// OCRmyPDFRun is OCRmyPDF on the pages as one PDF; Status says whether it ran.
type OCRmyPDFRun struct {
	Status          string   `json:"status"` // measured, not installed, skipped, failed
	Reason          string   `json:"reason,omitempty"`
	Version         string   `json:"version,omitempty"`
	Command         string   `json:"command,omitempty"`
	Img2PDFSeconds  float64  `json:"img2pdf_seconds"` // building the PDF: not in Seconds
	Seconds         float64  `json:"seconds"`
	PagesPerMinute  float64  `json:"pages_per_minute"`
	CPUSeconds      float64  `json:"cpu_seconds"`
	MeanCER         *float64 `json:"mean_cer"`
	OtherCPUSeconds float64  `json:"other_cpu_seconds"`
}

// PipelineRun is the pages as one document through the pipeline, from the first upload
// byte to the last verified byte of text (a document a round).
type PipelineRun struct {
	Doc            string  `json:"doc"` // the last round's, whose text the CERs are from
	Seconds        float64 `json:"seconds"`
	PagesPerMinute float64 `json:"pages_per_minute"`
	// UploadSeconds is how long the upload took; recognition runs meanwhile.
	UploadSeconds float64 `json:"upload_seconds"`
	// RecognitionSeconds is the sum of the pages' ocr.duration_ms (wall time).
	RecognitionSeconds float64 `json:"recognition_seconds"`
	// RecognitionCPUSeconds is the CPU time of the same recognitions, measured on the thread
	// each ran on: unlike wall time, it does not grow when other programs share the cores.
	RecognitionCPUSeconds float64     `json:"recognition_cpu_seconds"`
	CPU                   PipelineCPU `json:"cpu"`
	MeanCER               *float64    `json:"mean_cer"`
	// MeanCERVsBaseline is the pipeline's text against the baseline's, page by page.
	MeanCERVsBaseline *float64 `json:"mean_cer_vs_baseline"`
	CPUProfile        string   `json:"cpu_profile,omitempty"` // of the first round's run
	// OtherCPUSeconds is the CPU time other programs took on this machine meanwhile.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
}

// PipelineCPU is the CPU time of every pipeline process during the throughput run: this
// process (NATS, the workers with their Tesseracts, the client) and the MinIO child.
type PipelineCPU struct {
	ProcessSeconds float64 `json:"process_seconds"`
	MinIOSeconds   float64 `json:"minio_seconds"`
	TotalSeconds   float64 `json:"total_seconds"`
	// OverheadSeconds is TotalSeconds minus the recognitions' CPU time (their wall time,
	// ocr.duration_ms, when that was not measured); OverheadShare is that as a fraction of it.
	OverheadSeconds float64 `json:"overhead_seconds"`
	OverheadShare   float64 `json:"overhead_share"`
	// OverheadShareByDuration is (TotalSeconds - the sum of ocr.duration_ms) over that sum:
	// the same with recognition's wall time, lower than OverheadShare on a busy machine.
	OverheadShareByDuration float64 `json:"overhead_share_by_duration"`
}

// Ratios compare throughputs (pages a minute): the medians of the rounds' ratios, which the
// targets are judged on, and the ratios of the totals over all rounds. Those for OCRmyPDF
// are null when it was not measured.
type Ratios struct {
	PipelineToBaseline       float64  `json:"pipeline_to_baseline"`
	PipelineToOCRmyPDF       *float64 `json:"pipeline_to_ocrmypdf"`
	PipelineToBaselineTotals float64  `json:"pipeline_to_baseline_totals"`
	PipelineToOCRmyPDFTotals *float64 `json:"pipeline_to_ocrmypdf_totals"`
}

// OverheadRun is single-page documents sent one after another to an idle pipeline.
type OverheadRun struct {
	Samples []OverheadSample `json:"samples"`
	P50MS   float64          `json:"p50_ms"`
	P95MS   float64          `json:"p95_ms"`
	// Medians of the parts of the overhead, to show where it goes.
	MedianUploadMS           float64 `json:"median_upload_ms"`
	MedianToRecognitionMS    float64 `json:"median_to_recognition_ms"`
	MedianAfterRecognitionMS float64 `json:"median_after_recognition_ms"`
	MedianGetMS              float64 `json:"median_get_ms"`
	MedianRecognitionMS      float64 `json:"median_recognition_ms"`
}

// Target is one of the targets and how this run did; Met is null when it could not
// be measured.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  *bool  `json:"met"`
}

// Finish computes what follows from the measurements: the totals over the rounds, pages a
// minute, ratios, percentiles, CPU overhead and the targets. The CERs, which need the texts,
// are the caller's.
func (r *Report) Finish() {
	r.finishThroughput()
	cpu := &r.Pipeline.CPU
	cpu.TotalSeconds = cpu.ProcessSeconds + cpu.MinIOSeconds
	recog := r.Pipeline.RecognitionCPUSeconds
	if recog <= 0 {
		recog = r.Pipeline.RecognitionSeconds
	}
	cpu.OverheadSeconds, cpu.OverheadShare, cpu.OverheadShareByDuration = cpu.TotalSeconds-recog, 0, 0
	if recog > 0 {
		cpu.OverheadShare = cpu.OverheadSeconds / recog
	}
	if d := r.Pipeline.RecognitionSeconds; d > 0 {
		cpu.OverheadShareByDuration = (cpu.TotalSeconds - d) / d
	}

	o := &r.Overhead
	field := func(f func(OverheadSample) float64) []float64 {
		out := make([]float64, len(o.Samples))
		for i, s := range o.Samples {
			out[i] = f(s)
		}
		return out
	}
	overheads := field(func(s OverheadSample) float64 { return s.OverheadMS })
	o.P50MS, o.P95MS = zeroNaN(Percentile(overheads, 50)), zeroNaN(Percentile(overheads, 95))
	o.MedianUploadMS = zeroNaN(Percentile(field(func(s OverheadSample) float64 { return s.UploadMS }), 50))
	o.MedianToRecognitionMS = zeroNaN(Percentile(field(func(s OverheadSample) float64 { return s.ToRecognitionMS }), 50))
	o.MedianAfterRecognitionMS = zeroNaN(Percentile(field(func(s OverheadSample) float64 { return s.AfterRecognitionMS }), 50))
	o.MedianGetMS = zeroNaN(Percentile(field(func(s OverheadSample) float64 { return s.GetMS }), 50))
	o.MedianRecognitionMS = zeroNaN(Percentile(field(func(s OverheadSample) float64 { return s.RecognitionMS }), 50))

	met := func(ok bool) *bool { return &ok }
	// With several rounds the ratio judged is their median: say so.
	ofRounds := ""
	if len(r.Rounds) > 1 {
		ofRounds = fmt.Sprintf(", median of %d rounds", len(r.Rounds))
	}
	r.Targets = []Target{{
		Name: "pipeline throughput / parallel tesseract", Want: fmt.Sprintf(">= %.1fx", TargetPipelineToBaseline),
		Got: fmt.Sprintf("%.2fx%s", r.Ratios.PipelineToBaseline, ofRounds), Met: met(r.Ratios.PipelineToBaseline >= TargetPipelineToBaseline),
	}}
	t := Target{Name: "pipeline throughput / OCRmyPDF", Want: fmt.Sprintf(">= %.1fx", TargetPipelineToOCRmyPDF), Got: "OCRmyPDF " + r.OCRmyPDF.Status}
	if x := r.Ratios.PipelineToOCRmyPDF; x != nil {
		t.Got, t.Met = fmt.Sprintf("%.2fx%s", *x, ofRounds), met(*x >= TargetPipelineToOCRmyPDF)
	}
	r.Targets = append(r.Targets, t)
	t = Target{Name: "overhead p50, single page, idle pipeline", Want: fmt.Sprintf("<= %.0f ms", TargetOverheadP50MS), Got: "no samples"}
	if len(o.Samples) > 0 {
		t.Got, t.Met = fmt.Sprintf("%.0f ms", o.P50MS), met(o.P50MS <= TargetOverheadP50MS)
	}
	r.Targets = append(r.Targets, t)
}

func zeroNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := r.Pages
	fmt.Fprintf(&b, "colophon bench, %s\n", r.Date.UTC().Format(time.RFC3339))
	src := "generated"
	if p.Source != "generated" {
		src = "from " + p.Source
	}
	fmt.Fprintf(&b, "pages: %d %s, %dx%d px (first page), %.1f MiB", p.Count, src, p.Width, p.Height, float64(p.Bytes)/(1<<20))
	if p.Words > 0 {
		fmt.Fprintf(&b, ", %d words of ground truth", p.Words)
	}
	b.WriteString("\n")
	m := r.Machine
	fmt.Fprintf(&b, "machine: %d CPUs, %d MiB, %s, %s; %d jobs\n", m.CPUs, m.MemTotalMiB, orDash(m.OS), orDash(m.Tesseract), r.Jobs)
	fmt.Fprintf(&b, "load average: %s before, %s after\n\n", loadString(r.LoadBefore), loadString(r.LoadAfter))

	// With one round the report reads as a single run; with more, the first table is the
	// totals and the rounds follow.
	rounds := len(r.Rounds)
	several := rounds > 1
	if several {
		fmt.Fprintf(&b, "all %d rounds together (every contender read the %d pages once a round):\n", rounds, p.Count)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tpages/min\twall s\tCPU s\tCPU s/page\tmean CER\tother programs, cores\t")
	row := func(name string, ppm, secs, cpu float64, cer *float64, other float64) {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%.2f\t\n", name, ppm, secs, cpu, perPage(cpu, p.Count*max(rounds, 1)), cerString(cer), perSecond(other, secs))
	}
	row("tesseract CLI, parallel", r.Baseline.PagesPerMinute, r.Baseline.Seconds, r.Baseline.CPUSeconds, r.Baseline.MeanCER, r.Baseline.OtherCPUSeconds)
	if r.OCRmyPDF.Status == StatusMeasured {
		row("OCRmyPDF", r.OCRmyPDF.PagesPerMinute, r.OCRmyPDF.Seconds, r.OCRmyPDF.CPUSeconds, r.OCRmyPDF.MeanCER, r.OCRmyPDF.OtherCPUSeconds)
	} else {
		fmt.Fprintf(tw, "OCRmyPDF\t%s\t\t\t\t\t\t\n", r.OCRmyPDF.Status)
	}
	row("colophon pipeline", r.Pipeline.PagesPerMinute, r.Pipeline.Seconds, r.Pipeline.CPU.TotalSeconds, r.Pipeline.MeanCER, r.Pipeline.OtherCPUSeconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("  (other programs: CPU time the rest of the machine took during each run, in cores on average;\n" +
		"   more than a few hundredths means the machine was shared and the figures are noisy)\n")
	fmt.Fprintf(&b, "\n  baseline: %s\n", r.Baseline.Command)
	inAll, lastRound := "", ""
	if several {
		inAll, lastRound = " in all", " (last round)"
	}
	switch r.OCRmyPDF.Status {
	case StatusMeasured:
		fmt.Fprintf(&b, "  OCRmyPDF %s: %s (img2pdf first: %.1f s%s, not counted)\n", r.OCRmyPDF.Version, r.OCRmyPDF.Command, r.OCRmyPDF.Img2PDFSeconds, inAll)
	default:
		fmt.Fprintf(&b, "  OCRmyPDF: %s", r.OCRmyPDF.Status)
		if r.OCRmyPDF.Reason != "" {
			fmt.Fprintf(&b, " (%s)", r.OCRmyPDF.Reason)
		}
		b.WriteString("\n")
	}
	aRound := ""
	if several {
		aRound = " a round"
	}
	fmt.Fprintf(&b, "  pipeline: one %d-page document%s, upload %.1f s%s (recognition starts meanwhile); its text against the baseline's%s: CER %s\n",
		p.Count, aRound, r.Pipeline.UploadSeconds, inAll, lastRound, cerString(r.Pipeline.MeanCERVsBaseline))
	if len(r.TextsDiffer) > 0 {
		fmt.Fprintf(&b, "  the text of %s was not the same in every round; the CERs are the last round's\n", strings.Join(r.TextsDiffer, ", "))
	}

	if several {
		if err := r.writeRounds(&b); err != nil {
			return err
		}
	}
	b.WriteString("\n")
	r.writeRatio(&b, "baseline", r.Ratios.PipelineToBaseline, &r.Ratios.PipelineToBaselineTotals,
		func(rd Round) *float64 { return &rd.PipelineToBaseline })
	if x := r.Ratios.PipelineToOCRmyPDF; x != nil {
		r.writeRatio(&b, "OCRmyPDF", *x, r.Ratios.PipelineToOCRmyPDFTotals,
			func(rd Round) *float64 { return rd.PipelineToOCRmyPDF })
	} else {
		fmt.Fprintf(&b, "pipeline / OCRmyPDF: n/a (OCRmyPDF %s)\n", r.OCRmyPDF.Status)
	}

	c := r.Pipeline.CPU
	if several {
		fmt.Fprintf(&b, "\npipeline CPU, all %d rounds", rounds)
	} else {
		b.WriteString("\npipeline CPU")
	}
	fmt.Fprintf(&b, ": %.1f s (this process %.1f s + MinIO %.1f s); recognition %.1f s CPU (%.1f s wall, the records' ocr.duration_ms)\n",
		c.TotalSeconds, c.ProcessSeconds, c.MinIOSeconds, r.Pipeline.RecognitionCPUSeconds, r.Pipeline.RecognitionSeconds)
	fmt.Fprintf(&b, "  CPU overhead: %.1f s = %.1f%% of recognition CPU (%.1f%% of recognition wall time)\n",
		c.OverheadSeconds, 100*c.OverheadShare, 100*c.OverheadShareByDuration)

	o := r.Overhead
	fmt.Fprintf(&b, "\noverhead of a single page on an idle pipeline (end to end minus recognition), %d samples:\n", len(o.Samples))
	if len(o.Samples) > 0 {
		fmt.Fprintf(&b, "  p50 %.0f ms, p95 %.0f ms (median recognition %.0f ms)\n", o.P50MS, o.P95MS, o.MedianRecognitionMS)
		fmt.Fprintf(&b, "  medians: upload %.0f ms, to recognition %.0f ms, after recognition %.0f ms, get %.0f ms\n",
			o.MedianUploadMS, o.MedianToRecognitionMS, o.MedianAfterRecognitionMS, o.MedianGetMS)
	}
	if r.Pipeline.CPUProfile != "" {
		first := ""
		if several {
			first = " first round's"
		}
		fmt.Fprintf(&b, "\nCPU profile of the%s pipeline run: %s (go tool pprof -top bin/colophon %s)\n", first, r.Pipeline.CPUProfile, r.Pipeline.CPUProfile)
	}

	b.WriteString("\ntargets")
	if !p.Full() {
		fmt.Fprintf(&b, " (not their conditions: they are for %d or more full A4 pages at 300 dpi)", TargetMinPages)
	}
	b.WriteString(":\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.Name, t.Want, t.Got, metString(t.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeRounds is the table of the rounds, one row each.
func (r *Report) writeRounds(b *strings.Builder) error {
	b.WriteString("\nround by round (the order rotates, so each contender runs early and late):\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\torder\tbaseline s\tOCRmyPDF s\tpipeline s\tpipeline/baseline\tpipeline/OCRmyPDF\tother programs, max cores\t")
	for i, rd := range r.Rounds {
		ocrSeconds, others := "-", max(rd.Baseline.OtherCores, rd.Pipeline.OtherCores)
		if rd.OCRmyPDF != nil {
			ocrSeconds, others = fmt.Sprintf("%.1f", rd.OCRmyPDF.Seconds), max(others, rd.OCRmyPDF.OtherCores)
		}
		toOCRmyPDF := "-"
		if x := rd.PipelineToOCRmyPDF; x != nil {
			toOCRmyPDF = fmt.Sprintf("%.2fx", *x)
		}
		fmt.Fprintf(tw, "%d\t%s\t%.1f\t%s\t%.1f\t%.2fx\t%s\t%.2f\t\n", i+1, strings.Join(rd.Order, ", "),
			rd.Baseline.Seconds, ocrSeconds, rd.Pipeline.Seconds, rd.PipelineToBaseline, toOCRmyPDF, others)
	}
	return tw.Flush()
}

// writeRatio is the line "pipeline / NAME: ..." with the median (the headline ratio), and
// with several rounds each round's ratio and the ratio of the totals.
func (r *Report) writeRatio(b *strings.Builder, name string, headline float64, totals *float64, of func(Round) *float64) {
	if len(r.Rounds) <= 1 {
		fmt.Fprintf(b, "pipeline / %s: %.2fx\n", name, headline)
		return
	}
	var each []string
	for _, rd := range r.Rounds {
		if x := of(rd); x != nil {
			each = append(each, fmt.Sprintf("%.2fx", *x))
		} else {
			each = append(each, "-")
		}
	}
	fmt.Fprintf(b, "pipeline / %s: median of %d rounds %.2fx (rounds: %s; totals %s)\n",
		name, len(r.Rounds), headline, strings.Join(each, " "), ratioString(totals))
}

func ratioString(x *float64) string {
	if x == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", *x)
}

func perSecond(x, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return x / seconds
}

func perPage(x float64, pages int) float64 {
	if pages == 0 {
		return 0
	}
	return x / float64(pages)
}

func cerString(c *float64) string {
	if c == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.4f", *c)
}

func metString(m *bool) string {
	switch {
	case m == nil:
		return "not measured"
	case *m:
		return "met"
	}
	return "MISSED"
}

func loadString(l [3]float64) string { return fmt.Sprintf("%.2f %.2f %.2f", l[0], l[1], l[2]) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
