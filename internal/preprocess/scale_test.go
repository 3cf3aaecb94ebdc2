package preprocess

import (
	"image"
	"testing"
)

// TestMeasureText measures the text of one page rendered at several resolutions: the
// resolution it implies follows the true one, whatever a header would say.
func TestMeasureText(t *testing.T) {
	text := sampleText(t)
	var at300 float64
	for _, dpi := range []int{300, 200, 150, 110} {
		img, _ := render(t, text, 1748*dpi/300, 2480*dpi/300, dpi)
		ts := MeasureText(img)
		if dpi == 300 {
			at300 = ts.XHeightPx
		}
		t.Logf("%d dpi: x-height %.1f px, %d letters, measured %d dpi", dpi, ts.XHeightPx, ts.Letters, ts.DPI)
		if ts.DPI == 0 || ts.Letters < minLetters || len(ts.Boxes) == 0 {
			t.Fatalf("%d dpi: %+v letters, nothing measured", dpi, ts.Letters)
		}
		// The x-height scales with the resolution, within a pixel's rounding.
		if want := at300 * float64(dpi) / 300; ts.XHeightPx < want-1.5 || ts.XHeightPx > want+1.5 {
			t.Errorf("%d dpi: x-height %.1f px, want about %.1f", dpi, ts.XHeightPx, want)
		}
		if ts.DPI < dpi*2/3 || ts.DPI > dpi*3/2 {
			t.Errorf("%d dpi page measured at %d dpi", dpi, ts.DPI)
		}
	}
	tests := []struct {
		name string
		img  *image.Gray
	}{
		{"blank", blank(800, 1000, 240)},
		{"all ink", blank(800, 1000, 10)},
		{"tiny", blank(10, 10, 255)},
	}
	for _, tt := range tests {
		if ts := MeasureText(tt.img); ts.DPI != 0 || ts.Letters != 0 || len(ts.Boxes) != 0 {
			t.Errorf("%s page: %+v, want nothing measured", tt.name, ts)
		}
	}
}

func TestInvertIfDark(t *testing.T) {
	page, _ := render(t, sampleText(t), 874, 1240, 150)
	neg := image.NewGray(page.Rect)
	for i, v := range page.Pix {
		neg.Pix[i] = 255 - v
	}
	if inv, st := InvertIfDark(page); inv != nil || st != nil {
		t.Errorf("dark type on white inverted: %+v", st)
	}
	inv, st := InvertIfDark(neg)
	if inv == nil || st == nil || st.Name != StepInvert || st.Params["dark_pct"] == "" {
		t.Fatalf("a negative not inverted: %+v", st)
	}
	for i := range page.Pix {
		if inv.Pix[i] != page.Pix[i] {
			t.Fatalf("pixel %d: %d after inverting the negative, %d on the page", i, inv.Pix[i], page.Pix[i])
		}
	}
	for _, img := range []*image.Gray{blank(100, 100, 0), blank(100, 100, 255)} {
		if inv, _ := InvertIfDark(img); inv != nil {
			t.Errorf("a page of one tone (%d) inverted", img.Pix[0])
		}
	}
}

// A dark region over much of the page is not a scan border: it is recorded and left.
func TestBorderNeverTakesThePage(t *testing.T) {
	page, _ := render(t, sampleText(t), 874, 1240, 150)
	// A dark photograph from the left edge across 45% of the page.
	photo := image.NewGray(page.Rect)
	copy(photo.Pix, page.Pix)
	for y := range photo.Rect.Dy() {
		for x := range photo.Rect.Dx() * 45 / 100 {
			photo.Pix[y*photo.Stride+x] = 40
		}
	}
	_, steps, err := Clean(photo, 150)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := stepNamed(steps, StepBorder)
	if !ok || st.Params["applied"] != "false" || st.Params["why"] == "" {
		t.Errorf("border step %+v on a page half photograph, want recorded as not applied", st)
	}
	// A real border round the page is still painted out.
	_, steps, err = Clean(bordered(page, 40, 1), 150)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := stepNamed(steps, StepBorder); !ok || st.Params["applied"] == "false" {
		t.Errorf("border step %+v on a bordered page, want applied", st)
	}
}
