package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

// Client is what the benchmark needs of a Colophon deployment: *client.Client.
type Client interface {
	Upload(ctx context.Context, req client.UploadRequest) (client.UploadResult, error)
	Wait(ctx context.Context, doc string, progress func(client.Report, pipeline.PageStatus)) (client.Report, error)
	Text(ctx context.Context, doc string, page int) ([]client.PageText, error)
}

// DocRun is one document sent through the pipeline and read back verified.
type DocRun struct {
	Doc string
	// Start is just before the first byte is read for upload; the durations follow each
	// other: Upload (stored and queued), Wait (until every page is done), Get (verified text).
	Start              time.Time
	Upload, Wait, Get  time.Duration
	Pages              []client.PageText
	RecognitionSeconds float64 // sum of the pages' ocr.duration_ms
}

// EndToEnd is from the first upload byte to the last verified byte of text.
func (r DocRun) EndToEnd() time.Duration { return r.Upload + r.Wait + r.Get }

// RunDocument uploads files as one document doc, waits for every page and reads the
// verified text back, timing each step. Any page refused, failed or not verified is an error.
func RunDocument(ctx context.Context, c Client, doc, source string, files []string) (DocRun, error) {
	return RunUpload(ctx, c, client.UploadRequest{Doc: doc, Source: source, Files: files})
}

// RunUpload is RunDocument for an upload of one's own making (its languages, say).
func RunUpload(ctx context.Context, c Client, req client.UploadRequest) (DocRun, error) {
	doc, files := req.Doc, req.Files
	r := DocRun{Doc: doc, Start: time.Now()}
	up, err := c.Upload(ctx, req)
	r.Upload = time.Since(r.Start)
	if err != nil {
		return r, fmt.Errorf("upload %s: %w", doc, err)
	}
	if refused := up.Refused(); len(refused) > 0 {
		return r, fmt.Errorf("upload %s: %d page(s) refused, first: %s", doc, len(refused), refused[0].Error)
	}
	t := time.Now()
	rep, err := c.Wait(ctx, doc, nil)
	r.Wait = time.Since(t)
	if err != nil {
		return r, err
	}
	if rep.Failed > 0 {
		for _, p := range rep.PageStates {
			if p.State == pipeline.StateFailed {
				return r, fmt.Errorf("%s: %d page(s) failed, first: page %d: %s", doc, rep.Failed, p.Page, p.Error)
			}
		}
	}
	t = time.Now()
	r.Pages, err = c.Text(ctx, doc, 0)
	r.Get = time.Since(t)
	if err != nil {
		return r, err
	}
	if len(r.Pages) != len(files) {
		return r, fmt.Errorf("%s: %d verified pages, want %d", doc, len(r.Pages), len(files))
	}
	for _, p := range r.Pages {
		r.RecognitionSeconds += float64(p.Record.OCR.DurationMS) / 1000
	}
	return r, nil
}

// OverheadSample is one single-page document sent to an idle pipeline. Its overhead is
// EndToEndMS - RecognitionMS; the other fields split it by where the time went.
type OverheadSample struct {
	Page          int     `json:"page"` // which benchmark page
	EndToEndMS    float64 `json:"end_to_end_ms"`
	RecognitionMS float64 `json:"recognition_ms"` // the provenance record's ocr.duration_ms
	OverheadMS    float64 `json:"overhead_ms"`
	// UploadMS: hashing, storing the scan, marking the page queued, publishing the job.
	UploadMS float64 `json:"upload_ms"`
	// ToRecognitionMS: from the upload's return to recognition starting (the record's
	// ocr.recognised): delivery of the job, fetching the scan, its checksum, decoding.
	ToRecognitionMS float64 `json:"to_recognition_ms"`
	// AfterRecognitionMS: from recognition's end until the client sees the page done:
	// storing the text, the metadata job, re-hashing, the record, the status and its watch.
	AfterRecognitionMS float64 `json:"after_recognition_ms"`
	// GetMS: reading the record and the text and verifying its checksum.
	GetMS float64 `json:"get_ms"`
}

// NewOverheadSample splits a single-page run's time.
func NewOverheadSample(page int, r DocRun) OverheadSample {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	s := OverheadSample{Page: page, EndToEndMS: ms(r.EndToEnd()), UploadMS: ms(r.Upload), GetMS: ms(r.Get)}
	if len(r.Pages) == 1 {
		ocr := r.Pages[0].Record.OCR
		s.RecognitionMS = float64(ocr.DurationMS)
		uploaded := r.Start.Add(r.Upload)
		s.ToRecognitionMS = ms(ocr.Recognised.Sub(uploaded))
		s.AfterRecognitionMS = ms(uploaded.Add(r.Wait).Sub(ocr.Recognised)) - s.RecognitionMS
	}
	s.OverheadMS = s.EndToEndMS - s.RecognitionMS
	return s
}
