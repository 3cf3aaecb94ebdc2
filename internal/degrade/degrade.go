// Package degrade turns a clean page image into the kind of scan archives hold: speckled
// photocopies, pages fed in askew, sideways or upside down, out of focus, faded, or saved
// as heavily compressed JPEG. It is for measuring OCR fidelity (`colophon bench
// --fidelity`): each degradation is deterministic for a given seed, so every run reads the
// same bytes, and the page keeps its resolution in the file it is encoded to.
//
// Rotation and blur are done by github.com/disintegration/imaging (bilinear rotation,
// separable Gaussian blur); speckle, contrast and shading are a few lines each here.
package degrade

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/disintegration/imaging"

	"github.com/colophon-archive/colophon/internal/sample"
)

// Degradation is what happens to a page between the paper and the file. The zero value
// (besides Name) changes nothing. Apply performs the steps in this order, the order they
// happen to a real page: marks on the paper (Speckle), the page put on the scanner turned
// (Turn) and askew (Skew), the optics (Blur), the sensor (ScanDPI), the exposure (Ink,
// Paper, Shading), then the file format (JPEGQuality).
type Degradation struct {
	// Name identifies the degradation in reports: "speckle", "skew-3deg", "rot90"...
	Name string
	// Speckle is dust, toner and dirt on the page.
	Speckle Speckle
	// Turn is a rotation of the whole page counter-clockwise by 0, 90, 180 or 270 degrees:
	// a page fed into the scanner sideways or upside down. Lossless; 90 and 270 swap the
	// width and height.
	Turn int
	// SkewDegrees is a small rotation, counter-clockwise when positive, with bilinear
	// interpolation. The canvas grows to hold the whole rotated page (nothing is cut off)
	// and the uncovered corners are paper white.
	SkewDegrees float64
	// BlurSigma is the standard deviation, in pixels, of a Gaussian blur: a page out of
	// focus, or a copy of a copy.
	BlurSigma float64
	// ScanDPI, when not 0 and below the page's resolution, resamples the page to it (box
	// filter: each pixel the mean of the area it covers, as a scanner's sensor does), as a page
	// scanned at a lower resolution. The file records ScanDPI.
	ScanDPI int
	// Ink and Paper, when Paper > Ink, compress the grey levels linearly so black becomes
	// Ink and white becomes Paper: faded ink on greyed paper.
	Ink, Paper uint8
	// Shading darkens the page towards its right edge, as uneven lighting or a book's
	// gutter does: the brightness at a fraction t of the width is multiplied by
	// 1 - Shading*t^2. 0 leaves the lighting even.
	Shading float64
	// Invert turns the page into a negative, white type on black, last of the pixel steps:
	// a page printed or photographed in reverse.
	Invert bool
	// JPEGQuality, when not 0, encodes the page as a JPEG of this quality (1-100) instead
	// of PNG.
	JPEGQuality int
	// DeclareDPI, when not 0, is the resolution the file's header states instead of the
	// true one: the 72 or 96 dpi that web and camera JPEGs carry whatever they were
	// scanned at.
	DeclareDPI int
}

// Speckle is dark specks scattered over the page (toner, dust, dirt) and, optionally,
// single pixels flipped to black or white (a noisy scanner or fax line).
type Speckle struct {
	// PerSquareInch is how many dark specks, on average, per square inch of page.
	PerSquareInch float64
	// MinRadius and MaxRadius bound each speck's radius in pixels at the page's resolution
	// (uniformly distributed); specks are filled discs.
	MinRadius, MaxRadius float64
	// Pixels is the fraction of pixels set to black or white (even odds).
	Pixels float64
}

func (s Speckle) zero() bool { return s.PerSquareInch <= 0 && s.Pixels <= 0 }

// Clean is the control: the page as rendered, no degradation.
var Clean = Degradation{Name: "clean"}

// Set is the catalogue of degradations the fidelity benchmark renders each text with, in
// report order. A person still reads every page easily. Plain `tesseract PAGE stdout -l
// eng` (5.3.0, fast eng model) on the three bundled texts, A5 at 300 dpi, CER micro-averaged
// (clean pages: 0.0003):
//
//	speckle       0.11   skew-3deg  0.002   skew-5deg 0.82 (one page "Empty page!!")
//	blur          0.001  low-contrast 0.21  rot90     0.86   rot180 0.86
//	jpeg-q10      0.001  combined   0.19
//
// So blur, JPEG and a 3 degree skew alone do not trouble Tesseract on these pages (nor did
// blur up to sigma 3.4, JPEG down to quality 1, or a 150 dpi scan): they check that
// whatever the pipeline does to the others does no harm. Speckle is kept to a level that
// takes Tesseract seconds a page, not minutes. None took it more than a few seconds a page.
func Set() []Degradation {
	return []Degradation{
		{Name: "speckle", Speckle: Speckle{PerSquareInch: 40, MinRadius: 0.8, MaxRadius: 2.5, Pixels: 0.01}},
		{Name: "skew-3deg", SkewDegrees: 3},
		{Name: "skew-5deg", SkewDegrees: -5},
		{Name: "blur", BlurSigma: 2.5},
		{Name: "low-contrast", Ink: 120, Paper: 190, Shading: 0.45},
		{Name: "rot90", Turn: 90},
		{Name: "rot180", Turn: 180},
		{Name: "jpeg-q10", JPEGQuality: 10},
		{Name: "combined", Speckle: Speckle{PerSquareInch: 15, MinRadius: 0.8, MaxRadius: 2, Pixels: 0.003},
			SkewDegrees: 2, BlurSigma: 1.5, ScanDPI: 200, Ink: 90, Paper: 200, Shading: 0.3, JPEGQuality: 20},
		// What real archive scans showed Colophon's cleanup doing harm on (issue 12): a
		// negative, faded typescript, and a low-resolution JPEG declaring 72 dpi.
		{Name: "inverted", Invert: true},
		{Name: "faded", BlurSigma: 0.8, Ink: 165, Paper: 215},
		{Name: "lowres-wrong-dpi", ScanDPI: 120, JPEGQuality: 80, DeclareDPI: 72},
	}
}

// ByName finds a degradation of Set, or Clean, by name.
func ByName(name string) (Degradation, bool) {
	if name == Clean.Name {
		return Clean, true
	}
	for _, d := range Set() {
		if d.Name == name {
			return d, true
		}
	}
	return Degradation{}, false
}

// Ext is the file extension of the degraded page's encoding, without the dot.
func (d Degradation) Ext() string {
	if d.JPEGQuality != 0 {
		return "jpg"
	}
	return "png"
}

// FileDPI is the resolution of a page at dpi once degraded: ScanDPI when that is lower.
func (d Degradation) FileDPI(dpi int) int {
	if d.ScanDPI > 0 && d.ScanDPI < dpi {
		return d.ScanDPI
	}
	return dpi
}

// HeaderDPI is the resolution the degraded page's file declares: DeclareDPI when set,
// else FileDPI.
func (d Degradation) HeaderDPI(dpi int) int {
	if d.DeclareDPI > 0 {
		return d.DeclareDPI
	}
	return d.FileDPI(dpi)
}

// String describes the degradation and its parameters, for reports.
func (d Degradation) String() string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	s := d.Speckle
	if s.PerSquareInch > 0 {
		add("%g specks/sq in, radius %g-%g px", s.PerSquareInch, s.MinRadius, s.MaxRadius)
	}
	if s.Pixels > 0 {
		add("%g%% of pixels flipped", 100*s.Pixels)
	}
	if d.Turn != 0 {
		add("turned %d deg counter-clockwise", d.Turn)
	}
	if d.SkewDegrees != 0 {
		add("skewed %+g deg", d.SkewDegrees)
	}
	if d.BlurSigma > 0 {
		add("Gaussian blur sigma %g px", d.BlurSigma)
	}
	if d.ScanDPI > 0 {
		add("scanned at %d dpi", d.ScanDPI)
	}
	if d.Paper > d.Ink {
		add("grey levels %d-%d", d.Ink, d.Paper)
	}
	if d.Shading > 0 {
		add("shaded to %.0f%% at the right edge", 100*(1-d.Shading))
	}
	if d.Invert {
		add("inverted")
	}
	if d.JPEGQuality != 0 {
		add("JPEG quality %d", d.JPEGQuality)
	} else {
		add("PNG")
	}
	if d.DeclareDPI > 0 {
		add("header says %d dpi", d.DeclareDPI)
	}
	out := d.Name + ":"
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += " " + p
	}
	return out
}

func (d Degradation) validate() error {
	var errs []error
	switch d.Turn {
	case 0, 90, 180, 270:
	default:
		errs = append(errs, fmt.Errorf("turn %d: want 0, 90, 180 or 270", d.Turn))
	}
	if math.IsNaN(d.SkewDegrees) || math.Abs(d.SkewDegrees) > 45 {
		errs = append(errs, fmt.Errorf("skew %v degrees: want at most 45 either way", d.SkewDegrees))
	}
	if !(d.BlurSigma >= 0 && d.BlurSigma <= 20) {
		errs = append(errs, fmt.Errorf("blur sigma %v: want 0-20 px", d.BlurSigma))
	}
	if d.ScanDPI < 0 {
		errs = append(errs, fmt.Errorf("scan dpi %d: want 0 or more", d.ScanDPI))
	}
	if !(d.Shading >= 0 && d.Shading <= 1) {
		errs = append(errs, fmt.Errorf("shading %v: want 0-1", d.Shading))
	}
	s := d.Speckle
	if !(s.PerSquareInch >= 0 && s.PerSquareInch <= 10000) || !(s.Pixels >= 0 && s.Pixels <= 1) {
		errs = append(errs, fmt.Errorf("speckle %+v: want 0-10000 specks a square inch and a pixel fraction 0-1", s))
	}
	if s.PerSquareInch > 0 && !(s.MinRadius > 0 && s.MinRadius <= s.MaxRadius && s.MaxRadius <= 50) {
		errs = append(errs, fmt.Errorf("speck radius %v-%v px: want 0 < min <= max <= 50", s.MinRadius, s.MaxRadius))
	}
	if d.DeclareDPI < 0 {
		errs = append(errs, fmt.Errorf("declared dpi %d: want 0 or more", d.DeclareDPI))
	}
	if d.JPEGQuality < 0 || d.JPEGQuality > 100 {
		errs = append(errs, fmt.Errorf("JPEG quality %d: want 1-100 (0 for PNG)", d.JPEGQuality))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("degradation %q: %w", d.Name, err)
	}
	return nil
}

// Apply degrades img, a page at dpi dots per inch, and encodes it: PNG with a pHYs chunk,
// or JPEG with a JFIF density, recording its resolution (or d.DeclareDPI) either way. The
// same arguments always give the same bytes. img is not modified.
func Apply(img *image.Gray, dpi int, d Degradation, seed int64) ([]byte, error) {
	out, dpi, err := Degrade(img, dpi, d, seed)
	if err != nil {
		return nil, err
	}
	if d.DeclareDPI > 0 {
		dpi = d.DeclareDPI
	}
	if d.JPEGQuality != 0 {
		return EncodeJPEG(out, dpi, d.JPEGQuality)
	}
	return sample.EncodePNG(out, dpi)
}

// Degrade returns the degraded pixels of img, a page at dpi, and their resolution (dpi, or
// d.ScanDPI when that is set), without encoding them: JPEGQuality is not applied here.
// img is not modified.
func Degrade(img *image.Gray, dpi int, d Degradation, seed int64) (*image.Gray, int, error) {
	if err := d.validate(); err != nil {
		return nil, 0, err
	}
	if dpi <= 0 {
		return nil, 0, fmt.Errorf("dpi %d: want a positive resolution", dpi)
	}
	if d.ScanDPI > dpi {
		return nil, 0, fmt.Errorf("degradation %q: scan at %d dpi: above the page's %d", d.Name, d.ScanDPI, dpi)
	}
	out := cloneGray(img)
	if !d.Speckle.zero() {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed5eed))
		speckle(out, dpi, d.Speckle, rng)
	}
	switch d.Turn {
	case 90:
		out = toGray(imaging.Rotate90(out))
	case 180:
		out = toGray(imaging.Rotate180(out))
	case 270:
		out = toGray(imaging.Rotate270(out))
	}
	if d.SkewDegrees != 0 {
		out = toGray(imaging.Rotate(out, d.SkewDegrees, color.White))
	}
	if d.BlurSigma > 0 {
		out = toGray(imaging.Blur(out, d.BlurSigma))
	}
	if d.ScanDPI > 0 && d.ScanDPI < dpi {
		w := int(math.Round(float64(out.Rect.Dx()) * float64(d.ScanDPI) / float64(dpi)))
		h := int(math.Round(float64(out.Rect.Dy()) * float64(d.ScanDPI) / float64(dpi)))
		out, dpi = toGray(imaging.Resize(out, max(w, 1), max(h, 1), imaging.Box)), d.ScanDPI
	}
	if d.Paper > d.Ink || d.Shading > 0 {
		expose(out, d.Ink, d.Paper, d.Shading)
	}
	if d.Invert {
		for i, v := range out.Pix {
			out.Pix[i] = 255 - v
		}
	}
	return out, dpi, nil
}

// cloneGray copies img onto a fresh image whose bounds start at (0, 0).
func cloneGray(img *image.Gray) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):])
	}
	return out
}

// toGray takes the grey level of an NRGBA made from a grey image (R = G = B) over white.
func toGray(n *image.NRGBA) *image.Gray {
	b := n.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		src := n.Pix[n.PixOffset(b.Min.X, b.Min.Y+y):]
		dst := g.Pix[y*g.Stride : y*g.Stride+b.Dx()]
		for x := range dst {
			v, a := uint32(src[4*x]), uint32(src[4*x+3])
			// Composite over white; imaging keeps the page opaque, so a is 255.
			dst[x] = uint8((v*a + 255*(255-a) + 127) / 255)
		}
	}
	return g
}

// speckle draws dark discs and flips single pixels, from rng.
func speckle(img *image.Gray, dpi int, s Speckle, rng *rand.Rand) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if s.PerSquareInch > 0 {
		area := float64(w) * float64(h) / float64(dpi*dpi)
		n := int(math.Round(s.PerSquareInch * area))
		for range n {
			cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
			r := s.MinRadius + rng.Float64()*(s.MaxRadius-s.MinRadius)
			level := uint8(rng.IntN(60)) // toner is black, dirt a dark grey
			disc(img, cx, cy, r, level)
		}
	}
	if s.Pixels > 0 {
		for i := range img.Pix {
			if rng.Float64() < s.Pixels {
				img.Pix[i] = uint8(255 * rng.IntN(2))
			}
		}
	}
}

// disc darkens the pixels whose centres lie within r of (cx, cy) to level.
func disc(img *image.Gray, cx, cy, r float64, level uint8) {
	x0, x1 := max(0, int(math.Floor(cx-r))), min(img.Rect.Dx()-1, int(math.Ceil(cx+r)))
	y0, y1 := max(0, int(math.Floor(cy-r))), min(img.Rect.Dy()-1, int(math.Ceil(cy+r)))
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy <= r*r {
				if i := y*img.Stride + x; img.Pix[i] > level {
					img.Pix[i] = level
				}
			}
		}
	}
}

// expose maps grey levels 0-255 to ink-paper (when paper > ink) and shades the page
// towards its right edge.
func expose(img *image.Gray, ink, paper uint8, shading float64) {
	lo, hi := 0.0, 255.0
	if paper > ink {
		lo, hi = float64(ink), float64(paper)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	gain := make([]float64, w)
	for x := range gain {
		t := 0.0
		if w > 1 {
			t = float64(x) / float64(w-1)
		}
		gain[x] = 1 - shading*t*t
	}
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, v := range row {
			row[x] = uint8(math.Round((lo + float64(v)*(hi-lo)/255) * gain[x]))
		}
	}
}
