package preprocess

import (
	"image"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/tesseract"
)

func TestMain(m *testing.M) {
	// Re-exec with OMP_THREAD_LIMIT=1; otherwise each page takes ~8 s.
	if err := tesseract.EnsureSingleThreaded(); err != nil {
		panic(err)
	}
	code := m.Run()
	for _, e := range engines.free {
		_ = e.Close()
	}
	os.Exit(code)
}

// engines lends Tesseract engines to parallel tests, one per test at a time
// (an Engine is not safe for concurrent use), and keeps them for reuse.
var engines = struct {
	sync.Mutex
	free []*tesseract.Engine
}{}

// recognize reads img with Tesseract (eng).
func recognize(t testing.TB, img *image.Gray, dpi int) tesseract.Result {
	t.Helper()
	engines.Lock()
	var e *tesseract.Engine
	if n := len(engines.free); n > 0 {
		e, engines.free = engines.free[n-1], engines.free[:n-1]
	}
	engines.Unlock()
	if e == nil {
		e = tesseract.New("eng")
	}
	defer func() {
		engines.Lock()
		engines.free = append(engines.free, e)
		engines.Unlock()
	}()
	res, err := e.Recognize(img, dpi, nil)
	if err != nil {
		t.Fatalf("recognize: %v", err)
	}
	return res
}

// render renders text on a page of w x h px at dpi, with the given options,
// and returns the first page and its ground truth.
func render(t testing.TB, text string, w, h, dpi int, opts ...sample.Option) (*image.Gray, string) {
	t.Helper()
	opts = append([]sample.Option{sample.WithDPI(dpi), sample.WithPageSize(w, h)}, opts...)
	pages, err := sample.Render(text, opts...)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return decodePNG(t, pages[0].PNG), pages[0].Text
}

func decodePNG(t testing.TB, data []byte) *image.Gray {
	t.Helper()
	img, _, err := imageinfo.Decode(data, imageinfo.Limits{})
	if err != nil {
		t.Fatalf("decode page: %v", err)
	}
	return img
}

// sampleText is the bundled sample document's first page.
func sampleText(t testing.TB) string {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatalf("sample pages: %v", err)
	}
	return pages[0].Text
}

// skewed returns src rotated by deg degrees about its centre, counter-
// clockwise as seen on screen for positive deg, on white, same size.
func skewed(src *image.Gray, deg float64) *image.Gray {
	b := src.Bounds()
	dst := blank(b.Dx(), b.Dy(), 255)
	s, c := math.Sincos(degToRad(deg))
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	// dst = R * (src - centre) + centre; with y down, this matrix turns
	// content counter-clockwise on screen.
	m := f64.Aff3{
		c, s, cx - c*cx - s*cy,
		-s, c, cy + s*cx - c*cy,
	}
	draw.BiLinear.Transform(dst, m, src, b, draw.Src, nil)
	return dst
}

// faded maps the page's ink to ink and its paper to paper, then darkens it
// towards the right edge by up to shade (0.3: the right edge at 70%), like a
// faded carbon copy under uneven light.
func faded(src *image.Gray, ink, paper, shade float64) *image.Gray {
	b := src.Bounds()
	dst := blank(b.Dx(), b.Dy(), 255)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			v := float64(src.GrayAt(b.Min.X+x, b.Min.Y+y).Y) / 255
			light := 1 - shade*float64(x)/float64(b.Dx())
			dst.Pix[y*dst.Stride+x] = uint8(math.Round((ink + v*(paper-ink)) * light))
		}
	}
	return dst
}

// bordered adds dark scanner borders: bands of the given width in px on the
// left and right, with the light edges of the pages beneath showing as thin
// lines, and one two thirds as wide along the top; grey about 40, with
// scanner noise.
func bordered(src *image.Gray, width int, seed uint64) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Copy(dst, image.Point{}, src, b, draw.Src, nil)
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			d := min(x, b.Dx()-1-x) // from the nearer side
			if d >= width && y >= width*2/3 {
				continue
			}
			v := 40 + rng.NormFloat64()*12
			if d < width && d%(width/3) < 3 { // page edges
				v = 150
			}
			dst.Pix[y*dst.Stride+x] = uint8(max(0, min(255, v)))
		}
	}
	return dst
}

func blank(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func stepNamed(steps []Step, name string) (Step, bool) {
	for _, s := range steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}
