// Package sample provides the bundled sample document that `make demo`
// uploads and the integration tests OCR, rendered by the project itself so
// that the exact ground truth of every page is known.
//
// Pages are drawn with the Go fonts through golang.org/x/image/font/opentype
// onto 8-bit grayscale images (black antialiased text on white) and encoded as
// PNG with a pHYs chunk that records the resolution, so OCR engines do not
// have to guess the DPI.
package sample

import (
	"embed"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

//go:embed text/*.txt
var textFS embed.FS

// parseFont parses Go Regular once; the parsed font is read-only and safe to
// share, unlike the faces made from it.
//
// Go Regular was chosen over Go Mono by measurement: with Tesseract 5.3 (eng)
// the bundled pages OCR at 0 character errors at 11 pt, while Go Mono made
// 3-5 errors per page, mostly reading lowercase l as capital L.
var parseFont = sync.OnceValues(func() (*opentype.Font, error) {
	return opentype.Parse(goregular.TTF)
})

// Page is one rendered page.
type Page struct {
	// Text is the exact text drawn on the page, one rendered line per line,
	// joined with "\n"; paragraphs are separated by an empty line. It is the
	// ground truth for OCR of PNG.
	Text string
	// PNG is the page as an 8-bit grayscale PNG.
	PNG []byte
}

// Layout defaults. The page is A5 (148 x 210 mm) at the configured DPI, which
// at 300 dpi is 1748 x 2480 px.
const (
	defaultDPI      = 300
	defaultFontSize = 11 // points
	pageWidthMM     = 148
	pageHeightMM    = 210
	marginMM        = 16
	// lineSpacing is the baseline-to-baseline distance as a multiple of the
	// font size; a little more than single spacing keeps OCR line
	// segmentation clean.
	lineSpacing = 1.35
	// wordSpacing widens the space between words relative to the font's own
	// space glyph; Go Regular's space is narrow enough that Tesseract
	// sometimes merges short words ("and a" -> "anda").
	wordSpacing = 1.5

	// Limits that keep bad options from allocating absurd images.
	maxDPI      = 2400
	maxFontSize = 400         // points
	maxPixels   = 200_000_000 // per page
)

type config struct {
	dpi           int
	fontSize      float64
	pageW, pageH  int // 0 means A5 at dpi
	noise         bool
	noiseSeed     int64
	noiseFraction float64
	optionErrs    []error
}

// Option configures Render.
type Option func(*config)

// WithDPI sets the rendering resolution in dots per inch (default 300). It
// scales the font, the margins and, unless WithPageSize is given, the page.
func WithDPI(dpi int) Option {
	return func(c *config) { c.dpi = dpi }
}

// WithFontSize sets the font size in points (default 11).
func WithFontSize(points float64) Option {
	return func(c *config) { c.fontSize = points }
}

// WithPageSize sets the page size in pixels (default A5 at the DPI).
func WithPageSize(wPx, hPx int) Option {
	return func(c *config) {
		if wPx <= 0 || hPx <= 0 {
			c.optionErrs = append(c.optionErrs, fmt.Errorf("page size %dx%d px: must be positive", wPx, hPx))
			return
		}
		c.pageW, c.pageH = wPx, hPx
	}
}

// WithNoise adds salt-and-pepper speckle: each pixel independently becomes
// black or white (even odds) with probability fraction, from a PRNG seeded
// with seed, so the same seed gives the same speckle. fraction must be in
// [0, 1]; 0 leaves the page clean. It exists for OCR robustness tests.
func WithNoise(seed int64, fraction float64) Option {
	return func(c *config) {
		c.noise, c.noiseSeed, c.noiseFraction = true, seed, fraction
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{dpi: defaultDPI, fontSize: defaultFontSize}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	errs := c.optionErrs
	if c.dpi <= 0 || c.dpi > maxDPI {
		errs = append(errs, fmt.Errorf("dpi %d: must be in 1..%d", c.dpi, maxDPI))
	}
	if !(c.fontSize > 0 && c.fontSize <= maxFontSize) { // also rejects NaN
		errs = append(errs, fmt.Errorf("font size %v pt: must be in (0, %d]", c.fontSize, maxFontSize))
	}
	if c.noise && !(c.noiseFraction >= 0 && c.noiseFraction <= 1) {
		errs = append(errs, fmt.Errorf("noise fraction %v: must be in [0, 1]", c.noiseFraction))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sample options: %w", err)
	}
	if c.pageW == 0 {
		c.pageW, c.pageH = mmToPx(pageWidthMM, c.dpi), mmToPx(pageHeightMM, c.dpi)
	}
	if c.pageW > maxPixels/c.pageH { // dividing avoids overflow
		return nil, fmt.Errorf("sample options: page %dx%d px exceeds %d pixels", c.pageW, c.pageH, maxPixels)
	}
	return c, nil
}

func mmToPx(mm float64, dpi int) int {
	return int(math.Round(mm / 25.4 * float64(dpi)))
}

// layout is the geometry of a page in pixels.
type layout struct {
	face              font.Face
	space             fixed.Int26_6 // gap between words
	margin            int
	textW             fixed.Int26_6 // width available to a line
	ascent, descent   int
	lineHeight        int
	linesPerPage      int
	pageW, pageH, dpi int
	noise             bool
	noiseFraction     float64
	noiseSeed         int64
}

func newLayout(c *config) (*layout, error) {
	f, err := parseFont()
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{
		Size:    c.fontSize,
		DPI:     float64(c.dpi),
		Hinting: font.HintingFull,
	})
	if err != nil {
		return nil, fmt.Errorf("create font face: %w", err)
	}
	m := face.Metrics()
	l := &layout{
		face:          face,
		margin:        mmToPx(marginMM, c.dpi),
		ascent:        m.Ascent.Ceil(),
		descent:       m.Descent.Ceil(),
		lineHeight:    int(math.Ceil(c.fontSize * lineSpacing * float64(c.dpi) / 72)),
		pageW:         c.pageW,
		pageH:         c.pageH,
		dpi:           c.dpi,
		noise:         c.noise && c.noiseFraction > 0,
		noiseFraction: c.noiseFraction,
		noiseSeed:     c.noiseSeed,
	}
	textW := c.pageW - 2*l.margin
	textH := c.pageH - 2*l.margin
	// Require room for at least one line of a few characters; anything less
	// cannot hold text and would make wrapping meaningless.
	em := int(math.Ceil(c.fontSize * float64(c.dpi) / 72))
	if textW < 4*em || textH < l.ascent+l.descent {
		return nil, fmt.Errorf("page %dx%d px with %d px margins is too small for %v pt text at %d dpi",
			c.pageW, c.pageH, l.margin, c.fontSize, c.dpi)
	}
	l.textW = fixed.I(textW)
	spaceAdv, ok := face.GlyphAdvance(' ')
	if !ok {
		return nil, errors.New("font has no space glyph")
	}
	l.space = fixed.Int26_6(math.Round(float64(spaceAdv) * wordSpacing))
	// Line i has its baseline at margin+ascent+i*lineHeight and must end,
	// descent included, above the bottom margin.
	l.linesPerPage = (textH-l.ascent-l.descent)/l.lineHeight + 1
	return l, nil
}

// Pages renders the bundled sample text, one Page per page file
// (text/page1.txt, text/page2.txt, ...), with the default options.
func Pages() ([]Page, error) {
	var pages []Page
	for n := 1; ; n++ {
		name := fmt.Sprintf("text/page%d.txt", n)
		b, err := textFS.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read sample %s: %w", name, err)
		}
		rendered, err := Render(string(b))
		if err != nil {
			return nil, fmt.Errorf("render sample %s: %w", name, err)
		}
		// Each file is meant to be exactly one page; overflow means the text
		// or layout was edited carelessly and the ground truth would be split.
		if len(rendered) != 1 {
			return nil, fmt.Errorf("render sample %s: got %d pages, want 1", name, len(rendered))
		}
		pages = append(pages, rendered[0])
	}
	if len(pages) == 0 {
		return nil, errors.New("sample: no bundled page texts")
	}
	return pages, nil
}

// Render renders text into one or more PNG pages. Each input line is
// word-wrapped to the text width (a word wider than the line is broken
// between characters); runs of blank lines become one blank line separating
// paragraphs. Text that does not fit on a page continues on the next one.
// Empty text gives a single blank page. Control characters other than
// whitespace are dropped, since they would draw as boxes and could not be in
// the ground truth; runes Go Regular lacks (CJK, most symbols) are kept in
// Page.Text but draw as the font's missing-glyph box, so keep OCR test text
// to Latin script.
func Render(text string, opts ...Option) ([]Page, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	l, err := newLayout(c)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var rng *rand.Rand
	if l.noise {
		// One stream across pages so that every page gets its own speckle.
		rng = rand.New(rand.NewPCG(uint64(l.noiseSeed), 0x5a17))
	}
	var pages []Page
	for n, lines := range paginate(l.wrap(text), l.linesPerPage) {
		p, err := l.drawPage(lines, rng)
		if err != nil {
			return nil, fmt.Errorf("render page %d: %w", n+1, err)
		}
		pages = append(pages, p)
	}
	return pages, nil
}

// wrap turns text into rendered lines, with "" marking paragraph breaks.
func (l *layout) wrap(text string) []string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
	text = strings.ReplaceAll(text, "\r\n", "\n")

	var out []string
	blank := false
	for _, src := range strings.Split(text, "\n") {
		words := strings.Fields(src)
		if len(words) == 0 {
			blank = len(out) > 0 // no leading blank lines; runs collapse
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = l.wrapWords(out, words)
	}
	return out
}

// wrapWords greedily fills lines with words, appending them to out.
func (l *layout) wrapWords(out []string, words []string) []string {
	line := ""
	for _, w := range words {
		candidate := w
		if line != "" {
			candidate = line + " " + w
		}
		if l.fits(candidate) {
			line = candidate
			continue
		}
		if line != "" {
			out = append(out, line)
			line = ""
		}
		// The word alone may still be too wide: break it between runes.
		for !l.fits(w) {
			rs := []rune(w)
			n := 1 // always make progress, even if one glyph is too wide
			for n < len(rs) && l.fits(string(rs[:n+1])) {
				n++
			}
			out = append(out, string(rs[:n]))
			w = string(rs[n:])
			if w == "" {
				break
			}
		}
		line = w
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// fits reports whether s, drawn from the left margin, stays within the text
// width both by advance and by ink (a glyph may overhang its advance).
func (l *layout) fits(s string) bool {
	var x, ink fixed.Int26_6
	for i, w := range strings.Split(s, " ") {
		if i > 0 {
			x += l.space
		}
		bounds, adv := font.BoundString(l.face, w)
		ink = max(ink, x+bounds.Max.X)
		x += adv
	}
	return x <= l.textW && ink <= l.textW
}

// paginate splits lines into pages of at most per lines, dropping the
// paragraph break that would otherwise start or end a page. It always returns
// at least one (possibly empty) page.
func paginate(lines []string, per int) [][]string {
	var pages [][]string
	var cur []string
	for _, ln := range lines {
		if ln == "" && len(cur) == 0 {
			continue
		}
		cur = append(cur, ln)
		if len(cur) == per {
			pages = append(pages, trimBlank(cur))
			cur = nil
		}
	}
	if len(cur) > 0 || len(pages) == 0 {
		pages = append(pages, trimBlank(cur))
	}
	return pages
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func (l *layout) drawPage(lines []string, rng *rand.Rand) (Page, error) {
	img := image.NewGray(image.Rect(0, 0, l.pageW, l.pageH))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.Black, Face: l.face}
	for i, ln := range lines {
		d.Dot = fixed.P(l.margin, l.margin+l.ascent+i*l.lineHeight)
		// Lines hold single spaces (see wrap); draw word by word so the
		// gaps get the widened word spacing.
		for j, w := range strings.Split(ln, " ") {
			if j > 0 {
				d.Dot.X += l.space
			}
			d.DrawString(w)
		}
	}
	if rng != nil {
		speckle(img, rng, l.noiseFraction)
	}
	b, err := EncodePNG(img, l.dpi)
	if err != nil {
		return Page{}, err
	}
	return Page{Text: strings.Join(lines, "\n"), PNG: b}, nil
}

// speckle sets each pixel to black or white with probability fraction.
func speckle(img *image.Gray, rng *rand.Rand, fraction float64) {
	for i := range img.Pix {
		if rng.Float64() < fraction {
			if rng.IntN(2) == 0 {
				img.Pix[i] = 0
			} else {
				img.Pix[i] = 0xff
			}
		}
	}
}

// WriteFiles writes the pages as dir/page-01.png, dir/page-02.png, ...,
// creating dir if needed, and returns the paths in page order.
func WriteFiles(dir string, pages []Page) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create sample dir: %w", err)
	}
	paths := make([]string, 0, len(pages))
	for i, p := range pages {
		path := filepath.Join(dir, fmt.Sprintf("page-%02d.png", i+1))
		if err := os.WriteFile(path, p.PNG, 0o644); err != nil {
			return nil, fmt.Errorf("write page %d: %w", i+1, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
