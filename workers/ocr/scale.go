package ocr

import (
	"fmt"
	"image"
	"maps"

	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/pipeline"
)

// Resolution bounds: a header outside them declares no usable resolution (1 dpi in some
// TIFFs; DeclaredPlausible); a measurement outside them is clamped.
const (
	minPlausibleDPI = 70
	maxPlausibleDPI = 2400
	// maxMeasuredDPI: text that large is a heading or a poster, not a finer scan.
	maxMeasuredDPI = 1200
	// scaleTooLow: a declared resolution is taken unless the text's size says the page is
	// finer by more than this factor: type sizes vary that much between pages scanned
	// alike (docs/benchmarks.md, Scale). Wrong headers declare too little.
	scaleTooLow = 2.5
	// screenTooLow is the factor for 72 and 96 dpi, the screen resolutions that software
	// writes when it knows none (web and camera JPEGs of finer scans carry them):
	// such a header is believed only when the text's size nearly agrees.
	screenTooLow = 1.6
)

// settleScale decides the resolution a page is cleaned and read at, from what its header
// declares and the size of its text: the declared one when it is plausible and the text
// is not far finer than it says, else the text's (72 or 96 dpi declared on finer scans is
// common), else the declared one or def. unsure is true when the header declares nothing
// usable and the page has text too scant to measure.
func settleScale(declared, def int, text preprocess.TextSize) (dpi int, sc pipeline.Scale, unsure bool) {
	sc = pipeline.Scale{DeclaredDPI: declared, MeasuredDPI: text.DPI, XHeightPx: text.XHeightPx, Factor: 1}
	plausible := DeclaredPlausible(declared)
	measured := min(max(text.DPI, minPlausibleDPI), maxMeasuredDPI)
	switch {
	case text.DPI > 0 && plausible && float64(text.DPI) <= tooLow(declared)*float64(declared):
		dpi, sc.Why = declared, "declared resolution agrees with the text's size"
	case text.DPI > 0 && plausible:
		dpi, sc.Why = measured, fmt.Sprintf("declared %d dpi, but the text's size is that of %d dpi", declared, text.DPI)
	case text.DPI > 0:
		dpi, sc.Why = measured, "no usable resolution declared; taken from the text's size"
	case plausible:
		dpi, sc.Why = declared, "too little text to measure; declared resolution taken"
	default:
		dpi, sc.Why = def, fmt.Sprintf("no usable resolution declared and too little text to measure; %d dpi assumed", def)
		unsure = text.Letters >= minLetters
	}
	return dpi, sc, unsure
}

// DeclaredPlausible reports whether a resolution a file's header declares could be a
// scan's: 1 dpi (some TIFFs) and 0 (none) are not.
func DeclaredPlausible(dpi int) bool { return dpi >= minPlausibleDPI && dpi <= maxPlausibleDPI }

// tooLow is the factor by which the text may say a page is finer than its header before
// the header is disbelieved.
func tooLow(declared int) float64 {
	if declared == 72 || declared == 96 {
		return screenTooLow
	}
	return scaleTooLow
}

// invertIfDark is preprocess.InvertIfDark with the step as the record writes it.
func invertIfDark(img *image.Gray) (pipeline.Step, *image.Gray) {
	inv, st := preprocess.InvertIfDark(img)
	if inv == nil {
		return pipeline.Step{}, nil
	}
	return recordStep(*st), inv
}

// recordStep is a cleanup step as the page's record writes it.
func recordStep(st preprocess.Step) pipeline.Step {
	return pipeline.Step{Name: st.Name, Params: maps.Clone(st.Params)}
}
