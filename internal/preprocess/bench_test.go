package preprocess

import (
	"image"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/sample"
)

// BenchmarkClean times Clean on an A4 page at 300 dpi (2480x3508), the
// common archival scan; recognition takes about 1.3 s a page, and cleaning
// should stay well under a tenth of that.
func BenchmarkClean(b *testing.B) {
	text := sampleText(b)
	const w, h = 2480, 3508
	plain, _ := render(b, text, w, h, 300)
	speckled, _ := render(b, text, w, h, 300, sample.WithNoise(3, 0.05))
	for _, c := range []struct {
		name string
		img  *image.Gray
		opts []Option
	}{
		{"A4 300dpi", plain, nil},
		{"A4 300dpi skewed", skewed(plain, 2), nil},
		{"A4 300dpi borders faded", bordered(faded(plain, 100, 210, 0.3), 150, 1), nil},
		{"A4 300dpi speckled", speckled, nil},
		{"A4 300dpi otsu", plain, []Option{WithBinarization(Otsu)}},
		{"A4 300dpi grey skewed", skewed(plain, 2), []Option{WithBinarization(NoBinarization)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			start, cpu0 := time.Now(), cpuTime()
			for b.Loop() {
				if _, _, err := Clean(c.img, 300, c.opts...); err != nil {
					b.Fatal(err)
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/n, "ms/page")
			// CPU time is what the workers' throughput pays, and unlike
			// wall time it holds steady on a busy machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/n, "cpu-ms/page")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGuessOrientation times the letter-shape orientation guess on a
// cleaned A4 page at 300 dpi, beside Clean of the same page: the guess runs
// on every page, so it should cost a fraction of cleaning, and cleaning a
// twentieth of a reading.
func BenchmarkGuessOrientation(b *testing.B) {
	plain, _ := render(b, sampleText(b), 2480, 3508, 300)
	clean, _, err := Clean(plain, 300)
	if err != nil {
		b.Fatal(err)
	}
	upsideDown, err := RotateOrth(clean, 180)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"clean (baseline)", func() error { _, _, err := Clean(plain, 300); return err }},
		{"guess upright", func() error { _, err := GuessOrientation(clean, 300); return err }},
		{"guess upside down", func() error { _, err := GuessOrientation(upsideDown, 300); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if err := c.f(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/page")
		})
	}
}
