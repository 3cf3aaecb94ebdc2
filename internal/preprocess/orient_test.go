package preprocess

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/colophon-archive/colophon/internal/degrade"
	"github.com/colophon-archive/colophon/internal/imageinfo"
)

// guessTurned cleans img, turns it by each quarter turn and checks the guess
// is never wrong; it returns how many of the four turns the guess was sure of.
// upright is the clockwise turn that brings img itself upright.
func guessTurned(t *testing.T, name string, img *image.Gray, dpi, upright int) int {
	t.Helper()
	clean, _, err := Clean(img, dpi)
	if err != nil {
		t.Fatalf("%s: clean: %v", name, err)
	}
	known := 0
	for _, turn := range []int{0, 90, 180, 270} {
		turned, err := RotateOrth(clean, turn)
		if err != nil {
			t.Fatal(err)
		}
		o, err := GuessOrientation(turned, dpi)
		if err != nil {
			t.Fatalf("%s turned %d: %v", name, turn, err)
		}
		want := ((upright-turn)%360 + 360) % 360
		switch {
		case o.Known && o.Rotate != want:
			t.Errorf("%s turned %d: guessed a turn of %d (up %.1f, left %.1f), want %d", name, turn, o.Rotate, o.UpConf, o.LeftConf, want)
		case !o.Known && o.Rotate != 0:
			t.Errorf("%s turned %d: not known, yet a turn of %d", name, turn, o.Rotate)
		case o.Known:
			known++
		}
	}
	return known
}

// The letters' shapes tell how a page lies whatever was done to it: every
// degradation of the benchmark, each page turned every way. A wrong guess
// costs a page a second reading, so the guess must never be wrong; it may be
// unsure.
func TestGuessOrientationDegraded(t *testing.T) {
	pages, err := degrade.Pages(degrade.Options{Texts: degrade.Texts()[:2]})
	if err != nil {
		t.Fatal(err)
	}
	known, all := 0, 0
	for _, p := range pages {
		t.Run(p.Name, func(t *testing.T) {
			img, info, err := imageinfo.Decode(p.File, imageinfo.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			upright := p.Degradation.Turn // turned counter-clockwise: as far clockwise brings it back
			known += guessTurned(t, p.Name, img, info.DPI, upright)
			all += 4
		})
	}
	// Measured: sure of 79 of 80 (a speckled newsletter turned 180 is the one).
	if known < all*9/10 {
		t.Errorf("sure of %d of %d turned pages; want at least 90%%", known, all)
	}
}

// The real scans: old books binarised by their publisher, and Tesseract's own
// test pages.
func TestGuessOrientationCorpus(t *testing.T) {
	var files []string
	for _, pat := range []string{"old-books/*.tif*", "tesseract-test/*.tif*"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skipf("no corpus at %s", corpusDir)
	}
	known, all := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, info, err := imageinfo.Decode(data, imageinfo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		dpi := info.DPI
		if dpi < minDPI { // the old books' TIFFs say 1 dpi; they are 300
			dpi = 300
		}
		known += guessTurned(t, filepath.Base(f), img, dpi, 0)
		all += 4
	}
	if known < all*9/10 {
		t.Errorf("sure of %d of %d turned pages; want at least 90%%", known, all)
	}
}

// Pages with no text to speak of leave the guess unsure, never turned.
func TestGuessOrientationNoText(t *testing.T) {
	tests := []struct {
		name string
		img  *image.Gray
	}{
		{"blank", blank(1240, 1754, 255)},
		{"all ink", blank(1240, 1754, 0)},
		{"a few words", func() *image.Gray {
			img, _ := render(t, "Box 12.", 1240, 1754, 300)
			return img
		}()},
	}
	for _, tt := range tests {
		for _, turn := range []int{0, 180} {
			img, err := RotateOrth(tt.img, turn)
			if err != nil {
				t.Fatal(err)
			}
			o, err := GuessOrientation(img, 300)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if o.Known || o.Rotate != 0 {
				t.Errorf("%s turned %d: %+v, want unsure and no turn", tt.name, turn, o)
			}
		}
	}
}

func TestGuessOrientationRefusesBadInput(t *testing.T) {
	for _, tt := range []struct {
		img *image.Gray
		dpi int
	}{{nil, 300}, {blank(10, 10, 255), 10}, {&image.Gray{Rect: image.Rect(0, 0, 100, 100), Stride: 100}, 300}} {
		if _, err := GuessOrientation(tt.img, tt.dpi); err == nil {
			t.Errorf("%s: no error", fmt.Sprint(tt.dpi))
		}
	}
}

func TestDecideOrientation(t *testing.T) {
	tests := []struct {
		up, left float64
		known    bool
		rotate   int
	}{
		{30, 1, true, 0},
		{-30, 1, true, 180},
		{1, 30, true, 90},
		{1, -30, true, 270},
		{7.9, 0, false, 0},     // too weak
		{20, 10, false, 0},     // neither clearly beats the other
		{-12.5, 5.6, false, 0}, // a speckled page turned 180: 12.5 is not 2.5 times 5.6
		{8, 3.1, true, 0},
	}
	for _, tt := range tests {
		o := decideOrientation(tt.up, tt.left)
		if o.Known != tt.known || o.Rotate != tt.rotate || o.UpConf != tt.up || o.LeftConf != tt.left {
			t.Errorf("up %.1f left %.1f: %+v, want known %v rotate %d", tt.up, tt.left, o, tt.known, tt.rotate)
		}
	}
}
