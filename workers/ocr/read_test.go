package ocr

import (
	"context"
	"image"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/pipeline"
)

// scripted is a Recognizer that reads a page as well as its orientation and binarisation
// deserve: confident only when the page has been turned upright, and the readings it was
// asked for are kept. Its orientation detector is always right.
type scripted struct {
	conf      float64 // confidence of a reading of the upright page
	orientErr error
	reads     []tesseract.Page
	orients   int
}

func (s *scripted) Load() error { return nil }
func (s *scripted) Models() ([]tesseract.Model, error) {
	return []tesseract.Model{{Name: "eng.traineddata", SHA256: strings.Repeat("ab", 32), Bytes: 4}}, nil
}
func (s *scripted) Close() error { return nil }
func (s *scripted) Orientation(_ context.Context, img *image.Gray, _ int) (tesseract.Orientation, error) {
	s.orients++
	// The turn that brings the marked corner of the page as given to the top left.
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	rotate := 0
	switch {
	case img.Pix[(h-1)*img.Stride] == 1:
		rotate = 90
	case img.Pix[(h-1)*img.Stride+w-1] == 1:
		rotate = 180
	case img.Pix[w-1] == 1:
		rotate = 270
	}
	return tesseract.Orientation{Rotate: rotate, Confidence: 12, Script: "Latin"}, s.orientErr
}
func (s *scripted) Read(_ context.Context, p tesseract.Page) (tesseract.Result, error) {
	s.reads = append(s.reads, p)
	// The page is marked by its top-left pixel: 1 when it has been turned upright.
	if p.Image.Pix[0] == 1 {
		return tesseract.Result{Text: "upright\n", MeanConfidence: s.conf, Words: 100, LetterWords: 100, KnownWords: 100}, nil
	}
	return tesseract.Result{Text: "garbage\n", MeanConfidence: 35, Words: 90, LetterWords: 90, KnownWords: 5}, nil
}

// markedPage is a w x h page whose corner that ends up top-left after turning it by
// upright degrees clockwise is marked 1.
func markedPage(w, h, upright int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	switch upright {
	case 0:
		img.Pix[0] = 1
	case 90: // the bottom-left corner comes to the top left
		img.Pix[(h-1)*img.Stride] = 1
	case 180:
		img.Pix[(h-1)*img.Stride+w-1] = 1
	case 270: // the top-right corner comes to the top left
		img.Pix[w-1] = 1
	}
	return img
}

func TestRead(t *testing.T) {
	// What the letters' shapes say of a page (nil: no guess is made).
	letters := func(rotate int, known bool) *preprocess.Orientation {
		return &preprocess.Orientation{Rotate: rotate, Known: known, UpConf: 25}
	}
	tests := []struct {
		name        string
		w, h        int
		upright     int
		conf        float64
		guess       *preprocess.Orientation
		langs       []string
		wantText    string
		wantReads   int
		wantOrients int
		wantRotated int    // -1: no orientation in the record
		wantBy      string // the detector recorded
		wantConfigs []string
	}{
		{"upright page: one reading", 40, 60, 0, 95, nil, nil, "upright\n", 1, 0, -1, "", nil},
		{"upside down: read, turned, read", 40, 60, 180, 95, nil, nil, "upright\n", 2, 1, 180, pipeline.DetectorOSD,
			[]string{"binarize=none psm=3", "rotate=180 binarize=none psm=3"}},
		{"on its side (landscape): turned first, read once", 60, 40, 270, 95, nil, nil, "upright\n", 1, 1, 270, pipeline.DetectorOSD, nil},
		{"upright but faint: read cleaned, then with Sauvola", 40, 60, 0, 50, nil, nil, "upright\n", 3, 1, 0, pipeline.DetectorOSD,
			[]string{"binarize=none psm=3", "binarize=otsu psm=3", "binarize=sauvola psm=3"}},
		{"upright, a little faint: read cleaned only", 40, 60, 0, 68, nil, nil, "upright\n", 2, 1, 0, pipeline.DetectorOSD,
			[]string{"binarize=none psm=3", "binarize=otsu psm=3"}},

		{"letters say upright: one reading, no detector", 40, 60, 0, 95, letters(0, true), nil, "upright\n", 1, 0, 0, pipeline.DetectorLetterShapes, nil},
		{"letters say upside down: turned first, read once", 40, 60, 180, 95, letters(180, true), nil, "upright\n", 1, 0, 180, pipeline.DetectorLetterShapes, nil},
		{"letters say on its side (portrait): turned first, read once", 40, 60, 90, 95, letters(90, true), []string{"eng", "fra"}, "upright\n", 1, 0, 90, pipeline.DetectorLetterShapes, nil},
		{"letters say upright, faint: cleaned and Sauvola next, no detector", 40, 60, 0, 50, letters(0, true), nil, "upright\n", 3, 0, 0, pipeline.DetectorLetterShapes,
			[]string{"binarize=none psm=3", "binarize=otsu psm=3", "binarize=sauvola psm=3"}},
		{"letters unsure: as without them", 40, 60, 180, 95, letters(0, false), nil, "upright\n", 2, 1, 180, pipeline.DetectorOSD,
			[]string{"binarize=none psm=3", "rotate=180 binarize=none psm=3"}},
		{"letters turned it wrong: Tesseract's detector undoes it", 40, 60, 0, 95, letters(180, true), nil, "upright\n", 2, 1, 0, pipeline.DetectorOSD,
			[]string{"rotate=180 binarize=none psm=3", "binarize=none psm=3"}},
		{"another script: letters not asked", 40, 60, 180, 95, letters(0, true), []string{"rus"}, "upright\n", 2, 1, 180, pipeline.DetectorOSD,
			[]string{"binarize=none psm=3", "rotate=180 binarize=none psm=3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &scripted{conf: tt.conf}
			w := &Worker{cfg: testConfig()}
			guesses := 0
			if tt.guess != nil {
				w.cfg.guess = func(*image.Gray, int) (preprocess.Orientation, error) {
					guesses++
					return *tt.guess, nil
				}
			}
			langs := tt.langs
			if langs == nil {
				langs = []string{"eng"}
			}
			s := &slot{w: w, log: slog.New(slog.NewTextHandler(io.Discard, nil)), engine: rec}
			r, err := s.readPage(context.Background(), s.log, tesseract.Page{Image: markedPage(tt.w, tt.h, tt.upright), DPI: 300, Number: 1, Langs: langs, Title: "t"})
			if err != nil {
				t.Fatal(err)
			}
			if r.res.Text != tt.wantText || len(rec.reads) != tt.wantReads || rec.orients != tt.wantOrients {
				t.Errorf("text %q, %d readings, %d orientation looks; want %q, %d, %d", r.res.Text, len(rec.reads), rec.orients, tt.wantText, tt.wantReads, tt.wantOrients)
			}
			// Unsure on the page at its one threshold, the letters are looked at again on
			// the cleaned page.
			if want := map[bool]int{true: 1, false: 2}[tt.guess != nil && tt.guess.Known]; tt.guess != nil && latinScript(langs) && guesses != want {
				t.Errorf("letters looked at %d times, want %d", guesses, want)
			}
			switch o := r.info.Orientation; {
			case tt.wantRotated < 0 && o != nil:
				t.Errorf("orientation %+v, want none", o)
			case tt.wantRotated >= 0 && (o == nil || o.Rotated != tt.wantRotated || o.Detector != tt.wantBy):
				t.Errorf("orientation %+v, want rotated %d by %s", o, tt.wantRotated, tt.wantBy)
			}
			var configs []string
			kept := 0
			for _, a := range r.info.Attempts {
				configs = append(configs, a.Config)
				if a.Kept {
					kept++
				}
			}
			if strings.Join(configs, "|") != strings.Join(tt.wantConfigs, "|") || (len(configs) > 0 && kept != 1) {
				t.Errorf("attempts %+v, want configs %v with one kept", r.info.Attempts, tt.wantConfigs)
			}
			if len(r.models) != 1 || r.models[0].Name != "eng.traineddata" {
				t.Errorf("models %+v", r.models)
			}
			for _, p := range rec.reads {
				if !p.HOCR || !p.ALTO || !p.PDF || p.Number != 1 {
					t.Errorf("a reading without every output: %+v", p)
				}
			}
		})
	}
}

// testConfig is the worker's reading configuration as New makes it, with no letter guess.
func testConfig() config {
	return config{preprocess: true, orient: true, retryBelow: DefaultRetryBelow, readAgainBelow: readAgainBelow, localBelow: localBelow,
		pageTimeout: DefaultPageTimeout, defaultDPI: 300}
}
