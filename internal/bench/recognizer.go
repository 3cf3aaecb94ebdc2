package bench

import (
	"context"
	"sync"
	"time"

	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// RecognitionCPU adds up the CPU time the OCR workers' recognitions take, measured on the
// thread each runs on. The provenance record's ocr.duration_ms is wall time, which grows
// when the machine is shared; this does not, so the pipeline's CPU beyond recognition can
// be told apart from other programs' load.
type RecognitionCPU struct {
	mu    sync.Mutex
	total time.Duration
	pages int
}

// Seconds is the CPU time of every recognition so far, and how many there were.
func (c *RecognitionCPU) Seconds() (float64, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total.Seconds(), c.pages
}

// Engines returns an ocr.WithRecognizer factory: the worker's own engine (Tesseract, eng,
// as ocr.New makes by default), each recognition timed.
func (c *RecognitionCPU) Engines() func() ocr.Recognizer {
	return func() ocr.Recognizer { return &timedRecognizer{Recognizer: tesseract.New("eng"), cpu: c} }
}

type timedRecognizer struct {
	ocr.Recognizer
	cpu *RecognitionCPU
}

// Read runs the engine and counts the CPU time its thread spent on the page (every reading
// of it, when the worker reads a page twice).
func (t *timedRecognizer) Read(ctx context.Context, p tesseract.Page) (tesseract.Result, error) {
	res, err := t.Recognizer.Read(ctx, p)
	t.cpu.mu.Lock()
	t.cpu.total += res.CPU
	t.cpu.pages++
	t.cpu.mu.Unlock()
	return res, err
}
