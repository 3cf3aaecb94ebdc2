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
	"strconv"
	"unsafe"
)

// page is a page being cleaned. The analysis (border, background, thresholds)
// runs on small, a copy sampled down to about 75 dpi, 16 times fewer pixels at
// 300 dpi; only the final thresholding, despeckling and rotation touch the
// full-resolution page. That keeps cleanup cheap beside recognition.
type page struct {
	img  *image.Gray // the input, read only
	dpi  int
	w, h int
	red  int // small is img reduced red times

	small        *C.PIX // sampled page; the border is painted over in it
	mask         *C.PIX // border, at small's size; nil when none
	inv          *C.PIX // inverse background map (pixGetInvBackgroundMap); nil: not normalised
	invRed       int    // small pixels per inv pixel
	norm         *C.PIX // small normalised and stretched
	black, white int    // the stretch: black..white to 0..255

	impulses float64 // fraction of small's pixels that are isolated ink: speckle

	bin  *C.PIX // full-size result when binarised (1 bpp, 1 = ink)
	grey *C.PIX // full-size result when not
}

func (pg *page) free() {
	for _, p := range []**C.PIX{&pg.small, &pg.mask, &pg.inv, &pg.norm, &pg.bin, &pg.grey} {
		destroy(*p)
		*p = nil
	}
}

// px converts a length in inches to pixels at the page's resolution, at least lo.
func (pg *page) px(inches float64, lo int) int {
	return max(lo, int(math.Round(inches*float64(pg.dpi))))
}

// smallPx is px at small's resolution.
func (pg *page) smallPx(inches float64, lo int) int {
	return max(lo, int(math.Round(inches*float64(pg.dpi)/float64(pg.red))))
}

// srcPtr points at the first input pixel (Clean has checked the buffer).
func (pg *page) srcPtr() *C.l_uint8 {
	b := pg.img.Bounds()
	return (*C.l_uint8)(unsafe.Pointer(&pg.img.Pix[pg.img.PixOffset(b.Min.X, b.Min.Y)]))
}

// sample makes small: about 75 dpi, where borders, background and the
// statistics of text are all still clear.
func (pg *page) sample() error {
	pg.red = max(1, int(math.Round(float64(pg.dpi)/75)))
	pg.small = C.cp_sample_gray(pg.srcPtr(), C.l_int32(pg.w), C.l_int32(pg.h), C.l_int32(pg.img.Stride), C.l_int32(pg.red))
	if pg.small == nil {
		return errors.New("sample page: leptonica allocation failed")
	}
	return nil
}

// oddRound is the odd integer nearest to f (closings need a centre pixel).
func oddRound(f float64) int { return 2*int(math.Round((f-1)/2)) + 1 }

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }

// Border: a region is border when it is darker than borderDarkFrac of the
// paper, at least borderMinWidth thick (text strokes are thinner, so a letter
// touching the edge is not border) and connected to the edge of the image.
const (
	borderDarkFrac = 0.5
	borderMinWidth = 0.06 // inches
	borderGrow     = 2    // small pixels (0.1 in at 300 dpi), to cover the soft rim
	// borderMaxArea bounds what is taken for border: the scanner's lid or bed shows round
	// the paper, it does not cover it.
	borderMaxArea = 0.4
)

// removeBorder finds dark regions connected to the image edge (the scanner
// lid or bed around the paper) and paints them with the paper's tone, so that
// they neither skew the background estimate nor come out as black bars.
func (pg *page) removeBorder() (*Step, error) {
	ws, hs, _ := dims(pg.small)
	if ws < 8 || hs < 8 {
		return nil, nil // too small to have a border worth the name
	}
	open := pg.smallPx(borderMinWidth, 2)
	var paper, thresh C.l_int32
	if C.cp_border_mask(pg.small, borderDarkFrac, C.l_int32(open), borderGrow, &pg.mask, &paper, &thresh) != 0 {
		return nil, errors.New("find dark border: leptonica failed")
	}
	if pg.mask == nil {
		return nil, nil
	}
	n, err := countInk(pg.mask)
	if err != nil {
		return nil, fmt.Errorf("measure border: %w", err)
	}
	area := float64(n) / float64(ws*hs)
	if area > borderMaxArea {
		// What covers most of the page is the page: a dark ground, a photograph, type on
		// black. It is left for binarisation to judge, never painted out.
		destroy(pg.mask)
		pg.mask = nil
		return &Step{Name: StepBorder, Params: map[string]string{
			"area_pct": ftoa(100*area, 1),
			"applied":  "false",
			"why":      "dark region connected to the edge covers more than " + ftoa(100*borderMaxArea, 0) + "% of the page",
		}}, nil
	}
	if C.pixSetMasked(pg.small, pg.mask, C.l_uint32(paper)) != 0 {
		return nil, errors.New("paint border: leptonica failed")
	}
	return &Step{Name: StepBorder, Params: map[string]string{
		"area_pct":     ftoa(100*area, 1),
		"dark_below":   itoa(int(thresh)),
		"paper":        itoa(int(paper)),
		"min_width_px": itoa(open * pg.red),
	}}, nil
}

// Normalisation: the background is estimated by a grey closing with a brick
// of normBrick inches, wider than any text stroke (bold headings included),
// so that only the paper remains. The ink level is capped at normMaxBlack (of
// the normalised paper's 200), which bounds the contrast stretch to 3.6x.
const (
	normBrick    = 0.15 // inches
	normMaxBlack = 120
)

// normalize flattens the background (uneven lighting, yellowed or stained
// paper) and stretches the contrast so that faint ink becomes dark: Sauvola's
// threshold assumes a full 0-255 range, and low-contrast pages lose their
// text without this.
func (pg *page) normalize() (*Step, error) {
	ws, hs, _ := dims(pg.small)
	pg.invRed = 2 // the closing runs at 1/(2*red): about 37 dpi
	if ws < 6*pg.invRed || hs < 6*pg.invRed {
		return nil, nil // Leptonica needs a map of at least 5x5
	}
	size := max(3, oddRound(normBrick*float64(pg.dpi)/float64(pg.red*pg.invRed)))
	var inv, norm *C.PIX
	var black, white C.l_int32
	if C.cp_background(pg.small, C.l_int32(pg.invRed), C.l_int32(size), normMaxBlack, &inv, &norm, &black, &white) != 0 {
		return nil, errors.New("normalise background: leptonica failed")
	}
	destroy(pg.norm)
	pg.inv, pg.norm, pg.black, pg.white = inv, norm, int(black), int(white)
	return &Step{Name: StepNormalize, Params: map[string]string{
		"method":   "background_morph",
		"brick_px": itoa(size * pg.red * pg.invRed),
		"bg":       "200",
		"black":    itoa(pg.black),
		"white":    itoa(pg.white),
	}}, nil
}

// identity makes norm a copy of small, for when normalisation is skipped.
func (pg *page) identity() error {
	pg.black, pg.white = 0, 255
	pg.norm = C.pixCopy(nil, pg.small)
	if pg.norm == nil {
		return errors.New("copy page: leptonica allocation failed")
	}
	return nil
}

// Sauvola: a window of sauvolaWindow inches (Tesseract's own default for its
// Sauvola mode) spans several characters, so the local mean sits between ink
// and paper; k is also Tesseract's default. The statistics come from the
// sampled page: sampling keeps the local mean and spread of grey values.
const (
	sauvolaWindow = 0.33 // inches
	sauvolaK      = 0.34
	otsuScoreFrac = 0.1 // Leptonica's suggested modified Otsu
)

// binarize thresholds the page to black and white at full resolution, with
// thresholds found on the normalised small page.
func (pg *page) binarize(method Binarization) (*Step, error) {
	ws, hs, _ := dims(pg.norm)
	var th *C.PIX
	var st *Step
	var err error
	if method == Sauvola {
		half := min(pg.smallPx(sauvolaWindow/2, 2), (min(ws, hs)-3)/2)
		if half >= 2 {
			th, st, err = pg.sauvola(half)
		} else {
			method = Otsu // too small a page for a window
		}
	}
	if method == Otsu {
		th, st, err = pg.otsu()
	}
	if err != nil {
		return nil, err
	}
	defer destroy(th)
	var frac C.l_float32
	if C.cp_impulses(pg.norm, th, &frac) != 0 {
		return nil, errors.New("measure speckle: leptonica failed")
	}
	pg.impulses = float64(frac)
	pg.bin = C.cp_threshold(pg.srcPtr(), C.l_int32(pg.w), C.l_int32(pg.h), C.l_int32(pg.img.Stride), C.l_int32(pg.red),
		th, pg.inv, C.l_int32(max(1, pg.invRed)), C.l_int32(pg.black), C.l_int32(pg.white), pg.mask)
	if pg.bin == nil {
		return nil, errors.New("threshold page: failed")
	}
	return st, nil
}

// sauvola returns Sauvola's threshold for each pixel of norm.
func (pg *page) sauvola(half int) (*C.PIX, *Step, error) {
	ws, hs, _ := dims(pg.norm)
	// Tiles only bound the accumulators' memory (and their 32-bit sums).
	const tile = 2048
	nx, ny := max(1, ws/max(tile, half+2)), max(1, hs/max(tile, half+2))
	var th *C.PIX
	if C.pixSauvolaBinarizeTiled(pg.norm, C.l_int32(half), sauvolaK, C.l_int32(nx), C.l_int32(ny), &th, nil) != 0 || th == nil {
		destroy(th)
		return nil, nil, errors.New("sauvola: leptonica failed")
	}
	return th, &Step{Name: StepBinarize, Params: map[string]string{
		"method":    string(Sauvola),
		"window_px": itoa((2*half + 1) * pg.red),
		"k":         ftoa(sauvolaK, 2),
		"sample_px": itoa(pg.red), // statistics from every red-th pixel
	}}, nil
}

// otsu returns one threshold for the whole page, as a map like Sauvola's.
func (pg *page) otsu() (*C.PIX, *Step, error) {
	ws, hs, _ := dims(pg.norm)
	var level C.l_int32
	if C.pixSplitDistributionFgBg(pg.norm, otsuScoreFrac, 1, &level, nil, nil, nil) != 0 {
		return nil, nil, errors.New("otsu: leptonica failed")
	}
	th := C.pixCreate(C.l_int32(ws), C.l_int32(hs), 8)
	if th == nil {
		return nil, nil, errors.New("otsu: leptonica allocation failed")
	}
	C.pixSetAllArbitrary(th, C.l_uint32(level))
	return th, &Step{Name: StepBinarize, Params: map[string]string{
		"method":    string(Otsu),
		"threshold": itoa(int(level)),
	}}, nil
}

// Despeckle: a component fitting in speckMax inches both ways is a speck
// candidate (a 12 pt full stop is about 0.02 in); it stays if it lies within
// speckReach of a larger component, as dots of i and j and punctuation do,
// unless it is smaller than speckMinArea (pixels at 300 dpi, scaled by area),
// well below the 3x3 px of a 6 pt full stop at 300 dpi.
const (
	speckMax     = 0.02 // inches
	speckReach   = 0.06 // inches
	speckMinArea = 3    // pixels at 300 dpi
	// Above this fraction of isolated ink pixels at about 75 dpi, the page
	// has salt-and-pepper noise, which a 3x3 majority vote removes before
	// components are measured: specks would otherwise clump into text-sized
	// blobs. It lies above what clean pages and binarised book scans measure
	// (docs/benchmarks.md, Figures behind the code's choices).
	impulseNoise = 0.01
)

// despeckle removes isolated specks from the binarised page: scanner dust,
// paper fibres, salt-and-pepper noise. Tesseract otherwise tries to read
// each speck, which costs both time and accuracy.
func (pg *page) despeckle() (*Step, error) {
	maxSize := pg.px(speckMax, 1)
	reach := pg.px(speckReach, 1)
	scale := float64(pg.dpi) / 300
	minArea := max(1, int(math.Round(speckMinArea*scale*scale)))
	params := map[string]string{"impulse_pct": ftoa(100*pg.impulses, 2)}
	if w, h, _ := dims(pg.bin); pg.impulses > impulseNoise && w >= 3 && h >= 3 {
		p := C.pixBlockrank(pg.bin, nil, 1, 1, 0.5)
		if p == nil {
			return nil, errors.New("majority filter: leptonica failed")
		}
		destroy(pg.bin)
		pg.bin = p
		params["majority"] = "3x3"
	}
	var removed C.l_int32
	p := C.cp_despeckle(pg.bin, C.l_int32(maxSize), C.l_int32(minArea), C.l_int32(reach), &removed)
	if p == nil {
		return nil, errors.New("remove specks: leptonica failed")
	}
	destroy(pg.bin)
	pg.bin = p
	params["max_px"] = itoa(maxSize)
	params["min_area"] = itoa(minArea)
	params["reach_px"] = itoa(reach)
	params["removed_px"] = itoa(int(removed))
	return &Step{Name: StepDespeckle, Params: params}, nil
}

// Deskew: the sweep covers skewRange either way; rotations below skewMin are
// not worth the resampling, and below skewMinConf (Leptonica's ratio of best
// to worst line alignment score) the measurement is not trusted. Both
// thresholds are Leptonica's own defaults for pixDeskew.
const (
	skewRange    = 10.0 // degrees
	skewMin      = 0.1  // degrees
	skewMinConf  = 3.0
	maxShearRad  = 0.06 // Leptonica shears 1 bpp pages up to here, samples beyond
	skewMinLines = 0.5  // inches: a strip narrower than this has too few lines
)

// measureSkew finds the text lines' angle on a 1 bpp page; ok is false when
// there is nothing to measure or too little confidence to act on.
func (pg *page) measureSkew(b *C.PIX) (angle, conf float64, ok bool) {
	w, h, _ := dims(b)
	if min(w, h) < max(64, pg.px(skewMinLines, 1)) {
		return 0, 0, false
	}
	// Sweep at about 75 dpi, refine at about 150: Leptonica's defaults at 300.
	sweep := 1
	for sweep < 8 && pg.dpi/(2*sweep) >= 60 {
		sweep *= 2
	}
	var a, c C.l_float32
	if C.cp_find_skew(b, C.l_int32(sweep), C.l_int32(max(1, sweep/2)), skewRange, &a, &c) != 0 {
		return 0, 0, false
	}
	angle, conf = float64(a), float64(c)
	return angle, conf, math.Abs(angle) >= skewMin && conf >= skewMinConf
}

// deskew rotates the binarised page so that its text lines are level,
// enlarging it so that no corner is cut off. Black and white rotates by
// shear (exact pixel shifts, no blur) in a few milliseconds.
func (pg *page) deskew() (*Step, error) {
	angle, conf, ok := pg.measureSkew(pg.bin)
	if !ok {
		return nil, nil
	}
	w, h, _ := dims(pg.bin)
	rad := degToRad(angle)
	method := C.l_int32(C.L_ROTATE_SHEAR)
	if math.Abs(rad) > maxShearRad {
		method = C.L_ROTATE_SAMPLING
	}
	p := C.pixRotate(pg.bin, C.l_float32(rad), method, C.L_BRING_IN_WHITE, C.l_int32(w), C.l_int32(h))
	if p == nil {
		return nil, fmt.Errorf("rotate by %.2f degrees: leptonica failed", angle)
	}
	destroy(pg.bin)
	pg.bin = p
	return deskewStep(angle, conf), nil
}

func deskewStep(angle, conf float64) *Step {
	return &Step{Name: StepDeskew, Params: map[string]string{
		"angle_deg":  ftoa(angle, 2), // clockwise rotation applied
		"confidence": ftoa(conf, 1),
	}}
}
