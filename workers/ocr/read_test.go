package ocr

import (
	"context"
	"image"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/tesseract"
)

// scripted is a Recognizer that reads a page as well as its orientation and binarisation
// deserve: confident only when the page has been turned by want, and the readings it was
// asked for are kept.
type scripted struct {
	upright   int     // the clockwise turn that makes the page upright
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
func (s *scripted) Orientation(_ context.Context, _ *image.Gray, _ int) (tesseract.Orientation, error) {
	s.orients++
	return tesseract.Orientation{Rotate: s.upright, Confidence: 12, Script: "Latin"}, s.orientErr
}
func (s *scripted) Read(_ context.Context, p tesseract.Page) (tesseract.Result, error) {
	s.reads = append(s.reads, p)
	// The page is marked by its top-left pixel: 1 when it has been turned upright.
	if p.Image.Pix[0] == 1 {
		return tesseract.Result{Text: "upright\n", MeanConfidence: s.conf, Words: 100}, nil
	}
	return tesseract.Result{Text: "garbage\n", MeanConfidence: 35, Words: 90}, nil
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
	tests := []struct {
		name        string
		w, h        int
		upright     int
		conf        float64
		wantText    string
		wantReads   int
		wantOrients int
		wantRotated int // -1: no orientation in the record
		wantConfigs []string
	}{
		{"upright page: one reading", 40, 60, 0, 95, "upright\n", 1, 0, -1, nil},
		{"upside down: read, turned, read", 40, 60, 180, 95, "upright\n", 2, 1, 180,
			[]string{"binarize=sauvola psm=3", "rotate=180 binarize=sauvola psm=3"}},
		{"on its side (landscape): turned first, read once", 60, 40, 270, 95, "upright\n", 1, 1, 270, nil},
		{"upright but faint: read again with Otsu, better kept", 40, 60, 0, 60, "upright\n", 2, 1, 0,
			[]string{"binarize=sauvola psm=3", "binarize=otsu psm=3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &scripted{upright: tt.upright, conf: tt.conf}
			w := &Worker{cfg: config{orient: true, retryBelow: DefaultRetryBelow, pageTimeout: DefaultPageTimeout}}
			s := &slot{w: w, log: slog.New(slog.NewTextHandler(io.Discard, nil)), engine: rec}
			r, err := s.readPage(context.Background(), s.log, tesseract.Page{Image: markedPage(tt.w, tt.h, tt.upright), DPI: 300, Number: 1, Langs: []string{"eng"}, Title: "t"})
			if err != nil {
				t.Fatal(err)
			}
			if r.res.Text != tt.wantText || len(rec.reads) != tt.wantReads || rec.orients != tt.wantOrients {
				t.Errorf("text %q, %d readings, %d orientation looks; want %q, %d, %d", r.res.Text, len(rec.reads), rec.orients, tt.wantText, tt.wantReads, tt.wantOrients)
			}
			switch o := r.info.Orientation; {
			case tt.wantRotated < 0 && o != nil:
				t.Errorf("orientation %+v, want none", o)
			case tt.wantRotated >= 0 && (o == nil || o.Rotated != tt.wantRotated):
				t.Errorf("orientation %+v, want rotated %d", o, tt.wantRotated)
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

func TestBetter(t *testing.T) {
	r := func(conf float64, words int) tesseract.Result {
		return tesseract.Result{MeanConfidence: conf, Words: words}
	}
	tests := []struct {
		name string
		a, b tesseract.Result
		want bool
	}{
		{"more confident, as many words", r(90, 100), r(60, 100), true},
		{"less confident", r(50, 100), r(60, 100), false},
		{"more confident but far fewer words", r(95, 10), r(60, 100), false},
		{"more confident, a few fewer words", r(95, 80), r(60, 100), true},
		{"anything beats nothing", r(20, 3), r(0, 0), true},
		{"nothing beats nothing", r(0, 0), r(0, 0), false},
	}
	for _, tt := range tests {
		if got := better(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: better = %v", tt.name, got)
		}
	}
}
