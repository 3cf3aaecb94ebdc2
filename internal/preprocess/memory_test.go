package preprocess

import (
	"image"
	"testing"

	"github.com/colophon-archive/colophon/internal/sample"
)

// Every PIX made for a page must be freed: the worker cleans page after page,
// and guesses its orientation, for days. Leptonica allocates with malloc, outside Go's heap, so the check
// is on the C heap (glibc's mallinfo2) over many pages, every path taken:
// border, majority filter, deskew, the grey path, blank and tiny pages.
func TestCleanDoesNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("loops over many pages")
	}
	text := sampleText(t)
	page, _ := render(t, text, 1000, 700, 300, sample.WithNoise(9, 0.05))
	page = bordered(faded(skewed(page, 3), 100, 210, 0.2), 60, 1)
	runs := []struct {
		img  *image.Gray
		opts []Option
	}{
		{page, nil},
		{page, []Option{WithBinarization(Otsu)}},
		{page, []Option{WithBinarization(NoBinarization)}},
		{blank(300, 300, 255), nil},
		{stripes(9, 9), nil},
	}
	// The orientation guess runs on every cleaned page too, at 150 and 300 dpi (the stripes
	// leave it unsure, so it looks twice), and at 600 dpi after two halvings.
	clean := func() {
		for _, r := range runs {
			out, _, err := Clean(r.img, 300, r.opts...)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			for _, dpi := range []int{300, 600} {
				if _, err := GuessOrientation(out, dpi); err != nil {
					t.Fatalf("GuessOrientation: %v", err)
				}
			}
		}
	}
	for range 3 { // let malloc's arenas settle
		clean()
	}
	before := cHeapInUse()
	const rounds = 40
	for range rounds {
		clean()
	}
	grown := int64(cHeapInUse()) - int64(before)
	t.Logf("C heap grew by %d bytes over %d rounds", grown, rounds)
	// One leaked 1 bpp page of 1000x700 per round would be 30 x 88 KB.
	if grown > 512<<10 {
		t.Errorf("C heap grew by %d bytes over %d rounds of %d pages: a PIX leaks", grown, rounds, len(runs))
	}
}
