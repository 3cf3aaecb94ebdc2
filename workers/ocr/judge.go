package ocr

import (
	"image"
	"math"
	"slices"

	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/pipeline"
)

// The judge: which of a page's readings to keep, and whether the kept one needs a person.
//
// Mean word confidence alone does not tell a bad reading: Tesseract is as sure of garbage
// read from a badly cleaned page as of good text. Two measures of the text itself track
// character errors better: the share of its words the language's dictionary knows
// (Tesseract's own, in its model files), and the share of the page's ink that became words
// (a reading that lost faint paragraphs, or a border taken for the page, leaves ink
// unread). The score combines them with confidence; docs/benchmarks.md ("Judge") has how
// well it ranks readings of the corpus.

// Thresholds on the score. A reading scoring under reviewBelow goes to a person. A page's
// first reading (as Tesseract binarises it) scoring under readAgainBelow, or missing some
// of the page's letters (missedInkRead), is read cleaned too, and one still under localBelow with Sauvola's local thresholds: each costs a
// reading, and pages scoring above them are seldom read better another way
// (docs/benchmarks.md, "Judge").
const (
	reviewBelow    = 0.8
	readAgainBelow = 0.75
	localBelow     = 0.6
	// fullInkRead: letters are found by their components' centres, and some (specks,
	// marginalia, stamps) are never words; a reading that finds this share found all.
	fullInkRead = 0.9
	// knownWeight is how much the share of words no dictionary knows takes off the score:
	// dictionaries miss names, numbers and old spellings, so not all of it.
	knownWeight = 0.5
	// littleInkRead: under this share of the page's letters in words, most text was missed.
	littleInkRead = 0.35
	// missedInkRead: under this share, some text was missed (a faint or shaded part of
	// the page): the page is read cleaned too, whatever its score.
	missedInkRead = 0.85
	// minLetters: a page with fewer letter-sized components has too little text to say
	// that any was missed.
	minLetters = 20
	// minInk: a page with less of its area in ink is blank (paper grain, a few specks).
	minInk = 0.003
	// minChars: a reading of fewer characters from a page with ink found next to nothing.
	minChars = 20
)

// judgement is the judge's view of one reading.
type judgement struct {
	score, known, inkRead float64
	letters               int     // letter-sized components on the page
	ink                   float64 // share of the page in ink
	chars                 int     // characters read
}

// judge scores a reading whose word boxes lie on the page measured as text (in the same
// coordinates).
func judge(text preprocess.TextSize, res tesseract.Result) judgement {
	letters := text.Boxes
	j := judgement{known: 1} // no words of letters (numbers, marks): nothing to look up
	if res.LetterWords > 0 {
		j.known = float64(res.KnownWords) / float64(res.LetterWords)
	}
	j.letters, j.ink, j.chars = len(letters), text.Ink, res.Chars
	j.inkRead = inkRead(letters, res.Boxes)
	conf := res.MeanConfidence / 100
	found := math.Min(1, j.inkRead/fullInkRead)
	if j.letters < minLetters {
		found = 1 // too little text to say any was missed
	}
	// The share of the text found, times how sure Tesseract is of it, discounted by up to
	// half for words no dictionary knows: each part alone ranks readings worse.
	j.score = found * conf * (1 - knownWeight*(1-j.known))
	if res.Words == 0 {
		j.score = 0
		if !j.inked() {
			j.score = 1 // a blank page read as blank is read right
		}
	}
	return j
}

// quality is the record's verdict on a kept reading.
func (j judgement) quality(unsure []string) *pipeline.Quality {
	q := &pipeline.Quality{Verdict: pipeline.VerdictOK, Score: round3(j.score), KnownWords: round3(j.known), InkRead: round3(j.inkRead)}
	if j.letters >= minLetters && j.inkRead < littleInkRead || j.inked() && j.chars < minChars {
		q.Reasons = append(q.Reasons, pipeline.ReviewLittleText)
	} else if j.score < reviewBelow {
		q.Reasons = append(q.Reasons, pipeline.ReviewLowScore)
	}
	q.Reasons = append(q.Reasons, unsure...)
	if len(q.Reasons) > 0 {
		q.Verdict = pipeline.VerdictReview
	}
	return q
}

// missed reports whether the reading left out some of the page's text.
func (j judgement) missed() bool { return j.letters >= minLetters && j.inkRead < missedInkRead }

// inked reports whether the page has ink: text, drawing or photograph.
func (j judgement) inked() bool { return j.ink >= minInk || j.letters >= minLetters }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// inkRead is the share of the page's letters (letter-sized components of its ink, see
// preprocess.MeasureText) whose centre lies in the box of a word read, boxes grown by a
// quarter of their height each way.
func inkRead(letters []image.Rectangle, boxes []image.Rectangle) float64 {
	if len(letters) == 0 {
		return 0
	}
	grown := make([]image.Rectangle, len(boxes))
	for i, r := range boxes {
		g := max(2, r.Dy()/4)
		grown[i] = r.Inset(-g)
	}
	// Words by their top, so each letter looks only at the words whose rows reach it.
	slices.SortFunc(grown, func(a, b image.Rectangle) int { return a.Min.Y - b.Min.Y })
	maxH := 0
	for _, r := range grown {
		maxH = max(maxH, r.Dy())
	}
	found := 0
	for _, l := range letters {
		c := image.Pt((l.Min.X+l.Max.X)/2, (l.Min.Y+l.Max.Y)/2)
		i, _ := slices.BinarySearchFunc(grown, c.Y-maxH, func(r image.Rectangle, y int) int { return r.Min.Y - y })
		for ; i < len(grown) && grown[i].Min.Y <= c.Y; i++ {
			if c.In(grown[i]) {
				found++
				break
			}
		}
	}
	return float64(found) / float64(len(letters))
}
