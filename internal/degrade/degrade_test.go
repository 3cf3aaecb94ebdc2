package degrade

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
)

// Tests work on SmokeText on a small page at 200 dpi (the lowest that combined's 200 dpi
// scan allows), to keep them fast: imaging's blur takes about a second on an A5 page.
const (
	testDPI      = 200
	testW, testH = 700, 520
)

// smallPage is SmokeText on a small page, rendered once.
var smallPage = sync.OnceValues(func() (*image.Gray, error) {
	img, _, err := Render(SmokeText, testDPI, testW, testH)
	return img, err
})

func page(t *testing.T) *image.Gray {
	t.Helper()
	img, err := smallPage()
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func decode(t *testing.T, b []byte) (*image.Gray, imageinfo.Info) {
	t.Helper()
	g, info, err := imageinfo.Decode(b, imageinfo.Limits{})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return g, info
}

// ink counts pixels darker than mid-grey.
func ink(g *image.Gray) int {
	n := 0
	for y := range g.Rect.Dy() {
		for _, v := range g.Pix[y*g.Stride : y*g.Stride+g.Rect.Dx()] {
			if v < 128 {
				n++
			}
		}
	}
	return n
}

func TestApply(t *testing.T) {
	src := page(t)
	before := slices.Clone(src.Pix)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for _, d := range append([]Degradation{Clean}, Set()...) {
		t.Run(d.Name, func(t *testing.T) {
			a, err := Apply(src, testDPI, d, 7)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Apply(src, testDPI, d, 7)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Error("same seed, different bytes")
			}
			if !slices.Equal(src.Pix, before) {
				t.Fatal("Apply modified its input")
			}
			g, info := decode(t, a)
			wantFormat := map[string]string{"png": "png", "jpg": "jpeg"}[d.Ext()]
			if info.Format != wantFormat || info.DPI != d.HeaderDPI(testDPI) {
				t.Errorf("format %s at %d dpi, want %s at %d", info.Format, info.DPI, wantFormat, d.HeaderDPI(testDPI))
			}
			gw, gh := g.Rect.Dx(), g.Rect.Dy()
			switch {
			case d.Turn == 90 || d.Turn == 270:
				if gw != h || gh != w {
					t.Errorf("turned %d: %dx%d, want %dx%d", d.Turn, gw, gh, h, w)
				}
			case d.SkewDegrees != 0:
				if gw <= w*d.FileDPI(testDPI)/testDPI || gh <= h*d.FileDPI(testDPI)/testDPI {
					t.Errorf("skewed: %dx%d, want larger than %dx%d scaled to %d dpi", gw, gh, w, h, d.FileDPI(testDPI))
				}
			case d.ScanDPI != 0:
				if gw != w*d.ScanDPI/testDPI || gh != h*d.ScanDPI/testDPI {
					t.Errorf("at %d dpi: %dx%d, want %dx%d", d.ScanDPI, gw, gh, w*d.ScanDPI/testDPI, h*d.ScanDPI/testDPI)
				}
			default:
				if gw != w || gh != h {
					t.Errorf("%dx%d, want %dx%d", gw, gh, w, h)
				}
			}
			if d.Speckle.zero() {
				return
			}
			c, err := Apply(src, testDPI, d, 8)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a, c) {
				t.Error("another seed, same speckle")
			}
		})
	}
}

func TestDegradeEffects(t *testing.T) {
	src := page(t)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	must := func(d Degradation) *image.Gray {
		t.Helper()
		g, dpi, err := Degrade(src, testDPI, d, 1)
		if err != nil {
			t.Fatal(err)
		}
		if dpi != d.FileDPI(testDPI) {
			t.Errorf("%s: %d dpi, want %d", d.Name, dpi, d.FileDPI(testDPI))
		}
		return g
	}
	if g := must(Clean); !slices.Equal(g.Pix, src.Pix) {
		t.Error("clean changed the page")
	}
	// 180 degrees is the pixels in reverse order, exactly.
	g := must(Degradation{Name: "rot180", Turn: 180})
	rev := slices.Clone(src.Pix)
	slices.Reverse(rev)
	if !slices.Equal(g.Pix, rev) {
		t.Error("rot180 is not the page reversed")
	}
	// 90 counter-clockwise: the top right corner comes to the top left.
	g = must(Degradation{Name: "rot90", Turn: 90})
	for _, p := range []image.Point{{0, 0}, {w - 1, 0}, {w / 3, h / 2}} {
		if got, want := g.GrayAt(p.Y, w-1-p.X), src.GrayAt(p.X, p.Y); got != want {
			t.Errorf("rot90: pixel from %v is %v, want %v", p, got, want)
		}
	}
	// A scan at half the resolution is half the size (must checks the dpi).
	if g := must(Degradation{Name: "scan", ScanDPI: testDPI / 2}); g.Rect.Dx() != w/2 || g.Rect.Dy() != h/2 {
		t.Errorf("scan at %d dpi: %v, want %dx%d", testDPI/2, g.Rect, w/2, h/2)
	}
	// Speckle adds ink: specks and flipped pixels.
	s := Degradation{Name: "s", Speckle: Speckle{PerSquareInch: 100, MinRadius: 1, MaxRadius: 2}}
	if a, b := ink(src), ink(must(s)); b <= a {
		t.Errorf("speckle: ink %d -> %d, want more", a, b)
	}
	// Grey levels squeezed into Ink..Paper; shading darkens the right edge only.
	g = must(Degradation{Name: "c", Ink: 100, Paper: 180})
	lo, hi := slices.Min(g.Pix), slices.Max(g.Pix)
	if lo < 100 || hi != 180 {
		t.Errorf("contrast 100-180: levels %d-%d", lo, hi)
	}
	g = must(Degradation{Name: "sh", Shading: 0.5})
	if l, r := g.GrayAt(0, 0).Y, g.GrayAt(w-1, 0).Y; l != 255 || r != 128 {
		t.Errorf("shading 0.5: corners %d and %d, want 255 and 128", l, r)
	}
	// Blur spreads ink into grey: fewer pure blacks and whites.
	g = must(Degradation{Name: "b", BlurSigma: 2})
	count := func(g *image.Gray) int {
		n := 0
		for _, v := range g.Pix {
			if v == 0 || v == 255 {
				n++
			}
		}
		return n
	}
	if count(g) >= count(src) {
		t.Error("blur left as many pure pixels")
	}
}

func TestInvalid(t *testing.T) {
	src := page(t)
	for _, d := range []Degradation{
		{Name: "turn", Turn: 45},
		{Name: "skew", SkewDegrees: 60},
		{Name: "blur", BlurSigma: -1},
		{Name: "shade", Shading: 2},
		{Name: "jpeg", JPEGQuality: 101},
		{Name: "speck", Speckle: Speckle{PerSquareInch: 5}}, // no radius
		{Name: "pixels", Speckle: Speckle{Pixels: 1.5}},
		{Name: "upsample", ScanDPI: 600}, // above the page's dpi,
	} {
		if _, err := Apply(src, testDPI, d, 1); err == nil || !strings.Contains(err.Error(), d.Name) {
			t.Errorf("%+v: %v, want an error naming it", d, err)
		}
	}
	if _, err := Apply(src, 0, Clean, 1); err == nil {
		t.Error("0 dpi: no error")
	}
}

func TestEncode(t *testing.T) {
	src := page(t)
	p, err := sample.EncodePNG(src, 240)
	if err != nil {
		t.Fatal(err)
	}
	if _, info := decode(t, p); info.DPI != 240 || info.Format != "png" {
		t.Errorf("png: %+v", info)
	}
	if img, err := png.Decode(bytes.NewReader(p)); err != nil || !slices.Equal(img.(*image.Gray).Pix, src.Pix) {
		t.Errorf("png does not give the pixels back (%v)", err)
	}
	j, err := EncodeJPEG(src, 150, 50)
	if err != nil {
		t.Fatal(err)
	}
	if _, info := decode(t, j); info.DPI != 150 || info.Format != "jpeg" {
		t.Errorf("jpeg: %+v", info)
	}
	if _, err := jpeg.Decode(bytes.NewReader(j)); err != nil {
		t.Errorf("jpeg with JFIF: %v", err)
	}
	if _, err := InsertJFIFDensity(j, 300); err == nil {
		t.Error("second APP0: no error")
	}
	if _, err := InsertJFIFDensity([]byte("not a jpeg"), 300); err == nil {
		t.Error("not a jpeg: no error")
	}
	if _, err := sample.InsertPNGDensity([]byte("not a png"), 300); err == nil {
		t.Error("not a png: no error")
	}
	if _, err := EncodeJPEG(src, 300, 0); err == nil {
		t.Error("quality 0: no error")
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range append([]Degradation{Clean}, Set()...) {
		if d.Name == "" || seen[d.Name] {
			t.Errorf("name %q empty or repeated", d.Name)
		}
		seen[d.Name] = true
		if got, ok := ByName(d.Name); !ok || got.Name != d.Name {
			t.Errorf("ByName(%q) = %v, %v", d.Name, got, ok)
		}
		if err := d.validate(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(d.String(), d.Name+":") {
			t.Errorf("String() = %q", d.String())
		}
	}
	for _, want := range []string{"speckle", "skew-3deg", "blur", "low-contrast", "rot90", "rot180", "jpeg-q10", "combined"} {
		if !seen[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	if _, ok := ByName("no-such"); ok {
		t.Error("ByName found no-such")
	}
}

// The bundled texts each fit on one default page, and their ground truth is their words.
func TestTexts(t *testing.T) {
	for _, tx := range Texts() {
		img, truth, err := Render(tx, DefaultDPI, DefaultWidth, DefaultHeight)
		if err != nil {
			t.Fatal(err)
		}
		if img.Rect.Dx() != DefaultWidth || img.Rect.Dy() != DefaultHeight {
			t.Errorf("%s: %v", tx.Name, img.Rect)
		}
		if got, want := strings.Fields(truth), strings.Fields(tx.Body); !slices.Equal(got, want) || len(want) < 150 {
			t.Errorf("%s: ground truth has %d words, the text %d (want 150 or more)", tx.Name, len(got), len(want))
		}
	}
}

func TestPages(t *testing.T) {
	o := Options{Texts: []Text{SmokeText, {Name: "second", FontSize: 10, Body: "Another page."}},
		DPI: testDPI, Width: testW, Height: testH}
	pages, err := Pages(o)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (1 + len(Set())); len(pages) != want {
		t.Fatalf("%d pages, want %d", len(pages), want)
	}
	names := map[string]bool{}
	for _, p := range pages {
		if names[p.Name] || p.Name != p.Text+"-"+p.Degradation.Name {
			t.Errorf("name %q", p.Name)
		}
		names[p.Name] = true
		_, info := decode(t, p.File)
		if info.DPI != p.Degradation.HeaderDPI(p.DPI) || info.Width != p.Width || info.Height != p.Height || p.Ext != p.Degradation.Ext() {
			t.Errorf("%s: file %+v, page says %dx%d at %d dpi, .%s", p.Name, info, p.Width, p.Height, p.DPI, p.Ext)
		}
		if p.Truth == "" || (p.Text == "second" && p.Truth != "Another page.") {
			t.Errorf("%s: truth %q", p.Name, p.Truth)
		}
	}
	again, err := Pages(o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pages {
		if !bytes.Equal(pages[i].File, again[i].File) {
			t.Errorf("%s: not the same bytes twice", pages[i].Name)
		}
	}
	o.Seed = 99
	other, err := Pages(o)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pages {
		if p.Degradation.Name == "speckle" && bytes.Equal(p.File, other[i].File) {
			t.Errorf("%s: another seed, same bytes", p.Name)
		}
	}
	if _, err := Pages(Options{Texts: []Text{{Name: "long", FontSize: 12, Body: strings.Repeat("word ", 400)}}, DPI: testDPI, Width: testW, Height: testH}); err == nil {
		t.Error("a text longer than a page: no error")
	}
}
