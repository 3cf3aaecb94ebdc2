package ocr

import (
	"image"
	"slices"
	"testing"

	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/pipeline"
)

// letterGrid is rows x cols letter boxes, 10 px high, 8 wide, on a 20 px line pitch.
func letterGrid(rows, cols int) []image.Rectangle {
	var out []image.Rectangle
	for r := range rows {
		for c := range cols {
			out = append(out, image.Rect(10+12*c, 10+20*r, 18+12*c, 20+20*r))
		}
	}
	return out
}

// wordsOver covers the first n rows of letterGrid with one word box per row.
func wordsOver(n, cols int) []image.Rectangle {
	var out []image.Rectangle
	for r := range n {
		out = append(out, image.Rect(9, 9+20*r, 20+12*cols, 21+20*r))
	}
	return out
}

func TestInkRead(t *testing.T) {
	letters := letterGrid(10, 20)
	tests := []struct {
		name  string
		boxes []image.Rectangle
		want  float64
	}{
		{"every line read", wordsOver(10, 20), 1},
		{"half the lines read", wordsOver(5, 20), 0.5},
		{"nothing read", nil, 0},
		{"a box far away", []image.Rectangle{image.Rect(1000, 1000, 1100, 1020)}, 0},
	}
	for _, tt := range tests {
		if got := inkRead(letters, tt.boxes); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := inkRead(nil, wordsOver(3, 3)); got != 0 {
		t.Errorf("no letters: %v, want 0", got)
	}
}

// page is a page measured as text: its letters, and its share of ink.
func page(letters []image.Rectangle, ink float64) preprocess.TextSize {
	return preprocess.TextSize{Boxes: letters, Letters: len(letters), Ink: ink}
}

func TestJudge(t *testing.T) {
	letters := page(letterGrid(10, 20), 0.05)
	res := func(conf float64, words, letterWords, known, rows int) tesseract.Result {
		return tesseract.Result{MeanConfidence: conf, Words: words, LetterWords: letterWords, KnownWords: known, Boxes: wordsOver(rows, 20), Chars: 5 * words}
	}
	tests := []struct {
		name        string
		letters     preprocess.TextSize
		res         tesseract.Result
		wantVerdict pipeline.Verdict
		wantReason  string
	}{
		{"a sure reading of every line, words known", letters, res(95, 200, 180, 175, 10), pipeline.VerdictOK, ""},
		{"sure, but half the text missed", letters, res(95, 100, 90, 88, 5), pipeline.VerdictReview, pipeline.ReviewLowScore},
		{"a fifth of the text found", letters, res(95, 40, 36, 35, 2), pipeline.VerdictReview, pipeline.ReviewLittleText},
		{"every line, words unknown (garbage)", letters, res(85, 200, 180, 20, 10), pipeline.VerdictReview, pipeline.ReviewLowScore},
		{"nothing read from a page with ink", letters, tesseract.Result{}, pipeline.VerdictReview, pipeline.ReviewLittleText},
		{"a blank page read as blank", page(nil, 0), tesseract.Result{}, pipeline.VerdictOK, ""},
		{"a few specks read as blank", page(nil, 0.001), tesseract.Result{}, pipeline.VerdictOK, ""},
		{"a drawing read as nothing", page(nil, 0.2), tesseract.Result{}, pipeline.VerdictReview, pipeline.ReviewLittleText},
		{"a drawing read as a few marks", page(nil, 0.2), tesseract.Result{MeanConfidence: 60, Words: 2, Chars: 4}, pipeline.VerdictReview, pipeline.ReviewLittleText},
		{"a short note", page(letterGrid(1, 25), 0.01), tesseract.Result{MeanConfidence: 93, Words: 5, LetterWords: 5, KnownWords: 5, Chars: 25, Boxes: wordsOver(1, 25)}, pipeline.VerdictOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := judge(tt.letters, tt.res)
			q := j.quality(nil)
			if q.Verdict != tt.wantVerdict || (tt.wantReason == "") != (len(q.Reasons) == 0) || (tt.wantReason != "" && !slices.Contains(q.Reasons, tt.wantReason)) {
				t.Errorf("quality %+v (score %.3f), want %s %q", q, j.score, tt.wantVerdict, tt.wantReason)
			}
		})
	}
	// The judge ranks: more of the text found beats less, however sure.
	full, half := judge(letters, res(85, 200, 180, 160, 10)), judge(letters, res(96, 100, 90, 88, 5))
	if full.score <= half.score {
		t.Errorf("a reading of all the lines scores %.3f, one of half %.3f", full.score, half.score)
	}
	if q := judge(letters, res(95, 200, 180, 175, 10)).quality([]string{pipeline.ReviewUnsureScale}); q.Verdict != pipeline.VerdictReview || q.Review() != pipeline.ReviewUnsureScale {
		t.Errorf("a good reading with an unsure scale: %+v, want review for the scale alone", q)
	}
}

func TestSettleScale(t *testing.T) {
	text := func(dpi int) preprocess.TextSize {
		return preprocess.TextSize{DPI: dpi, XHeightPx: float64(dpi) * 0.083, Letters: 500}
	}
	tests := []struct {
		name       string
		declared   int
		text       preprocess.TextSize
		wantDPI    int
		wantUnsure bool
	}{
		{"declared and agrees", 300, text(340), 300, false},
		{"declared, larger type", 300, text(480), 300, false},
		{"declared far too low", 100, text(300), 300, false},
		{"72 declared on a 250 dpi scan", 72, text(250), 250, false},
		{"72 declared on a 145 dpi scan", 72, text(145), 145, false},
		{"96 declared, agrees", 96, text(140), 96, false},
		{"nothing declared", 0, text(240), 240, false},
		{"1 dpi declared", 1, text(330), 330, false},
		{"nothing declared, tiny text clamped", 0, text(40), 70, false},
		{"nothing declared, huge text clamped", 0, text(3000), 1200, false},
		{"declared, too little text", 200, preprocess.TextSize{Letters: 30}, 200, false},
		{"nothing declared, too little text on a page with some", 0, preprocess.TextSize{Letters: 60}, 300, true},
		{"nothing declared, blank page", 0, preprocess.TextSize{}, 300, false},
	}
	for _, tt := range tests {
		dpi, sc, unsure := settleScale(tt.declared, 300, tt.text)
		if dpi != tt.wantDPI || unsure != tt.wantUnsure || sc.DeclaredDPI != tt.declared || sc.Why == "" || sc.Factor != 1 {
			t.Errorf("%s: %d dpi, unsure %v, %+v; want %d dpi, unsure %v", tt.name, dpi, unsure, sc, tt.wantDPI, tt.wantUnsure)
		}
	}
}
