package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/pipeline"
)

// Reading a page: clean the scan (preprocess), settle how it lies (the letters' shapes,
// else Tesseract's orientation detector) and recognise it turned upright. When Tesseract is
// unsure of the result, and the orientation was not settled, detect it and read again
// turned upright; if still unsure, read it another way. The best reading is kept. Every
// step, parameter and reading goes in the record.

// MinOrientationConfidence is the orientation detector's confidence above which a page is
// turned: below it the detector is guessing, and turning a page on a guess would ruin a
// page that was upright (docs/benchmarks.md has what it reads on pages of text).
const MinOrientationConfidence = 2.0

// DefaultRetryBelow is the mean word confidence under which a page is looked at again:
// clean upright pages read well above it, and a page under it lies on its side or upside
// down, or has lost words to its cleanup or its layout (docs/benchmarks.md has the figures).
const DefaultRetryBelow = 70.0

// readConfig is one way of reading a page: how it is binarised and how Tesseract finds
// its layout.
type readConfig struct {
	binarization preprocess.Binarization
	psm          tesseract.PageSegMode
}

func (c readConfig) String() string {
	return fmt.Sprintf("binarize=%s psm=%d", c.binarization, c.psm)
}

// The first reading: one global (Otsu) threshold for the page, once its background has been
// flattened, which keeps the thin and faint strokes of blurred or speckled type that
// Sauvola's local thresholds break. The second, for a page the first was unsure of:
// Sauvola's local thresholds, for ink whose darkness varies across the page more than the
// background flattening evens out. Otsu first made fewer errors on the fidelity benchmark's
// pages, speckled ones above all (docs/benchmarks.md, Fidelity).
var (
	firstRead  = readConfig{preprocess.Otsu, tesseract.PSMAuto}
	secondRead = readConfig{preprocess.Sauvola, tesseract.PSMAuto}
)

// reading is the kept reading of a page and how it was made.
type reading struct {
	res    tesseract.Result
	models []pipeline.Model // the model files that read it
	info   pipeline.OCRInfo // the fields about this reading: confidence, words, PSM, steps, attempts, orientation, duration
	dpi    int              // the resolution it was read at
}

// readPage reads a decoded scan: page says which (image, resolution, languages, number,
// title, date); how to clean and segment it is readPage's choice. Errors are the page's
// fault (bad image, over its time limit) unless ctx ended.
func (s *slot) readPage(ctx context.Context, log *slog.Logger, page tesseract.Page) (reading, error) {
	var r reading
	ctx, cancel := context.WithTimeout(ctx, s.w.cfg.pageTimeout)
	defer cancel()
	t0 := time.Now()
	err := s.withEngine(ctx, func(e Recognizer) error {
		var err error
		r, err = s.read(ctx, log, e, page)
		return err
	})
	// Recognition time is all of the page's image work: cleanup, orientation, readings.
	r.info.DurationMS = time.Since(t0).Milliseconds()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return r, bus.Because(pipeline.ReasonTimeout, fmt.Errorf("recognition exceeded the per-page time limit of %s", s.w.cfg.pageTimeout))
	}
	return r, bus.Because(pipeline.ReasonRecognition, err)
}

// candidate is one reading of the page.
type candidate struct {
	res     tesseract.Result
	judged  judgement
	steps   []pipeline.Step
	attempt pipeline.Attempt
	rotate  int         // clockwise quarter turns applied before cleanup, in degrees
	cfg     readConfig  // how it was read
	page    *image.Gray // the page it was read from: cleaned, or as it came for plainRead
}

// plainRead is the page as Tesseract itself binarises it, at the measured resolution:
// what plain `tesseract` reads, and on most real grey and colour scans as good a reading
// as any cleanup gives. Every page is read so first; a page it does not read clearly well
// is read cleaned too, and the judge keeps the better reading.
var plainRead = readConfig{preprocess.NoBinarization, tesseract.PSMAuto}

// upright is the page turned by rotate degrees, with its letters measured (the judge
// counts how many of them a reading found).
type upright struct {
	img  *image.Gray
	text preprocess.TextSize
}

func (s *slot) read(ctx context.Context, log *slog.Logger, e Recognizer, want tesseract.Page) (reading, error) {
	var r reading
	img := want.Image
	// White type on black is inverted, so that neither the cleanup (which would take the
	// black for a scan border) nor Tesseract sees a page of ink.
	var pageSteps []pipeline.Step
	if st, inv := invertIfDark(img); inv != nil {
		img, pageSteps = inv, append(pageSteps, st)
	}
	text := preprocess.MeasureText(img)
	dpi, scale, scaleUnsure := settleScale(want.DPI, s.w.cfg.defaultDPI, text)
	r.info.Scale, r.dpi = &scale, dpi
	turned := map[int]*upright{0: {img: img, text: text}}
	turn := func(rotate int) (*upright, error) {
		if u := turned[rotate]; u != nil {
			return u, nil
		}
		t, err := preprocess.RotateOrth(img, rotate)
		if err != nil {
			return nil, fmt.Errorf("turn page upright: %w", err)
		}
		u := &upright{img: t, text: preprocess.MeasureText(t)}
		turned[rotate] = u
		return u, nil
	}
	// prepare turns the page and cleans it the way c says.
	prepare := func(rotate int, c readConfig) (candidate, error) {
		cand := candidate{rotate: rotate, cfg: c}
		u, err := turn(rotate)
		if err != nil {
			return cand, err
		}
		if c == plainRead || !s.w.cfg.preprocess {
			cand.page = u.img
			return cand, nil
		}
		cand.page, cand.steps, err = s.clean(u.img, dpi, c.binarization)
		return cand, err
	}
	// recognize reads a prepared page and judges the reading.
	recognize := func(cand candidate) (candidate, error) {
		t0 := time.Now()
		p := want
		p.Image, p.DPI, p.PSM, p.HOCR, p.ALTO, p.PDF = cand.page, dpi, cand.cfg.psm, true, true, true
		res, err := e.Read(ctx, p)
		cand.res = res
		u := turned[cand.rotate]
		cand.judged = judge(u.text, shiftBoxes(res, cand.page, u.img))
		cand.attempt = pipeline.Attempt{Config: cand.cfg.String(), MeanConfidence: res.MeanConfidence, Words: res.Words,
			DurationMS: time.Since(t0).Milliseconds(), Score: round3(cand.judged.score)}
		if cand.rotate != 0 {
			cand.attempt.Config = fmt.Sprintf("rotate=%d %s", cand.rotate, cand.attempt.Config)
		}
		if err != nil {
			return cand, fmt.Errorf("cannot read image: %w", err)
		}
		return cand, nil
	}
	try := func(rotate int, c readConfig) (candidate, error) {
		cand, err := prepare(rotate, c)
		if err != nil {
			return cand, err
		}
		return recognize(cand)
	}
	// Unsure of its words: the reading may be of a page on its side or upside down. A page
	// with no words is unsure too, unless it is blank.
	unsure := func(c candidate) bool {
		if s.w.cfg.retryBelow <= 0 {
			return false
		}
		if c.res.Words == 0 {
			return c.judged.inked()
		}
		return c.res.MeanConfidence < s.w.cfg.retryBelow
	}

	// The letters' shapes are read on black and white: the page at its one threshold
	// first, far cheaper than the cleanup; the cleaned page, made only then, when that
	// does not say clearly. The cleaned page is made for the reading cleaned otherwise.
	var cleaned *candidate
	cleanedAt := func(rotate int) (candidate, error) {
		if cleaned == nil || cleaned.rotate != rotate {
			c, err := prepare(rotate, firstRead)
			if err != nil {
				return c, err
			}
			cleaned = &c
		}
		return *cleaned, nil
	}
	// How the page lies is settled before it is read, so that a page upside down or on
	// its side is read once, turned upright. The letters' shapes tell it for Latin script
	// cheaply (docs/benchmarks.md has the costs). Where they do not say clearly (little
	// text, another script), a landscape page, often a portrait page scanned on its side,
	// is looked at by Tesseract's orientation detector, which costs far more; any
	// other page is read as it lies, and looked at only if that reading is unsure.
	detected := false
	if s.w.cfg.orient && s.w.cfg.guess != nil && latinScript(want.Langs) {
		r.info.Orientation = s.guessOrientation(log, preprocess.Threshold(img), dpi)
		if r.info.Orientation == nil && s.w.cfg.preprocess {
			c, err := cleanedAt(0)
			if err != nil {
				return r, err
			}
			r.info.Orientation = s.guessOrientation(log, c.page, dpi)
		}
		detected = r.info.Orientation != nil
	}
	if s.w.cfg.orient && !detected && landscape(img) {
		var err error
		if r.info.Orientation, err = s.orientation(ctx, log, e, img, dpi); err != nil {
			return r, err
		}
		detected = true
	}
	rotate := 0
	if o := r.info.Orientation; o != nil && o.Rotated != 0 {
		rotate = o.Rotated
	}
	first, err := try(rotate, plainRead)
	if err != nil {
		return r, err
	}
	best := first
	cands := []candidate{first} // every reading, in order; best is a copy of one of them
	keep := func(c candidate) {
		cands = append(cands, c)
		if c.judged.score > best.judged.score {
			best = c
		}
	}
	// An unsure reading of a page whose orientation was not settled, or was settled by
	// the letters' shapes to turn it, has its orientation looked at by Tesseract: a turn
	// the letters got wrong is undone here.
	turnedByGuess := r.info.Orientation != nil && r.info.Orientation.Detector == pipeline.DetectorLetterShapes && r.info.Orientation.Rotated != 0
	if unsure(best) && s.w.cfg.orient && (!detected || turnedByGuess) {
		o, err := s.orientation(ctx, log, e, best.page, dpi)
		if err != nil {
			return r, err
		}
		if !detected {
			r.info.Orientation = o
		}
		if o != nil && o.Rotated != 0 {
			// o is relative to the page as read; the turn is applied to the scan.
			rotate := (best.rotate + o.Rotated) % 360
			o.Rotated = rotate
			c, err := try(rotate, best.cfg)
			if err != nil {
				return r, err
			}
			keep(c)
			if best.rotate == rotate {
				r.info.Orientation = o
			}
		}
	}
	// Not read clearly well as it is, or some of its text left out: cleaned, and if still
	// poor with Sauvola's local thresholds, for ink whose darkness varies across the page
	// more than the background flattening evens out.
	if s.w.cfg.retryBelow > 0 && s.w.cfg.preprocess && (best.judged.score < s.w.cfg.readAgainBelow || best.judged.missed()) {
		c, err := cleanedAt(best.rotate)
		if err != nil {
			return r, err
		}
		if c, err = recognize(c); err != nil {
			return r, err
		}
		keep(c)
		if best.judged.score < s.w.cfg.localBelow {
			c, err := try(best.rotate, secondRead)
			if err != nil {
				return r, err
			}
			keep(c)
		}
	}

	r.res, r.info.PSM = best.res, int(best.cfg.psm)
	r.info.Preprocessing = append(slices.Clone(pageSteps), best.steps...)
	if best.rotate != 0 {
		r.info.Preprocessing = append([]pipeline.Step{{Name: "rotate", Params: map[string]string{"clockwise_deg": fmt.Sprint(best.rotate)}}}, r.info.Preprocessing...)
	}
	if r.info.Orientation != nil {
		r.info.Orientation.Rotated = best.rotate // what was applied to the kept reading
	}
	if len(cands) > 1 {
		for _, c := range cands {
			a := c.attempt
			a.Kept = c.attempt.Config == best.attempt.Config
			r.info.Attempts = append(r.info.Attempts, a)
		}
		log.Info("page read again", "kept", best.attempt.Config, "readings", len(cands),
			"first_score", fmt.Sprintf("%.3f", cands[0].judged.score), "kept_score", fmt.Sprintf("%.3f", best.judged.score))
	}
	var doubts []string
	if scaleUnsure {
		doubts = append(doubts, pipeline.ReviewUnsureScale)
	}
	if o := r.info.Orientation; s.w.cfg.orient && unsure(best) && (o == nil || o.Detector == pipeline.DetectorOSD && o.Confidence < MinOrientationConfidence) {
		doubts = append(doubts, pipeline.ReviewUnsureOrientation)
	}
	r.info.Quality = best.judged.quality(doubts)
	r.info.MeanConfidence, r.info.Words = r.res.MeanConfidence, r.res.Words
	ms, err := e.Models()
	if err != nil {
		return r, fmt.Errorf("identify the model: %w", err)
	}
	for _, m := range ms {
		r.models = append(r.models, pipeline.Model{Name: m.Name, SHA256: m.SHA256, Bytes: m.Bytes})
	}
	return r, nil
}

// shiftBoxes returns res with its word boxes moved from read (a cleaned page, larger than
// src when deskewing gave its corners room, centred on it) onto src.
func shiftBoxes(res tesseract.Result, read, src *image.Gray) tesseract.Result {
	dx, dy := (read.Bounds().Dx()-src.Bounds().Dx())/2, (read.Bounds().Dy()-src.Bounds().Dy())/2
	if dx == 0 && dy == 0 {
		return res
	}
	boxes := make([]image.Rectangle, len(res.Boxes))
	for i, b := range res.Boxes {
		boxes[i] = b.Sub(image.Pt(dx, dy))
	}
	res.Boxes = boxes
	return res
}

// guessOrientation reads how a black-and-white page lies from the shapes of its letters; nil
// when they do not say clearly (or cannot be measured: the page is then read as it lies).
func (s *slot) guessOrientation(log *slog.Logger, page *image.Gray, dpi int) *pipeline.Orientation {
	g, err := s.w.cfg.guess(page, dpi)
	if err != nil {
		log.Info("orientation not guessed from letter shapes", pipeline.LogError, err)
		return nil
	}
	if !g.Known {
		return nil
	}
	conf := math.Abs(g.UpConf)
	if g.Rotate == 90 || g.Rotate == 270 {
		conf = math.Abs(g.LeftConf)
	}
	return &pipeline.Orientation{Rotated: g.Rotate, Detector: pipeline.DetectorLetterShapes, Confidence: conf, UpConf: g.UpConf, LeftConf: g.LeftConf}
}

// latinScripts are the Tesseract languages written in Latin script, whose letters'
// ascenders and descenders tell which way is up.
var latinScripts = map[string]bool{
	"afr": true, "aze": true, "bos": true, "bre": true, "cat": true, "ceb": true, "ces": true,
	"cos": true, "cym": true, "dan": true, "deu": true, "enm": true, "eng": true, "epo": true,
	"est": true, "eus": true, "fao": true, "fil": true, "fin": true, "fra": true, "frk": true,
	"frm": true, "fry": true, "gla": true, "gle": true, "glg": true, "hat": true, "hrv": true,
	"hun": true, "ind": true, "isl": true, "ita": true, "ita_old": true, "jav": true, "lat": true,
	"lav": true, "lit": true, "ltz": true, "mlt": true, "mri": true, "msa": true, "nld": true,
	"nor": true, "oci": true, "pol": true, "por": true, "que": true, "ron": true, "slk": true,
	"slv": true, "spa": true, "spa_old": true, "sqi": true, "srp_latn": true, "sun": true,
	"swa": true, "swe": true, "ton": true, "tur": true, "uzb": true, "vie": true, "yor": true,
	"Latin": true,
}

// latinScript reports whether every language the page is read in is written in Latin
// script; no languages means the engine's own, English.
func latinScript(langs []string) bool {
	for _, l := range langs {
		if !latinScripts[l] {
			return false
		}
	}
	return true
}

// landscape reports whether a page is clearly wider than it is tall.
func landscape(img *image.Gray) bool {
	b := img.Bounds()
	return b.Dx()*10 > b.Dy()*12
}

// orientation detects how the page lies. It returns the rotation to apply in
// Rotated only when the detector is confident; nil when the page has too little text to
// tell.
func (s *slot) orientation(ctx context.Context, log *slog.Logger, e Recognizer, page *image.Gray, dpi int) (*pipeline.Orientation, error) {
	o, err := e.Orientation(ctx, page, dpi)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		log.Info("orientation not detected; page read as it lies", pipeline.LogError, err)
		return nil, nil
	}
	rec := &pipeline.Orientation{Detector: pipeline.DetectorOSD, Confidence: o.Confidence, Script: o.Script}
	if o.Confidence >= MinOrientationConfidence {
		rec.Rotated = o.Rotate
	}
	return rec, nil
}

// clean preprocesses the page with the given binarisation, unless preprocessing is off.
func (s *slot) clean(img *image.Gray, dpi int, b preprocess.Binarization) (*image.Gray, []pipeline.Step, error) {
	if !s.w.cfg.preprocess {
		return img, nil, nil
	}
	out, steps, err := preprocess.Clean(img, dpi, preprocess.WithBinarization(b))
	if err != nil {
		return nil, nil, fmt.Errorf("preprocess page: %w", err)
	}
	rec := make([]pipeline.Step, len(steps))
	for i, st := range steps {
		rec[i] = recordStep(st)
	}
	return out, rec, nil
}

// withEngine runs f with the slot's engine. f must stop when ctx ends; Tesseract stops at
// the next word, but not inside layout analysis, so an engine that has not returned a
// grace period after ctx ended is abandoned to finish (and be freed) in the background,
// and a fresh engine takes the slot: the page gets its answer on time and the worker keeps
// its concurrency.
func (s *slot) withEngine(ctx context.Context, f func(Recognizer) error) error {
	done := make(chan error, 1)
	engine := s.engine
	go func() { done <- f(engine) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := time.NewTimer(abandonGrace)
	defer grace.Stop()
	select {
	case err := <-done:
		return err
	case <-grace.C:
		go func() {
			<-done
			_ = engine.Close()
		}()
		s.log.Warn("OCR engine did not stop in time; replaced", "grace", abandonGrace.String())
		s.engine = s.loadEngine()
		return ctx.Err()
	}
}

// abandonGrace is how long an engine has to stop after its page's time is up.
var abandonGrace = 10 * time.Second
