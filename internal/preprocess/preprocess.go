// Package preprocess cleans a scanned page before recognition: it removes dark
// scan borders, flattens the background and stretches the contrast,
// binarises, removes speckle and deskews, with Leptonica (the image library
// Tesseract itself is built on). Every step that changes the page is returned
// as a Step with its parameters, for the page's provenance.
//
// Parameters are set in physical units and scaled by the page's resolution,
// so a page at 150 or 600 dpi gets the same treatment as one at 300. The
// analysis runs on a copy sampled down to about 75 dpi; only thresholding,
// despeckling and rotation touch every pixel, which keeps cleanup small beside
// recognition (docs/benchmarks.md has its cost).
// Clean does not turn pages; GuessOrientation says how a cleaned page lies
// (upside down or on its side), and RotateOrth turns it.
package preprocess

import (
	"errors"
	"fmt"
	"image"
	"slices"
)

// Step is one thing done to the page, recorded in the page's provenance.
type Step struct {
	Name   string            `json:"name"`             // e.g. "deskew", "binarize"
	Params map[string]string `json:"params,omitempty"` // e.g. {"angle_deg":"-2.35"}
}

// Step names, in the order the steps run, and the parameters each records
// (lengths in pixels of the input page).
const (
	// StepBorder: dark regions connected to the image edge (the scanner lid
	// or bed) painted with the paper's tone. area_pct: share of the page;
	// dark_below, paper: the grey levels that told border from paper;
	// min_width_px: the thinnest band taken for border. A dark region over
	// borderMaxArea of the page is not border: the step is recorded with
	// applied=false and why, and nothing is painted.
	StepBorder = "border"
	// StepNormalize: background flattened to a uniform 200, then the ink
	// level (black) stretched to 0 and white to 255. brick_px: the grey
	// closing that estimated the background.
	StepNormalize = "normalize"
	// StepBinarize: thresholded to black and white. method sauvola
	// (window_px, k; sample_px: statistics from every sample_px-th pixel) or
	// otsu (threshold, on the normalised page).
	StepBinarize = "binarize"
	// StepDespeckle: isolated specks removed: components within max_px both
	// ways, unless within reach_px of larger ink and at least min_area pixels.
	// impulse_pct: measured salt-and-pepper noise; majority: "3x3" when it
	// was high enough for a majority vote first.
	StepDespeckle = "despeckle"
	// StepDeskew: rotated level (the page grows to keep its corners).
	// angle_deg: the clockwise rotation applied; confidence: Leptonica's
	// ratio of best to worst alignment score (3 or more to act).
	StepDeskew = "deskew"
)

// Binarization is how the page is thresholded to black and white.
type Binarization string

const (
	// Otsu uses one threshold for the whole page, once its background has
	// been flattened: it keeps thin and faint strokes (blurred or speckled
	// type) that local thresholds break. The default.
	Otsu Binarization = "otsu"
	// Sauvola thresholds each pixel against the mean and spread of its
	// neighbourhood: a second opinion for ink whose darkness varies across
	// the page more than background flattening evens out.
	Sauvola Binarization = "sauvola"
	// NoBinarization leaves the page grey (and so also skips despeckle).
	NoBinarization Binarization = "none"
)

// Option configures Clean.
type Option func(*config)

type config struct {
	binarization Binarization
	skip         map[string]bool
}

// WithBinarization chooses the binarisation; the default is Otsu.
func WithBinarization(b Binarization) Option {
	return func(c *config) { c.binarization = b }
}

// Without skips the named steps (StepBorder, StepDeskew, ...). Without
// StepBinarize is WithBinarization(NoBinarization).
func Without(steps ...string) Option {
	return func(c *config) {
		for _, s := range steps {
			c.skip[s] = true
		}
	}
}

var stepNames = []string{StepBorder, StepNormalize, StepBinarize, StepDespeckle, StepDeskew}

func newConfig(opts []Option) (*config, error) {
	c := &config{binarization: Otsu, skip: map[string]bool{}}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	switch c.binarization {
	case Sauvola, Otsu, NoBinarization:
	default:
		return nil, fmt.Errorf("preprocess: unknown binarization %q", c.binarization)
	}
	for s := range c.skip {
		if !slices.Contains(stepNames, s) {
			return nil, fmt.Errorf("preprocess: unknown step %q", s)
		}
	}
	if c.binarization == NoBinarization {
		c.skip[StepBinarize] = true
	}
	return c, nil
}

// DPI bounds: below 50 dpi no text is legible; above 4800 no scanner goes.
const minDPI, maxDPI = 50, 4800

// minContrast is the grey range below which a page is taken as blank (or all
// ink) and passed through: there is nothing to normalise or threshold, and
// stretching would only turn paper grain into specks.
const minContrast = 24

// Clean returns the page made ready for recognition, and what was done. img is
// 8-bit grey, dpi its resolution. img is not modified; the result is a new
// image, binarised pages as 0/255 grey, a little larger than img when
// deskewing needed room for the corners. A blank page (or one all ink) comes
// back unchanged, with no steps.
func Clean(img *image.Gray, dpi int, opts ...Option) (*image.Gray, []Step, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, nil, err
	}
	if err := checkInput(img, dpi); err != nil {
		return nil, nil, fmt.Errorf("preprocess: %w", err)
	}
	b := img.Bounds()
	pg := &page{img: img, dpi: dpi, w: b.Dx(), h: b.Dy()}
	defer pg.free()
	steps, err := pg.clean(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("preprocess: %w", err)
	}
	out, err := pg.result()
	if err != nil {
		return nil, nil, fmt.Errorf("preprocess: %w", err)
	}
	return out, steps, nil
}

// checkInput refuses what the C loops could not read safely.
func checkInput(img *image.Gray, dpi int) error {
	if img == nil {
		return errors.New("nil image")
	}
	if dpi < minDPI || dpi > maxDPI {
		return fmt.Errorf("resolution %d dpi outside %d..%d", dpi, minDPI, maxDPI)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return errors.New("empty image")
	}
	if w > maxSide || h > maxSide || img.Stride < w {
		return fmt.Errorf("image %dx%d (stride %d) not supported", w, h, img.Stride)
	}
	// The C loops read h rows of w bytes, stride apart: check they exist
	// rather than trust a hand-made image.Gray.
	off := img.PixOffset(b.Min.X, b.Min.Y)
	if off < 0 || int64(off)+int64(h-1)*int64(img.Stride)+int64(w) > int64(len(img.Pix)) {
		return fmt.Errorf("image %dx%d: pixel buffer too short", w, h)
	}
	return nil
}

// clean runs the steps. Borders go first, because they would darken the
// background estimate; the background is flattened before thresholding, which
// assumes a full grey range. Despeckling runs on black and white, and deskew
// last: the angle is measured more surely on a page without specks, and black
// and white rotates cheaply, by exact pixel shifts.
func (pg *page) clean(cfg *config) ([]Step, error) {
	if err := pg.sample(); err != nil {
		return nil, err
	}
	lo, hi, err := extremes(pg.small)
	if err != nil || hi-lo < minContrast {
		return nil, err
	}
	r := &recorder{skip: cfg.skip}
	r.do(StepBorder, pg.removeBorder)
	r.do(StepNormalize, pg.normalize)
	if r.err == nil && pg.norm == nil {
		r.err = pg.identity()
	}
	if cfg.skip[StepBinarize] {
		if r.err == nil {
			r.err = pg.greyPage()
		}
		r.do(StepDeskew, pg.deskewGrey)
	} else {
		r.do(StepBinarize, func() (*Step, error) { return pg.binarize(cfg.binarization) })
		r.do(StepDespeckle, pg.despeckle)
		r.do(StepDeskew, pg.deskew)
	}
	return r.steps, r.err
}

// recorder runs steps that are not skipped, until one fails, and keeps what
// they did.
type recorder struct {
	skip  map[string]bool
	steps []Step
	err   error
}

func (r *recorder) do(name string, f func() (*Step, error)) {
	if r.err != nil || r.skip[name] {
		return
	}
	st, err := f()
	if err != nil {
		r.err = fmt.Errorf("%s: %w", name, err)
		return
	}
	if st != nil {
		r.steps = append(r.steps, *st)
	}
}

// result is the cleaned page as an image: the binarised or grey page, or a
// copy of the input when nothing was done.
func (pg *page) result() (*image.Gray, error) {
	switch {
	case pg.bin != nil:
		return toGray(pg.bin)
	case pg.grey != nil:
		return toGray(pg.grey)
	}
	b := pg.img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		copy(out.Pix[y*out.Stride:(y+1)*out.Stride], pg.img.Pix[pg.img.PixOffset(b.Min.X, b.Min.Y+y):])
	}
	return out, nil
}
