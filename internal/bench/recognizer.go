package bench

import (
	"image"
	"runtime"
	"sync"
	"syscall"
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

// Recognize runs the engine locked to its thread (a cgo call stays on its thread anyway)
// and counts that thread's CPU time.
func (t *timedRecognizer) Recognize(img *image.Gray, dpi int, langs []string) (tesseract.Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, errB := threadCPUTime()
	res, err := t.Recognizer.Recognize(img, dpi, langs)
	after, errA := threadCPUTime()
	if errB == nil && errA == nil {
		t.cpu.mu.Lock()
		t.cpu.total += after - before
		t.cpu.pages++
		t.cpu.mu.Unlock()
	}
	return res, err
}

func threadCPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
