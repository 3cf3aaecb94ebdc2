package preprocess

/*
#include "lept.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// Orientation is a guess at how a page of text lies, from the shapes of its
// letters: Latin text has many more ascenders than descenders, so a page whose
// letters hang the wrong way is upside down, and one whose letters stand
// sideways lies on its side. It is cheap beside a reading (docs/benchmarks.md
// has its cost), so every page can be looked at before it is read.
type Orientation struct {
	// Rotate is the clockwise turn, in degrees (0, 90, 180 or 270), that would
	// bring the page upright; 0 when it looks upright or Known is false.
	Rotate int
	// Known reports whether the letters said clearly how the page lies.
	Known bool
	// UpConf is Leptonica's confidence that the page is upright (positive) or
	// upside down (negative); LeftConf the same across the page, for a page
	// on its side. One of them at minOrientConf or beyond, either way, and
	// minOrientRatio times the other, is clear.
	UpConf, LeftConf float64
}

// GuessOrientation guesses how a cleaned page lies (Clean's result: ink
// black on white). It is a guess: a page of a script other than Latin, or
// with little text, comes back not Known, and a caller that would act on
// Rotate should confirm it with something surer, such as Tesseract's
// orientation detector, which costs much more (docs/benchmarks.md).
func GuessOrientation(img *image.Gray, dpi int) (Orientation, error) {
	if err := checkInput(img, dpi); err != nil {
		return Orientation{}, fmt.Errorf("guess orientation: %w", err)
	}
	b := img.Bounds()
	// The letters are looked at near 150 dpi first, a quarter of the pixels of a 300 dpi
	// page, and at near 300 dpi, which is surer of small print, only when that is not
	// clear.
	tries := []int{0}
	switch {
	case dpi >= 500:
		tries = []int{2, 1}
	case dpi >= 250:
		tries = []int{1, 0}
	}
	var o Orientation
	for _, halvings := range tries {
		var up, left C.l_float32
		src := (*C.l_uint8)(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])
		if C.cp_orient(src, C.l_int32(b.Dx()), C.l_int32(b.Dy()), C.l_int32(img.Stride), C.l_int32(halvings), &up, &left) != 0 {
			return Orientation{}, errors.New("guess orientation: leptonica failed")
		}
		if o = decideOrientation(float64(up), float64(left)); o.Known {
			break
		}
	}
	return o, nil
}

// Leptonica's own thresholds (makeOrientDecision's defaults, which would log
// to stderr on every unsure page): a page is judged only when one measure
// reaches minOrientConf and is minOrientRatio times the other.
const minOrientConf, minOrientRatio = 8.0, 2.5

func decideOrientation(up, left float64) Orientation {
	o := Orientation{UpConf: up, LeftConf: left}
	au, al := math.Abs(up), math.Abs(left)
	switch {
	case max(au, al) < minOrientConf:
	case au > minOrientRatio*al:
		o.Known = true
		if up < 0 {
			o.Rotate = 180
		}
	case al > minOrientRatio*au:
		o.Known = true
		o.Rotate = 270 // the tops of the letters point right
		if left > 0 {  // they point left
			o.Rotate = 90
		}
	}
	return o
}
