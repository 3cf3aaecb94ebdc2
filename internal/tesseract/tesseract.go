// Package tesseract is Colophon's adapter to the Tesseract engine, through gosseract.
//
// An Engine wraps one gosseract client. Tesseract is not safe for concurrent use, and
// loading a model costs more than reading a page, so each worker goroutine owns one Engine
// and reuses it for every page.
package tesseract

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/image/bmp"
)

// Name is the engine name recorded in provenance.
const Name = "tesseract"

// Engine recognises pages one at a time. Not safe for concurrent use.
type Engine struct {
	client *gosseract.Client
	langs  []string
	ready  bool // the model is loaded for langs
}

// initMu serialises model loading across engines. gosseract silences Tesseract during
// initialisation by pointing the process's fd 2 at /dev/null and back; two engines doing
// that at once can leave stderr pointing at /dev/null for good, and every later log line lost.
var initMu sync.Mutex

// blankPage is a small white page: enough for gosseract to load the model.
var blankPage = sync.OnceValue(func() []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	return grayBMP(img)
})

// Load loads the model for the engine's languages now, rather than on the first page.
func (e *Engine) Load() error {
	if e.ready {
		return nil
	}
	initMu.Lock()
	defer initMu.Unlock()
	if err := e.client.SetImageFromBytes(blankPage()); err != nil {
		return fmt.Errorf("load model %s: %w", strings.Join(e.langs, "+"), err)
	}
	if _, err := e.client.GetBoundingBoxesVerbose(); err != nil {
		return fmt.Errorf("load model %s: %w", strings.Join(e.langs, "+"), err)
	}
	e.ready = true
	return nil
}

// New returns an engine for langs (Tesseract codes such as "eng"). The model loads on the
// first page, and again only when a page asks for other languages.
func New(langs ...string) *Engine {
	if len(langs) == 0 {
		langs = []string{"eng"}
	}
	c := gosseract.NewClient()
	c.Trim = false
	_ = c.SetLanguage(langs...)
	return &Engine{client: c, langs: slices.Clone(langs)}
}

// Close frees the Tesseract instance.
func (e *Engine) Close() error { return e.client.Close() }

// Version is the Tesseract library version, e.g. "5.3.0".
func Version() string { return gosseract.Version() }

// Result is one page's reading.
type Result struct {
	Text string
	// MeanConfidence is the mean of the word confidences, 0-100; 0 when no word was found.
	MeanConfidence float64
	Words          int
}

// Recognize reads a grey page image assumed to be at dpi. langs selects the model; an
// empty slice keeps the current one.
//
// It runs recognition exactly once: gosseract re-runs it for every result call, so text and
// confidences both come from the one word-level pass of GetBoundingBoxesVerbose.
func (e *Engine) Recognize(img *image.Gray, dpi int, langs []string) (Result, error) {
	if img == nil || img.Bounds().Empty() {
		return Result{}, errors.New("recognize: empty image")
	}
	if len(langs) > 0 && !slices.Equal(langs, e.langs) {
		if err := e.client.SetLanguage(langs...); err != nil {
			return Result{}, fmt.Errorf("recognize: languages %s: %w", strings.Join(langs, "+"), err)
		}
		e.langs = slices.Clone(langs)
		e.ready = false
	}
	if err := e.Load(); err != nil {
		return Result{}, fmt.Errorf("recognize: %w", err)
	}
	// Without this Tesseract assumes 70 dpi for images that declare no resolution and
	// misjudges text size; the caller knows better (header, or a sane default).
	if err := e.client.SetVariable("user_defined_dpi", strconv.Itoa(dpi)); err != nil {
		return Result{}, fmt.Errorf("recognize: set dpi %d: %w", dpi, err)
	}
	if err := e.client.SetImageFromBytes(grayBMP(img)); err != nil {
		return Result{}, fmt.Errorf("recognize: load image: %w", err)
	}
	boxes, err := e.client.GetBoundingBoxesVerbose()
	if err != nil {
		return Result{}, fmt.Errorf("recognize (%s): %w", strings.Join(e.langs, "+"), err)
	}
	return assemble(boxes), nil
}

// grayBMP encodes img as an uncompressed 8-bit BMP: a header, a grey palette and the raw rows.
// Leptonica reads it with a copy and no decompression. (PGM looked equally cheap but
// Leptonica parses it byte by byte: 220-280 ms for an A4 page at 300 dpi, against 2-4 ms for
// BMP, and 10% of the pipeline's CPU in the profile.)
func grayBMP(img *image.Gray) []byte {
	var buf bytes.Buffer
	buf.Grow(1078 + (img.Bounds().Dx()+3)&^3*img.Bounds().Dy())
	_ = bmp.Encode(&buf, img) // encoding an in-memory grey image into a buffer cannot fail
	return buf.Bytes()
}

// assemble lays words out as Tesseract's own text output does: words on a line joined by
// a space, lines by a newline, and paragraphs and blocks by a blank line.
func assemble(words []gosseract.BoundingBox) Result {
	var b strings.Builder
	var sum float64
	var n int
	for i, w := range words {
		text := strings.TrimSpace(w.Word)
		if text == "" {
			continue
		}
		if b.Len() > 0 {
			prev := words[i-1]
			switch {
			case w.BlockNum != prev.BlockNum || w.ParNum != prev.ParNum:
				b.WriteString("\n\n")
			case w.LineNum != prev.LineNum:
				b.WriteByte('\n')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(text)
		sum += w.Confidence
		n++
	}
	r := Result{Text: b.String(), Words: n}
	if n > 0 {
		b.WriteByte('\n')
		r.Text = b.String()
		r.MeanConfidence = sum / float64(n)
	}
	return r
}
