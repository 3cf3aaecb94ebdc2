package ocr

import (
	"context"
	"image"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

func TestMain(m *testing.M) {
	// Re-exec with OMP_THREAD_LIMIT=1: Tesseract takes ~8 s a page otherwise.
	if err := tesseract.EnsureSingleThreaded(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// TestReadWithTesseract runs the reading logic with real Tesseract and Leptonica on a real
// page: the orientation guess, the fall-back to Tesseract's orientation detector, and the
// second reading of an unsure page, each recorded.
func TestReadWithTesseract(t *testing.T) {
	if testing.Short() {
		t.Skip("reads pages with Tesseract")
	}
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	upright, _, err := imageinfo.Decode(pages[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	upsideDown, err := preprocess.RotateOrth(upright, 180)
	if err != nil {
		t.Fatal(err)
	}
	engine := tesseract.New("eng")
	t.Cleanup(func() { _ = engine.Close() })

	tests := []struct {
		name        string
		img         *image.Gray
		letters     bool   // guess orientation from the letters' shapes
		held        bool   // hold the first reading poor, so it is read cleaned and with Sauvola
		wantBy      string // the orientation detector in the record; "" for none
		wantRotated int
		wantConfigs []string // the readings recorded, in order; nil for one reading
	}{
		{"upside down, letters looked at: turned first, read once", upsideDown, true, false,
			pipeline.DetectorLetterShapes, 180, nil},
		{"upside down, letters not looked at: read, detected, turned, read", upsideDown, false, false,
			pipeline.DetectorOSD, 180, []string{"binarize=none psm=3", "rotate=180 binarize=none psm=3"}},
		{"upright but held poor: read as it is, cleaned, then with Sauvola", upright, true, true,
			pipeline.DetectorLetterShapes, 0, []string{"binarize=none psm=3", "binarize=otsu psm=3", "binarize=sauvola psm=3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Worker{cfg: testConfig()}
			if tt.held {
				w.cfg.readAgainBelow, w.cfg.localBelow = 1.01, 1.01
			}
			if tt.letters {
				w.cfg.guess = preprocess.GuessOrientation
			}
			s := &slot{w: w, log: slog.New(slog.NewTextHandler(io.Discard, nil)), engine: engine}
			r, err := s.readPage(context.Background(), s.log, tesseract.Page{Image: tt.img, DPI: 300, Number: 1, Langs: []string{"eng"}, Title: "t"})
			if err != nil {
				t.Fatal(err)
			}
			if cer := textmetrics.CER(r.res.Text, pages[0].Text); cer > 0.01 {
				t.Errorf("CER %.4f, want at most 0.01", cer)
			}
			if o := r.info.Orientation; o == nil || o.Detector != tt.wantBy || o.Rotated != tt.wantRotated {
				t.Errorf("orientation %+v, want turned %d by %s", o, tt.wantRotated, tt.wantBy)
			}
			var configs []string
			var kept *pipeline.Attempt
			for i, a := range r.info.Attempts {
				configs = append(configs, a.Config)
				if a.Kept {
					if kept != nil {
						t.Errorf("two readings kept: %+v", r.info.Attempts)
					}
					kept = &r.info.Attempts[i]
				}
				if a.Words == 0 || a.DurationMS <= 0 {
					t.Errorf("reading %q recorded without words or time: %+v", a.Config, a)
				}
			}
			if strings.Join(configs, "|") != strings.Join(tt.wantConfigs, "|") {
				t.Errorf("readings %q, want %q", configs, tt.wantConfigs)
			}
			if len(configs) > 0 && (kept == nil || kept.MeanConfidence != r.info.MeanConfidence || kept.Words != r.info.Words || kept.Score != r.info.Quality.Score) {
				t.Errorf("kept reading %+v does not match the page's confidence %.1f and words %d", kept, r.info.MeanConfidence, r.info.Words)
			}
			if q := r.info.Quality; q == nil || q.Verdict != pipeline.VerdictOK || q.Score < reviewBelow {
				t.Errorf("quality %+v, want ok", q)
			}
			if sc := r.info.Scale; sc == nil || sc.DeclaredDPI != 300 || r.dpi != 300 {
				t.Errorf("scale %+v at %d dpi, want 300 declared and taken", sc, r.dpi)
			}
			if len(r.res.HOCR) == 0 || len(r.res.ALTO) == 0 || len(r.res.PDF) == 0 {
				t.Errorf("outputs missing: hOCR %d, ALTO %d, PDF %d bytes", len(r.res.HOCR), len(r.res.ALTO), len(r.res.PDF))
			}
		})
	}
}
