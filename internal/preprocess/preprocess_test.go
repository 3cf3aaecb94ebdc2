package preprocess

import (
	"encoding/json"
	"errors"
	"image"
	"math/rand/v2"
	"strings"
	"testing"
)

// Odd pages must come back cleaned or unchanged, never crash or error.
func TestCleanOddPages(t *testing.T) {
	text := sampleText(t)
	page, _ := render(t, text, 900, 560, 300)
	noise := image.NewGray(image.Rect(0, 0, 300, 300))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	// A sub-image: offset bounds, stride wider than a row.
	sub := page.SubImage(image.Rect(100, 50, 500, 300)).(*image.Gray)

	cases := []struct {
		name string
		img  *image.Gray
		dpi  int
	}{
		{"1x1 white", blank(1, 1, 255), 300},
		{"1x1 black", blank(1, 1, 0), 300},
		{"2x1 black and white", &image.Gray{Pix: []uint8{0, 255}, Stride: 2, Rect: image.Rect(0, 0, 2, 1)}, 300},
		{"one row", stripes(5000, 1), 300},
		{"one column", stripes(1, 5000), 300},
		{"7x7", stripes(7, 7), 300},
		{"17x17", stripes(17, 17), 300},
		{"very wide", stripes(60000, 24), 300},
		{"very tall", stripes(24, 60000), 300},
		{"all white", blank(800, 600, 255), 300},
		{"all black", blank(800, 600, 0), 300},
		{"mid grey", blank(800, 600, 128), 300},
		{"random noise", noise, 300},
		{"sub-image", sub, 300},
		{"text at 50 dpi", page, 50},
		{"text at 4800 dpi", page, 4800},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.img.Bounds()
			before := append([]uint8(nil), c.img.Pix...)
			out, steps, err := Clean(c.img, c.dpi)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			if string(before) != string(c.img.Pix) {
				t.Error("Clean modified its input")
			}
			ob := out.Bounds()
			if ob.Min != (image.Point{}) || ob.Dx() < b.Dx() || ob.Dy() < b.Dy() {
				t.Errorf("output bounds %v for input %v", ob, b)
			}
			if len(steps) == 0 && !sameImage(out, c.img) {
				t.Error("no steps recorded, but the page changed")
			}
			if _, ok := stepNamed(steps, StepBinarize); ok {
				wantBinary(t, out)
			}
			t.Logf("%v -> %v; steps %v", b.Size(), ob.Size(), steps)
		})
	}
}

// Blank pages, and pages all ink, pass through: nothing to read, and
// stretching their grain would only make specks.
func TestCleanPassesBlankPagesThrough(t *testing.T) {
	for _, v := range []uint8{0, 128, 255} {
		img := blank(500, 700, v)
		img.Pix[12345] = v ^ 0x10 // a little grain
		out, steps, err := Clean(img, 300)
		if err != nil || len(steps) != 0 || !sameImage(out, img) {
			t.Errorf("page of %d: steps %v, err %v, unchanged %v", v, steps, err, sameImage(out, img))
		}
	}
}

func TestCleanRefusesBadInput(t *testing.T) {
	good := blank(10, 10, 255)
	cases := []struct {
		name string
		img  *image.Gray
		dpi  int
		opts []Option
		want string
	}{
		{"nil image", nil, 300, nil, "nil image"},
		{"empty image", image.NewGray(image.Rect(0, 0, 0, 5)), 300, nil, "empty"},
		{"no dpi", good, 0, nil, "resolution"},
		{"absurd dpi", good, 100000, nil, "resolution"},
		{"short buffer", &image.Gray{Pix: make([]uint8, 10), Stride: 10, Rect: image.Rect(0, 0, 10, 10)}, 300, nil, "too short"},
		{"stride below width", &image.Gray{Pix: make([]uint8, 100), Stride: 5, Rect: image.Rect(0, 0, 10, 10)}, 300, nil, "stride"},
		{"unknown binarization", good, 300, []Option{WithBinarization("magic")}, "binarization"},
		{"unknown step", good, 300, []Option{Without("sharpen")}, "step"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := Clean(c.img, c.dpi, c.opts...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
			if out != nil {
				t.Error("an image came back with the error")
			}
		})
	}
}

// The options change what is done, and the steps say so.
func TestCleanOptions(t *testing.T) {
	text := sampleText(t)
	page, _ := render(t, text, 1748, 900, 300)
	page = bordered(faded(skewed(page, 3), 100, 210, 0.2), 90, 1)
	cases := []struct {
		name   string
		opts   []Option
		want   []string // step names, in order
		binary bool
		method string
	}{
		{"default", nil, []string{StepBorder, StepNormalize, StepBinarize, StepDespeckle, StepDeskew}, true, "otsu"},
		{"sauvola", []Option{WithBinarization(Sauvola)}, []string{StepBorder, StepNormalize, StepBinarize, StepDespeckle, StepDeskew}, true, "sauvola"},
		{"grey", []Option{WithBinarization(NoBinarization)}, []string{StepBorder, StepNormalize, StepDeskew}, false, ""},
		{"no binarize step", []Option{Without(StepBinarize)}, []string{StepBorder, StepNormalize, StepDeskew}, false, ""},
		{"without border and deskew", []Option{Without(StepBorder, StepDeskew)}, []string{StepNormalize, StepBinarize, StepDespeckle}, true, "otsu"},
		{"without all but binarize", []Option{Without(StepBorder, StepNormalize, StepDeskew, StepDespeckle)}, []string{StepBinarize}, true, "otsu"},
		{"nothing at all", []Option{WithBinarization(NoBinarization), Without(StepBorder, StepNormalize, StepDeskew)}, nil, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, steps, err := Clean(page, 300, c.opts...)
			if err != nil {
				t.Fatalf("Clean: %v", err)
			}
			var names []string
			for _, s := range steps {
				names = append(names, s.Name)
			}
			if strings.Join(names, ",") != strings.Join(c.want, ",") {
				t.Errorf("steps %v, want %v", names, c.want)
			}
			if c.binary {
				wantBinary(t, out)
				if s, _ := stepNamed(steps, StepBinarize); s.Params["method"] != c.method {
					t.Errorf("binarize method %q, want %q", s.Params["method"], c.method)
				}
			} else if isBinary(out) {
				t.Error("a grey page came back black and white")
			}
			if _, ok := stepNamed(steps, StepBorder); ok {
				wantWhiteEdges(t, out)
			}
			if len(c.want) == 0 && !sameImage(out, page) {
				t.Error("nothing done, but the page changed")
			}
		})
	}
}

// Steps go into the provenance record as JSON.
func TestStepJSON(t *testing.T) {
	b, err := json.Marshal([]Step{{Name: StepDeskew, Params: map[string]string{"angle_deg": "-2.35"}}, {Name: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"name":"deskew","params":{"angle_deg":"-2.35"}},{"name":"x"}]`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); v == "" || strings.HasPrefix(v, "leptonica") {
		t.Errorf("Version() = %q, want a bare version such as 1.82.0", v)
	}
}

// stripes is a w x h page of dark and light bands, 3 px each way.
func stripes(w, h int) *image.Gray {
	img := blank(w, h, 240)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x/3+y/3)%2 == 0 {
				img.Pix[y*img.Stride+x] = 20
			}
		}
	}
	return img
}

// sameImage compares pixels, whatever the bounds' origin and stride.
func sameImage(a, b *image.Gray) bool {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return false
	}
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			if a.GrayAt(ab.Min.X+x, ab.Min.Y+y) != b.GrayAt(bb.Min.X+x, bb.Min.Y+y) {
				return false
			}
		}
	}
	return true
}

func isBinary(img *image.Gray) bool {
	for _, v := range img.Pix {
		if v != 0 && v != 255 {
			return false
		}
	}
	return true
}

// With every other step off, a global threshold T must make exactly the
// pixels below T ink: this pins down the packed 8-pixels-at-a-time loop, its
// tail on widths that are not a multiple of 8, and sub-image strides.
func TestThresholdIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	full := image.NewGray(image.Rect(0, 0, 1250, 61))
	for i := range full.Pix {
		full.Pix[i] = uint8(rng.IntN(256))
	}
	only := []Option{WithBinarization(Otsu), Without(StepBorder, StepNormalize, StepDeskew, StepDespeckle)}
	for _, img := range []*image.Gray{
		full,
		full.SubImage(image.Rect(3, 5, 1240, 60)).(*image.Gray), // odd width, offset, wide stride
	} {
		out, steps, err := Clean(img, 300, only...)
		if err != nil {
			t.Fatalf("Clean: %v", err)
		}
		level := int(param(t, steps, StepBinarize, "threshold"))
		b := img.Bounds()
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				in := int(img.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
				want := uint8(255)
				if in < level {
					want = 0
				}
				if got := out.GrayAt(x, y).Y; got != want {
					t.Fatalf("%v: pixel (%d,%d) = %d -> %d, threshold %d", b, x, y, in, got, level)
				}
			}
		}
	}
}

// wantWhiteEdges checks the outermost rows and columns of a cleaned page whose
// margins (and borders, once removed) are paper: no dark strip may be left
// where a map or mask fell short of the page's edge.
func wantWhiteEdges(t *testing.T, img *image.Gray) {
	t.Helper()
	b := img.Bounds()
	for _, p := range []image.Rectangle{
		image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+1), image.Rect(b.Min.X, b.Max.Y-1, b.Max.X, b.Max.Y),
		image.Rect(b.Min.X, b.Min.Y, b.Min.X+1, b.Max.Y), image.Rect(b.Max.X-1, b.Min.Y, b.Max.X, b.Max.Y),
	} {
		for y := p.Min.Y; y < p.Max.Y; y++ {
			for x := p.Min.X; x < p.Max.X; x++ {
				if v := img.GrayAt(x, y).Y; v < 128 {
					t.Fatalf("edge pixel (%d,%d) of %v is %d, want paper", x, y, b, v)
				}
			}
		}
	}
}

// Workers clean pages in parallel: Clean must give the same page from any
// goroutine (Leptonica keeps no state between calls).
func TestCleanConcurrently(t *testing.T) {
	text := sampleText(t)
	page, _ := render(t, text, 1000, 700, 300)
	page = faded(skewed(page, 2), 100, 210, 0.2)
	want, _, err := Clean(page, 300)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for range 3 {
				got, _, err := Clean(page, 300)
				if err == nil && !sameImage(got, want) {
					err = errors.New("a different page from a concurrent Clean")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
