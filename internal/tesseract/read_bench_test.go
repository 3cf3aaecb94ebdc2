package tesseract

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/preprocess"
)

// BenchmarkReadOutputs measures what each output costs on top of reading the text: the
// engine thread's CPU a page, the figure that bounds throughput on busy cores. This
// machine's speed drifts by 10-20% within a minute, so the variants take turns, one page
// each per iteration, and each reports its mean (text-cpu-ms, hocr-cpu-ms, ...): "text" is
// the baseline they are read against.
func BenchmarkReadOutputs(b *testing.B) {
	img, dpi := cleanedSample(b)
	e := New("eng")
	defer e.Close()
	if err := e.Load(); err != nil {
		b.Fatal(err)
	}
	variants := []struct {
		name string
		page Page
	}{
		{"text", Page{}},
		{"hocr", Page{HOCR: true}},
		{"alto", Page{ALTO: true}},
		{"pdf", Page{PDF: true, Created: time.Unix(0, 0)}},
		{"all", Page{HOCR: true, ALTO: true, PDF: true, Created: time.Unix(0, 0)}},
	}
	cpu := make([]time.Duration, len(variants))
	for b.Loop() {
		for i, v := range variants {
			p := v.page
			p.Image, p.DPI = img, dpi
			r, err := e.Read(context.Background(), p)
			if err != nil {
				b.Fatal(err)
			}
			cpu[i] += r.CPU
		}
	}
	for i, v := range variants {
		b.ReportMetric(float64(cpu[i].Microseconds())/1000/float64(b.N), v.name+"-cpu-ms")
	}
}

// BenchmarkOutputWriters recognises the cleaned sample page once an iteration and, on that
// one recognition, measures the engine's walk (text only, with its hOCR and ALTO writers,
// and with its PDF writer) against Tesseract's own hOCR, ALTO and PDF renderers, 10 times
// each: the engine thread's CPU a page, without recognition's noise in the figures.
func BenchmarkOutputWriters(b *testing.B) {
	img, dpi := cleanedSample(b)
	e := New("eng")
	defer e.Close()
	var sum outputCosts
	for b.Loop() {
		c, err := e.measureOutputs(Page{Image: img, DPI: dpi}, 10)
		if err != nil {
			b.Fatal(err)
		}
		sum = outputCosts{sum.text + c.text, sum.ours + c.ours, sum.oursPDF + c.oursPDF, sum.tessHOCR + c.tessHOCR, sum.tessALTO + c.tessALTO, sum.tessPDF + c.tessPDF}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(sum.text), "walk-text-cpu-ms")
	b.ReportMetric(ms(sum.ours), "walk-hocr-alto-cpu-ms")
	b.ReportMetric(ms(sum.tessHOCR), "tesseract-hocr-cpu-ms")
	b.ReportMetric(ms(sum.tessALTO), "tesseract-alto-cpu-ms")
	b.ReportMetric(ms(sum.oursPDF), "walk-pdf-cpu-ms")
	b.ReportMetric(ms(sum.tessPDF), "tesseract-pdf-cpu-ms")
}

// cleanedSample is the sample page cleaned as the OCR worker cleans it: binarised, so the
// PDF holds it as CCITT G4.
func cleanedSample(b *testing.B) (*image.Gray, int) {
	img, dpi, _ := samplePage(b)
	img, _, err := preprocess.Clean(img, dpi)
	if err != nil {
		b.Fatal(err)
	}
	return img, dpi
}
