package bench

import (
	"math"
	"slices"
)

// The contenders of the throughput comparison, by the names a round's order gives them.
const (
	ContenderBaseline = "baseline"
	ContenderOCRmyPDF = "OCRmyPDF"
	ContenderPipeline = "pipeline"
)

// RoundOrder is the order the contenders run in during round (0 for the first): the list
// rotated left by round. Over len(contenders) rounds each contender runs once in each
// position, so a machine that speeds up or slows down during a run does not favour the one
// that always runs first or last.
func RoundOrder(contenders []string, round int) []string {
	n := len(contenders)
	if n == 0 {
		return nil
	}
	k := (round%n + n) % n
	return append(slices.Clone(contenders[k:]), contenders[:k]...)
}

// Round is every contender reading the same pages once, one after another, in Order.
type Round struct {
	Order    []string       `json:"order"`
	Baseline RoundRun       `json:"baseline"`
	OCRmyPDF *OCRmyPDFRound `json:"ocrmypdf"` // null when it did not run in this round
	Pipeline PipelineRound  `json:"pipeline"`
	// The round's throughput ratios (pages a minute); PipelineToOCRmyPDF is null without
	// OCRmyPDF.
	PipelineToBaseline float64  `json:"pipeline_to_baseline"`
	PipelineToOCRmyPDF *float64 `json:"pipeline_to_ocrmypdf"`
}

// RoundRun is one contender's run in one round. Seconds, CPUSeconds and OtherCPUSeconds are
// measured; Finish works out the rest.
type RoundRun struct {
	Seconds        float64 `json:"seconds"`
	PagesPerMinute float64 `json:"pages_per_minute"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	// OtherCPUSeconds is the CPU time other programs took on this machine meanwhile;
	// OtherCores is that over Seconds: how many cores they kept busy on average.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
	OtherCores      float64 `json:"other_cores"`
}

// OCRmyPDFRound is OCRmyPDF's run in one round.
type OCRmyPDFRound struct {
	RoundRun
	Img2PDFSeconds float64 `json:"img2pdf_seconds"` // building the PDF: not in Seconds
}

// PipelineRound is the pipeline's run in one round: a document of its own. Its CPUSeconds
// is ProcessCPUSeconds + MinIOCPUSeconds (Finish adds them).
type PipelineRound struct {
	RoundRun
	Doc                   string  `json:"doc"`
	UploadSeconds         float64 `json:"upload_seconds"`
	RecognitionSeconds    float64 `json:"recognition_seconds"`     // sum of ocr.duration_ms
	RecognitionCPUSeconds float64 `json:"recognition_cpu_seconds"` // see PipelineRun
	ProcessCPUSeconds     float64 `json:"process_cpu_seconds"`
	MinIOCPUSeconds       float64 `json:"minio_cpu_seconds"`
}

func (run *RoundRun) finish(pages int) {
	run.PagesPerMinute = PagesPerMinute(pages, run.Seconds)
	run.OtherCores = perSecond(run.OtherCPUSeconds, run.Seconds)
}

// finishThroughput works out each round's pages a minute, cores and ratios; makes the
// top-level Baseline, OCRmyPDF and Pipeline figures the totals over all rounds (seconds and
// CPU added up, pages a minute = pages x rounds / seconds); and sets Ratios: the medians of
// the rounds' ratios, and the ratios of the totals. The median, because a round where the
// machine changed speed between two contenders' runs moves it less than it moves the totals.
func (r *Report) finishThroughput() {
	n := r.Pages.Count
	b, o, p := &r.Baseline, &r.OCRmyPDF, &r.Pipeline
	b.Seconds, b.CPUSeconds, b.OtherCPUSeconds = 0, 0, 0
	o.Seconds, o.CPUSeconds, o.OtherCPUSeconds, o.Img2PDFSeconds = 0, 0, 0, 0
	p.Seconds, p.UploadSeconds, p.RecognitionSeconds, p.RecognitionCPUSeconds, p.OtherCPUSeconds = 0, 0, 0, 0, 0
	p.CPU = PipelineCPU{}
	var toBaseline, toOCRmyPDF []float64
	ocrRounds := 0
	for i := range r.Rounds {
		rd := &r.Rounds[i]
		rd.Baseline.finish(n)
		rd.Pipeline.CPUSeconds = rd.Pipeline.ProcessCPUSeconds + rd.Pipeline.MinIOCPUSeconds
		rd.Pipeline.finish(n)
		rd.PipelineToBaseline = orZero(ratio(rd.Pipeline.PagesPerMinute, rd.Baseline.PagesPerMinute))
		toBaseline = append(toBaseline, rd.PipelineToBaseline)
		rd.PipelineToOCRmyPDF = nil
		if rd.OCRmyPDF != nil {
			rd.OCRmyPDF.finish(n)
			rd.PipelineToOCRmyPDF = ratio(rd.Pipeline.PagesPerMinute, rd.OCRmyPDF.PagesPerMinute)
			if x := rd.PipelineToOCRmyPDF; x != nil {
				toOCRmyPDF = append(toOCRmyPDF, *x)
			}
			ocrRounds++
			o.Seconds += rd.OCRmyPDF.Seconds
			o.CPUSeconds += rd.OCRmyPDF.CPUSeconds
			o.OtherCPUSeconds += rd.OCRmyPDF.OtherCPUSeconds
			o.Img2PDFSeconds += rd.OCRmyPDF.Img2PDFSeconds
		}

		b.Seconds += rd.Baseline.Seconds
		b.CPUSeconds += rd.Baseline.CPUSeconds
		b.OtherCPUSeconds += rd.Baseline.OtherCPUSeconds
		pr := rd.Pipeline
		p.Seconds += pr.Seconds
		p.UploadSeconds += pr.UploadSeconds
		p.RecognitionSeconds += pr.RecognitionSeconds
		p.RecognitionCPUSeconds += pr.RecognitionCPUSeconds
		p.OtherCPUSeconds += pr.OtherCPUSeconds
		p.CPU.ProcessSeconds += pr.ProcessCPUSeconds
		p.CPU.MinIOSeconds += pr.MinIOCPUSeconds
		p.Doc = pr.Doc // the last round's: the text the CERs are from
	}

	rounds := len(r.Rounds)
	b.PagesPerMinute = PagesPerMinute(n*rounds, b.Seconds)
	p.PagesPerMinute = PagesPerMinute(n*rounds, p.Seconds)
	r.Ratios = Ratios{
		PipelineToBaseline:       median(toBaseline),
		PipelineToBaselineTotals: orZero(ratio(p.PagesPerMinute, b.PagesPerMinute)),
	}
	o.PagesPerMinute = 0
	// Rounds may have run OCRmyPDF before it failed; its figures count only when it never did.
	if o.Status == StatusMeasured && ocrRounds > 0 {
		o.PagesPerMinute = PagesPerMinute(n*ocrRounds, o.Seconds)
		if len(toOCRmyPDF) > 0 {
			m := median(toOCRmyPDF)
			r.Ratios.PipelineToOCRmyPDF = &m
		}
		r.Ratios.PipelineToOCRmyPDFTotals = ratio(p.PagesPerMinute, o.PagesPerMinute)
	}
}

func orZero(x *float64) float64 {
	if x == nil {
		return 0
	}
	return *x
}

// median is the middle value of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	m := Percentile(xs, 50)
	if math.IsNaN(m) {
		return 0
	}
	return m
}
