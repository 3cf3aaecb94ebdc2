package tesseract

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"html"
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// bboxWord is a word as pdftotext -bbox finds it in a PDF's text: its text and box, in
// points from the page's top left.
type bboxWord struct {
	text                   string
	xMin, yMin, xMax, yMax float64
}

var bboxLine = regexp.MustCompile(`<word xMin="([-0-9.]+)" yMin="([-0-9.]+)" xMax="([-0-9.]+)" yMax="([-0-9.]+)">([^<]*)</word>`)

// pdfWords runs pdftotext -bbox over a PDF and lists the words it finds, in order.
func pdfWords(t *testing.T, pdf []byte) []bboxWord {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	path := filepath.Join(t.TempDir(), "page.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	var words []bboxWord
	for _, m := range bboxLine.FindAllStringSubmatch(string(out), -1) {
		w := bboxWord{text: html.UnescapeString(m[5])}
		for i, p := range []*float64{&w.xMin, &w.yMin, &w.xMax, &w.yMax} {
			if *p, err = strconv.ParseFloat(m[i+1], 64); err != nil {
				t.Fatalf("pdftotext box %q: %v", m[0], err)
			}
		}
		words = append(words, w)
	}
	return words
}

// contentStream is the inflated content stream (object 10) of a PDF as Tesseract's
// renderer and the engine lay it out.
func contentStream(pdf []byte) ([]byte, error) {
	i := bytes.Index(pdf, []byte("\n10 0 obj\n"))
	if i < 0 {
		return nil, fmt.Errorf("no object 10")
	}
	rest := pdf[i:]
	m := regexp.MustCompile(`/Length ([0-9]+)`).FindSubmatch(rest)
	s := bytes.Index(rest, []byte("stream\n"))
	if m == nil || s < 0 {
		return nil, fmt.Errorf("object 10 is not a stream")
	}
	n, _ := strconv.Atoi(string(m[1]))
	start := s + len("stream\n")
	if start+n > len(rest) {
		return nil, fmt.Errorf("object 10's stream runs past the file")
	}
	z, err := zlib.NewReader(bytes.NewReader(rest[start : start+n]))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}

// TestPDFMatchesTesseract reads real pages and holds the engine's PDF against what
// Tesseract's own PDF renderer makes of the same recognition: the same text layer, byte
// for byte once inflated, and so the same words, in order, in the same places, as
// pdftotext finds them.
func TestPDFMatchesTesseract(t *testing.T) {
	e := New("eng")
	defer e.Close()
	for _, tp := range realPages(t) {
		t.Run(tp.name, func(t *testing.T) {
			if tp.img == nil {
				t.Skip("corpus file absent (../shared/corpus not beside the repository)")
			}
			p := Page{Image: tp.img, DPI: tp.dpi, Title: "doc page 1", Created: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}
			res, tess, err := e.readWithTesseractPDF(p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Words == 0 {
				t.Fatal("no words read")
			}
			ours, err := contentStream(res.PDF)
			if err != nil {
				t.Fatalf("our PDF: %v", err)
			}
			theirs, err := contentStream(tess)
			if err != nil {
				t.Fatalf("Tesseract's PDF: %v", err)
			}
			if !bytes.Equal(ours, theirs) {
				ol, tl := strings.Split(string(ours), "\n"), strings.Split(string(theirs), "\n")
				for i := range max(len(ol), len(tl)) {
					if i >= len(ol) || i >= len(tl) || ol[i] != tl[i] {
						t.Errorf("content streams differ first at line %d:\n ours      %.300q\n tesseract %.300q", i+1, elem(ol, i), elem(tl, i))
						break
					}
				}
			}

			ow, tw := pdfWords(t, res.PDF), pdfWords(t, tess)
			if len(ow) < res.Words*9/10 {
				t.Errorf("pdftotext finds %d words in our PDF, the reading has %d", len(ow), res.Words)
			}
			// A pixel at the page's resolution, in points.
			tol := 72 / float64(tp.dpi)
			bad := 0
			for i := range max(len(ow), len(tw)) {
				o, th := elem(ow, i), elem(tw, i)
				if o.text != th.text || math.Abs(o.xMin-th.xMin) > tol || math.Abs(o.yMin-th.yMin) > tol ||
					math.Abs(o.xMax-th.xMax) > tol || math.Abs(o.yMax-th.yMax) > tol {
					t.Errorf("word %d:\n ours      %+v\n tesseract %+v", i, o, th)
					if bad++; bad == 5 {
						t.Fatalf("%d words ours, %d Tesseract's; stopping", len(ow), len(tw))
					}
				}
			}
			t.Logf("%d words alike; %d bytes ours, %d Tesseract's", len(ow), len(res.PDF), len(tess))
		})
	}
}

// TestPDFValidAndRenders checks the PDF of a page, black and white (as the OCR worker hands
// them over, CCITT G4) and grey (JPEG): pdfcpu validates it, the image pdfimages takes out
// of it is the page's (pixel for pixel in black and white), and pdftoppm at the page's
// resolution draws the page the right way up, round and in place. Poppler smooths a
// bilevel image as it draws it, so a few per cent of the drawn pixels (along the letters'
// edges) are grey: the same in Tesseract's PDFs.
func TestPDFValidAndRenders(t *testing.T) {
	for _, tool := range []string{"pdftoppm", "pdfimages"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (poppler-utils) not installed", tool)
		}
	}
	grey, dpi, _ := samplePage(t)
	clean, _, err := preprocess.Clean(grey, dpi)
	if err != nil {
		t.Fatal(err)
	}
	if !bilevel(clean) {
		t.Fatal("the cleaned page is not black and white")
	}
	e := New("eng")
	defer e.Close()
	tests := []struct {
		name   string
		img    *image.Gray
		filter string
		// How far the image taken out may be from the page, on average, and the drawn page.
		maxImage, maxDrawn float64
	}{
		{"black and white", clean, "/CCITTFaxDecode", 0, 5},
		{"grey", grey, "/DCTDecode", 1, 5}, // JPEG at quality 85
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Read(t.Context(), Page{Image: tt.img, DPI: dpi, PDF: true, Title: "t"})
			if err != nil {
				t.Fatal(err)
			}
			if err := api.Validate(bytes.NewReader(r.PDF), model.NewDefaultConfiguration()); err != nil {
				t.Errorf("pdfcpu: %v", err)
			}
			if !bytes.Contains(r.PDF, []byte("/Filter "+tt.filter+"\n")) {
				t.Errorf("page image not %s", tt.filter)
			}
			dir := t.TempDir()
			in := filepath.Join(dir, "page.pdf")
			if err := os.WriteFile(in, r.PDF, 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "pdfimages", "-png", in, filepath.Join(dir, "img"))
			run(t, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-singlefile", in, filepath.Join(dir, "drawn"))
			for _, c := range []struct {
				what, file string
				max        float64
			}{{"image taken out", "img-000.png", tt.maxImage}, {"page drawn", "drawn.pgm", tt.maxDrawn}} {
				files, _ := filepath.Glob(filepath.Join(dir, c.file))
				if len(files) != 1 {
					t.Fatalf("%s: files %v", c.what, files)
				}
				got := readPNM(t, files[0])
				differ, mean := compareGray(got, tt.img)
				t.Logf("%s: %.2f%% of pixels differ, by %.2f on average", c.what, 100*differ, mean)
				if differ < 0 || mean > c.max || c.max == 0 && differ > 0 {
					t.Errorf("%s: %.2f%% of pixels differ, by %.2f on average (at most %.2f)", c.what, 100*differ, mean, c.max)
				}
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}

// compareGray is the share of pixels that differ between two images and by how much on
// average; a share of -1 when their sizes differ.
func compareGray(got, want *image.Gray) (differ, mean float64) {
	b := want.Bounds()
	if got.Bounds().Dx() != b.Dx() || got.Bounds().Dy() != b.Dy() {
		return -1, math.Inf(1)
	}
	n, sum := 0, 0
	for y := range b.Dy() {
		for x := range b.Dx() {
			d := int(got.GrayAt(x, y).Y) - int(want.GrayAt(b.Min.X+x, b.Min.Y+y).Y)
			if d != 0 {
				n++
			}
			sum += max(d, -d)
		}
	}
	px := float64(b.Dx() * b.Dy())
	return float64(n) / px, float64(sum) / px
}

// readPNM reads a PNG, or a binary PGM (P5, 8 bits) or PBM (P4) as poppler's tools write
// them, as grey.
func readPNM(t *testing.T, path string) *image.Gray {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".png") {
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		g := image.NewGray(img.Bounds())
		draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
		return g
	}
	img, err := decodePNM(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func decodePNM(data []byte) (*image.Gray, error) {
	if len(data) < 2 || data[0] != 'P' || data[1] != '4' && data[1] != '5' {
		return nil, fmt.Errorf("not a binary PBM or PGM")
	}
	want := 3
	if data[1] == '4' {
		want = 2
	}
	var v [3]int
	i := 2
	for f := 0; f < want; f++ {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		j := i
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(string(data[i:j]))
		if err != nil {
			return nil, fmt.Errorf("header: %w", err)
		}
		v[f], i = n, j
	}
	i++ // the one whitespace byte after the header
	w, h := v[0], v[1]
	img := image.NewGray(image.Rect(0, 0, w, h))
	if data[1] == '5' {
		if v[2] != 255 || i+w*h > len(data) {
			return nil, fmt.Errorf("PGM %dx%d max %d in %d bytes", w, h, v[2], len(data))
		}
		copy(img.Pix, data[i:i+w*h])
		return img, nil
	}
	stride := (w + 7) / 8
	if i+stride*h > len(data) {
		return nil, fmt.Errorf("PBM %dx%d in %d bytes", w, h, len(data))
	}
	for y := range h {
		for x := range w {
			if data[i+y*stride+x/8]>>(7-x%8)&1 == 0 { // 1 is black
				img.Pix[y*w+x] = 0xff
			}
		}
	}
	return img, nil
}

// glyphlessFont is the installed pdf.ttf, or a skip.
func glyphlessFont(t *testing.T) []byte {
	t.Helper()
	e := New("eng")
	defer e.Close()
	if err := e.Load(); err != nil {
		t.Fatal(err)
	}
	var font []byte
	var err error
	e.do(func() { font, err = e.pdfFont() })
	if err != nil {
		t.Skipf("no glyphless font: %v", err)
	}
	return font
}

// TestPDFOddText writes made-up pages with words PDF strings and hex must carry (brackets,
// backslashes, characters beyond ASCII) and checks pdftotext reads every word back as it
// was, each in its box, that the title reads back, and that pdfcpu validates the file.
// Characters beyond the BMP are left out: Tesseract's ToUnicode map (kept as it is) maps
// each UTF-16 unit to itself, so readers take a surrogate pair for two bad characters, in
// Tesseract's PDFs as in these.
func TestPDFOddText(t *testing.T) {
	font := glyphlessFont(t)
	// A small white page, flate-compressed grey.
	const w, h, dpi = 1200, 600, 300
	pix := bytes.Repeat([]byte{0xff}, w*h)
	img := pdfImage{filter: "/FlateDecode", width: w, height: h, bps: 8, spp: 1, data: deflate(pix)}
	tests := []struct {
		name  string
		words []string
	}{
		{"plain", []string{"plain", "words"}},
		{"brackets and backslashes", []string{"(a)", `b\c`, ")(", `\`}},
		{"beyond ASCII", []string{"£5", "—", "it’s", "naïve", "Ωμέγα"}},
		{"markup", []string{"<b>", "AT&T", `"q"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := &page{width: w, height: h, ppi: dpi}
			pg.blocks = []block{{box: box{50, 50, 1150, 300}, text: true}}
			pg.pars = []par{{box: box{50, 50, 1150, 300}}}
			pg.lines = []line{{box: box{50, 100, 1150, 160}, pdfBaseline: [4]int{50, 150, 1150, 150}}}
			x := 60
			for _, text := range tt.words {
				n := len([]rune(text))
				wd := word{text: text, block: 1, par: 1, line: 1, pointsize: 12,
					box: box{x, 110, x + 30*n, 150}, baseline: [4]int{x, 150, x + 30*n, 150}}
				pg.words = append(pg.words, wd)
				x += 30*n + 40
			}
			title := `A (title) \ with £ and 😀`
			pdf, err := writePDF(pg, img, font, title, "Tesseract "+Version(), time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if err := api.Validate(bytes.NewReader(pdf), model.NewDefaultConfiguration()); err != nil {
				t.Errorf("pdfcpu: %v", err)
			}
			got := pdfWords(t, pdf)
			if len(got) != len(tt.words) {
				t.Fatalf("pdftotext finds %d words %+v, want %q", len(got), got, tt.words)
			}
			for i, want := range tt.words {
				wd := pg.words[i]
				left, right := float64(wd.box.left)*72/dpi, float64(wd.box.right)*72/dpi
				if i < len(tt.words)-1 {
					// The space after the word shares its stretch, as in Tesseract's PDFs.
					n := float64(len([]rune(want)))
					right = left + (right-left)*n/(n+1)
				}
				if got[i].text != want || math.Abs(got[i].xMin-left) > 0.5 || math.Abs(got[i].xMax-right) > 0.5 {
					t.Errorf("word %d: %+v, want %q from %.2f to %.2f", i, got[i], want, left, right)
				}
			}
			info, err := exec.Command("pdfinfo", "-enc", "UTF-8", writeTemp(t, pdf)).Output()
			if err != nil {
				t.Fatalf("pdfinfo: %v", err)
			}
			if !regexp.MustCompile(`(?m)^Title: +` + regexp.QuoteMeta(title) + `$`).Match(info) {
				t.Errorf("pdfinfo does not read the title %q:\n%s", title, info)
			}
		})
	}
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.pdf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAppendUTF16Hex(t *testing.T) {
	tests := []struct {
		in, want string
		n        int
	}{
		{"", "", 0},
		{"Ab", "00410062", 2},
		{"(\\)", "0028005C0029", 3},
		{"£—’", "00A320142019", 3},
		{"😀", "D83DDE00", 1},
		{"a\xffb", "0061FFFD0062", 3}, // not UTF-8: U+FFFD
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, n := appendUTF16HexCount(nil, tt.in)
			if string(got) != tt.want || n != tt.n {
				t.Errorf("%q: %q (%d), want %q (%d)", tt.in, got, n, tt.want, tt.n)
			}
		})
	}
}

// TestPDFXref checks every cross-reference entry of a written PDF points at its object.
func TestPDFXref(t *testing.T) {
	pg := &page{width: 100, height: 100, ppi: 300}
	img := pdfImage{filter: "/FlateDecode", width: 100, height: 100, bps: 8, spp: 1, data: deflate(make([]byte, 100*100))}
	pdf, err := writePDF(pg, img, []byte("font"), "t", "p", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`startxref\n([0-9]+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref at the end")
	}
	at, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[at:], []byte("xref\n0 13\n")) {
		t.Fatalf("startxref %d does not point at the table", at)
	}
	lines := strings.Split(string(pdf[at:]), "\n")[3:15]
	for i, l := range lines {
		off, err := strconv.Atoi(l[:10])
		if err != nil || !bytes.HasPrefix(pdf[off:], []byte(strconv.Itoa(i+1)+" 0 obj\n")) {
			t.Errorf("object %d: entry %q does not point at it", i+1, l)
		}
	}
}

// TestBilevel checks the eight-at-a-time test finds a grey pixel wherever it is: in a
// word of eight or in a row's tail, at each place in the word, of any value not 0 or 255.
func TestBilevel(t *testing.T) {
	page := func(w, h int) *image.Gray {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			if i%3 == 0 {
				img.Pix[i] = 0xff
			}
		}
		return img
	}
	if !bilevel(page(21, 3)) || !bilevel(page(8, 1)) || !bilevel(page(1, 1)) {
		t.Fatal("a black and white page found grey")
	}
	for _, v := range []uint8{1, 0x7f, 0x80, 0xfe, 0x55, 0xaa} {
		for x := range 21 {
			img := page(21, 3)
			img.Pix[img.PixOffset(x, 1)] = v
			if bilevel(img) {
				t.Errorf("grey %#x at x %d of 21: not found", v, x)
			}
		}
	}
	// A part of a larger image: only its own pixels count.
	img := page(30, 4)
	img.Pix[img.PixOffset(2, 2)] = 0x80
	img.Pix[img.PixOffset(27, 2)] = 0x80
	if sub := img.SubImage(image.Rect(3, 1, 27, 4)).(*image.Gray); !bilevel(sub) {
		t.Error("grey outside a part of the image counted")
	}
	if sub := img.SubImage(image.Rect(2, 1, 27, 4)).(*image.Gray); bilevel(sub) {
		t.Error("grey at a part's left edge not found")
	}
}

func TestAppendPDFString(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Tesseract 5.3.0", "(Tesseract 5.3.0)"},
		{`a (b) \c`, `(a \(b\) \\c)`},
		{")(", `(\)\()`},
		{"", "()"},
	} {
		if got := string(appendPDFString(nil, tt.in)); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.in, got, tt.want)
		}
	}
}
