package degrade

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image"
	"image/png"
	"strings"

	"github.com/colophon-archive/colophon/internal/sample"
)

//go:embed text/*.txt
var textFS embed.FS

// Text is a page of our own writing that the degraded pages are rendered from.
type Text struct {
	Name     string  // "letter", "newsletter", "report"
	Body     string  // as written; the ground truth is the text as rendered (Page.Truth)
	FontSize float64 // points
}

// Texts are the bundled texts: a typed letter to a housing department, a neighbourhood
// group's newsletter, and a treasurer's report full of sums and dates. Each fits on one
// A5 page at 300 dpi in its font size.
func Texts() []Text {
	out := []Text{{Name: "letter", FontSize: 11}, {Name: "newsletter", FontSize: 10}, {Name: "report", FontSize: 11}}
	for i := range out {
		b, err := textFS.ReadFile("text/" + out[i].Name + ".txt")
		if err != nil {
			panic("degrade: bundled text missing: " + err.Error()) // the embed pattern guarantees it
		}
		out[i].Body = string(b)
	}
	return out
}

// SmokeText is a short text for small pages: CI's check that a benchmark works.
var SmokeText = Text{Name: "note", FontSize: 12, Body: "The next meeting is on Thursday 28 April at 7.30 p.m. in the church hall. " +
	"Everyone is welcome, and there will be tea."}

// Default page geometry: A5 at 300 dpi, a common size for newsletters and notes, and
// half the area of A4, which keeps a benchmark of the whole set to minutes.
const (
	DefaultDPI                        = 300
	DefaultWidth, DefaultHeight       = 1748, 2480
	SmokeWidth, SmokeHeight           = 1240, 800
	defaultSeed                 int64 = 1978
)

// Page is one rendered, degraded page.
type Page struct {
	Name        string // "<text>-<degradation>", e.g. "letter-rot90"
	Text        string // the Text's name
	Degradation Degradation
	File        []byte // the encoded page: PNG or JPEG, with its resolution
	Ext         string // "png" or "jpg"
	Truth       string // exactly the text drawn on the page
	DPI         int    // the page's true resolution (its file may declare another: Degradation.HeaderDPI)
	Width       int    // of the degraded image, in pixels
	Height      int
}

// Options say which pages Pages renders; zero fields take the defaults.
type Options struct {
	Texts        []Text        // default Texts()
	Degradations []Degradation // default Clean then Set()
	DPI          int           // default 300
	// Width and Height are the clean page's size in pixels (default A5 at DPI).
	Width, Height int
	Seed          int64 // default 1978; each page's seed is derived from it
}

// Pages renders every text with every degradation, texts outer, degradations inner. The
// same options always give the same bytes.
func Pages(o Options) ([]Page, error) {
	if o.Texts == nil {
		o.Texts = Texts()
	}
	if o.Degradations == nil {
		o.Degradations = append([]Degradation{Clean}, Set()...)
	}
	if o.DPI == 0 {
		o.DPI = DefaultDPI
	}
	if o.Width == 0 || o.Height == 0 {
		o.Width = int(float64(DefaultWidth)*float64(o.DPI)/DefaultDPI + 0.5)
		o.Height = int(float64(DefaultHeight)*float64(o.DPI)/DefaultDPI + 0.5)
	}
	if o.Seed == 0 {
		o.Seed = defaultSeed
	}
	var out []Page
	for ti, t := range o.Texts {
		img, truth, err := Render(t, o.DPI, o.Width, o.Height)
		if err != nil {
			return nil, err
		}
		for di, d := range o.Degradations {
			seed := o.Seed + int64(1000*ti+di)
			file, err := Apply(img, o.DPI, d, seed)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Name, err)
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(file))
			if err != nil {
				return nil, fmt.Errorf("%s-%s: decode what was encoded: %w", t.Name, d.Name, err)
			}
			out = append(out, Page{
				Name: t.Name + "-" + d.Name, Text: t.Name, Degradation: d,
				File: file, Ext: d.Ext(), Truth: truth, DPI: d.FileDPI(o.DPI), Width: cfg.Width, Height: cfg.Height,
			})
		}
	}
	return out, nil
}

// Render draws t on one clean page of w x h pixels at dpi (internal/sample, Go Regular)
// and returns its pixels and the exact text drawn. Text that does not fit on one page is
// an error: a page's ground truth must all be on it.
func Render(t Text, dpi, w, h int) (*image.Gray, string, error) {
	pages, err := sample.Render(t.Body, sample.WithDPI(dpi), sample.WithFontSize(t.FontSize), sample.WithPageSize(w, h))
	if err != nil {
		return nil, "", fmt.Errorf("render %s: %w", t.Name, err)
	}
	if len(pages) != 1 {
		return nil, "", fmt.Errorf("render %s: %d pages at %v pt on %dx%d px, want 1", t.Name, len(pages), t.FontSize, w, h)
	}
	img, err := png.Decode(bytes.NewReader(pages[0].PNG))
	if err != nil {
		return nil, "", fmt.Errorf("render %s: %w", t.Name, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		return nil, "", errors.New("render " + t.Name + ": sample did not give a grey PNG")
	}
	return g, strings.TrimSpace(pages[0].Text), nil
}
