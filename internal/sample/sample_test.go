package sample

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bundledTexts reads the embedded page files in order.
func bundledTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	for n := 1; ; n++ {
		b, err := textFS.ReadFile(fmt.Sprintf("text/page%d.txt", n))
		if err != nil {
			break
		}
		texts = append(texts, string(b))
	}
	return texts
}

func decodeGray(t *testing.T, b []byte) *image.Gray {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("png decodes to %T, want *image.Gray", img)
	}
	return g
}

// inkBounds is the bounding box of all non-white pixels (empty if none).
func inkBounds(g *image.Gray) image.Rectangle {
	var r image.Rectangle
	b := g.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g.GrayAt(x, y).Y != 0xff {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

func mustLayout(t *testing.T, opts ...Option) *layout {
	t.Helper()
	c, err := newConfig(opts)
	if err != nil {
		t.Fatalf("newConfig: %v", err)
	}
	l, err := newLayout(c)
	if err != nil {
		t.Fatalf("newLayout: %v", err)
	}
	return l
}

func TestPages(t *testing.T) {
	texts := bundledTexts(t)
	if len(texts) != 2 {
		t.Fatalf("bundled page files = %d, want 2", len(texts))
	}
	pages, err := Pages()
	if err != nil {
		t.Fatalf("Pages: %v", err)
	}
	if len(pages) != len(texts) {
		t.Fatalf("Pages returned %d pages, want %d (one per file)", len(pages), len(texts))
	}
	for i, p := range pages {
		// Wrapping changes line breaks only: same words, same order.
		if got, want := strings.Fields(p.Text), strings.Fields(texts[i]); !slices.Equal(got, want) {
			t.Errorf("page %d: drawn words differ from page%d.txt", i+1, i+1)
		}
		words := len(strings.Fields(texts[i]))
		if words < 150 || words > 250 {
			t.Errorf("page %d: %d words, want 150..250", i+1, words)
		}
		for _, r := range texts[i] {
			if r > 0x7e || (r < ' ' && r != '\n') {
				t.Errorf("page %d: non-ASCII or control rune %q in sample text", i+1, r)
			}
		}
		g := decodeGray(t, p.PNG)
		if got := g.Bounds().Size(); got != image.Pt(1748, 2480) {
			t.Errorf("page %d: size %v, want 1748x2480 (A5 at 300 dpi)", i+1, got)
		}
	}
}

func TestRenderKeepsEveryWord(t *testing.T) {
	long := strings.Repeat("Tenants met again on Tuesday to discuss the boiler. ", 120)
	tests := []struct {
		name string
		text string
		opts []Option
		// splitsWords is set when a word is wider than the line and must be
		// broken, so only the characters (not the word boundaries) survive.
		splitsWords bool
	}{
		{name: "one word", text: "hello"},
		{name: "one paragraph", text: "The quick brown fox jumps over the lazy dog. " + strings.Repeat("More words here. ", 20)},
		{name: "paragraphs", text: "First paragraph here.\n\nSecond one,\nwith a hard break.\n\n\n\nThird after many blank lines."},
		{name: "crlf and tabs", text: "a\tb\r\nc  d\r\n\r\ne\ff"},
		{name: "multi page", text: long},
		{name: "multi page small font", text: long, opts: []Option{WithFontSize(6)}},
		{name: "narrow page", text: long[:500], opts: []Option{WithPageSize(600, 1200)}},
		{name: "unicode", text: "naïve café, Straße; 50 €"},
		{name: "word wider than line", text: "short " + strings.Repeat("x", 300) + " end", splitsWords: true},
		{name: "word wider than narrow line", text: strings.Repeat("W", 200), opts: []Option{WithPageSize(600, 1200)}, splitsWords: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := Render(tt.text, tt.opts...)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var drawn []string
			for _, p := range pages {
				drawn = append(drawn, p.Text)
			}
			all := strings.Join(drawn, "\n")
			if tt.splitsWords {
				squash := func(s string) string { return strings.Join(strings.Fields(s), "") }
				if squash(all) != squash(tt.text) {
					t.Errorf("characters lost or reordered:\n got %q\nwant %q", squash(all), squash(tt.text))
				}
				return
			}
			if got, want := strings.Fields(all), strings.Fields(tt.text); !slices.Equal(got, want) {
				t.Errorf("words differ:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestRenderParagraphLines(t *testing.T) {
	pages, err := Render("\n\n  Title line\nSecond line\n\n\n\nBody text.\n\n")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(pages) != 1 {
		t.Fatalf("pages = %d, want 1", len(pages))
	}
	// Hard line breaks are kept, blank-line runs collapse to one empty line,
	// and leading/trailing blank lines are dropped.
	if want := "Title line\nSecond line\n\nBody text."; pages[0].Text != want {
		t.Errorf("Text = %q, want %q", pages[0].Text, want)
	}
}

func TestRenderPageCount(t *testing.T) {
	per := mustLayout(t).linesPerPage
	lines := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "line%d\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name  string
		text  string
		pages int
	}{
		{"empty gives one blank page", "", 1},
		{"blank gives one blank page", " \n\t\n", 1},
		{"one line", lines(1), 1},
		{"exactly full", lines(per), 1},
		{"one line over", lines(per + 1), 2},
		{"two pages and a line", lines(2*per + 1), 3},
		// The paragraph break falling at the top of page 2 is dropped
		// rather than leaving page 2 starting with an empty line.
		{"break at page end", lines(per) + "\n" + lines(1), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := Render(tt.text)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(pages) != tt.pages {
				t.Fatalf("pages = %d, want %d (lines per page %d)", len(pages), tt.pages, per)
			}
			for i, p := range pages {
				n := len(strings.Split(p.Text, "\n"))
				if n > per {
					t.Errorf("page %d has %d lines, max %d", i+1, n, per)
				}
				if strings.HasPrefix(p.Text, "\n") || strings.HasSuffix(p.Text, "\n") {
					t.Errorf("page %d text starts or ends with a blank line: %q", i+1, p.Text)
				}
				decodeGray(t, p.PNG)
			}
			if strings.TrimSpace(tt.text) == "" {
				if pages[0].Text != "" {
					t.Errorf("blank page Text = %q, want empty", pages[0].Text)
				}
				if ink := inkBounds(decodeGray(t, pages[0].PNG)); !ink.Empty() {
					t.Errorf("blank page has ink at %v", ink)
				}
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	text := strings.Join(bundledTexts(t), "\n\n")
	render := func(opts ...Option) []Page {
		t.Helper()
		p, err := Render(text, opts...)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		return p
	}
	same := func(a, b []Page) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Text != b[i].Text || !bytes.Equal(a[i].PNG, b[i].PNG) {
				return false
			}
		}
		return true
	}
	clean := render()
	tests := []struct {
		name     string
		a, b     []Option
		wantSame bool
	}{
		{"no options", nil, nil, true},
		{"same noise seed", []Option{WithNoise(7, 0.01)}, []Option{WithNoise(7, 0.01)}, true},
		{"different noise seed", []Option{WithNoise(7, 0.01)}, []Option{WithNoise(8, 0.01)}, false},
		{"noise vs clean", []Option{WithNoise(7, 0.01)}, nil, false},
		{"zero noise is clean", []Option{WithNoise(7, 0)}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := render(tt.a...), render(tt.b...)
			if got := same(a, b); got != tt.wantSame {
				t.Errorf("outputs identical = %v, want %v", got, tt.wantSame)
			}
			// Noise never changes the ground truth.
			for i := range a {
				if a[i].Text != clean[i].Text {
					t.Errorf("page %d text changed by options", i+1)
				}
			}
		})
	}
}

func TestRenderNoiseFraction(t *testing.T) {
	const fraction = 0.02
	clean, err := Render("")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	noisy, err := Render("", WithNoise(1, fraction))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	a, b := decodeGray(t, clean[0].PNG), decodeGray(t, noisy[0].PNG)
	black := 0
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			black++
		}
	}
	// On a white page only "pepper" is visible: about fraction/2 of pixels.
	got := float64(black) / float64(len(a.Pix))
	if math.Abs(got-fraction/2) > fraction/10 {
		t.Errorf("changed pixel fraction = %.4f, want about %.4f", got, fraction/2)
	}
}

func TestRenderFitsMargins(t *testing.T) {
	wide := strings.Repeat("WWW MMM ", 200) + strings.Repeat("W", 400)
	tests := []struct {
		name string
		text string
		opts []Option
	}{
		{"bundled", strings.Join(bundledTexts(t), "\n\n"), nil},
		{"wide glyphs", wide, nil},
		{"large font", wide, []Option{WithFontSize(24)}},
		{"small font", wide, []Option{WithFontSize(7)}},
		{"150 dpi", wide, []Option{WithDPI(150)}},
		{"custom page", wide, []Option{WithPageSize(1000, 700)}},
		{"descenders on last line", strings.Repeat("gjpqy ", 2000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mustLayout(t, tt.opts...)
			pages, err := Render(tt.text, tt.opts...)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			box := image.Rect(l.margin, l.margin, l.pageW-l.margin, l.pageH-l.margin)
			for i, p := range pages {
				g := decodeGray(t, p.PNG)
				if g.Bounds() != image.Rect(0, 0, l.pageW, l.pageH) {
					t.Errorf("page %d bounds %v, want %dx%d", i+1, g.Bounds(), l.pageW, l.pageH)
				}
				ink := inkBounds(g)
				if ink.Empty() {
					t.Errorf("page %d has no ink", i+1)
				} else if !ink.In(box) {
					t.Errorf("page %d ink %v outside text box %v", i+1, ink, box)
				}
			}
		})
	}
}

func TestRenderBadInput(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		opts    []Option
		wantErr bool
	}{
		{"zero dpi", "x", []Option{WithDPI(0)}, true},
		{"negative dpi", "x", []Option{WithDPI(-300)}, true},
		{"huge dpi", "x", []Option{WithDPI(100000)}, true},
		{"zero font size", "x", []Option{WithFontSize(0)}, true},
		{"negative font size", "x", []Option{WithFontSize(-1)}, true},
		{"NaN font size", "x", []Option{WithFontSize(math.NaN())}, true},
		{"infinite font size", "x", []Option{WithFontSize(math.Inf(1))}, true},
		{"zero page", "x", []Option{WithPageSize(0, 0)}, true},
		{"negative page", "x", []Option{WithPageSize(-5, 100)}, true},
		{"page smaller than margins", "x", []Option{WithPageSize(300, 300)}, true},
		{"font too big for page", "x", []Option{WithFontSize(300)}, true},
		{"huge page", "x", []Option{WithPageSize(math.MaxInt, math.MaxInt)}, true},
		{"negative noise", "x", []Option{WithNoise(1, -0.1)}, true},
		{"noise over one", "x", []Option{WithNoise(1, 1.5)}, true},
		{"NaN noise", "x", []Option{WithNoise(1, math.NaN())}, true},
		{"several errors", "x", []Option{WithDPI(0), WithFontSize(0)}, true},
		{"nil option", "x", []Option{nil}, false},
		{"full noise", "x", []Option{WithNoise(1, 1), WithPageSize(800, 1000)}, false},
		{"low dpi", "x", []Option{WithDPI(72)}, false},
		{"invalid utf8", "ab\xff\xfecd", nil, false},
		{"control chars", "a\x00b\x07c\x1b[0m", nil, false},
		{"glyph missing from font", "日本語 ☃", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, err := Render(tt.text, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Render error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && len(pages) == 0 {
				t.Errorf("Render returned no pages and no error")
			}
		})
	}
}

func TestRenderDropsControlChars(t *testing.T) {
	pages, err := Render("a\x00b\x07c d\x7f")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if want := "abc d"; pages[0].Text != want {
		t.Errorf("Text = %q, want %q (ground truth must match what is drawn)", pages[0].Text, want)
	}
}

func TestPNGPhys(t *testing.T) {
	tests := []struct {
		dpi     int
		wantPPM uint32
	}{
		{300, 11811}, // 300 / 0.0254 = 11811.02
		{150, 5906},  // 5905.51
		{72, 2835},   // 2834.65
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dpi), func(t *testing.T) {
			pages, err := Render("Resolution test.", WithDPI(tt.dpi))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			chunks := parseChunks(t, pages[0].PNG)
			if len(chunks) < 4 || chunks[0].typ != "IHDR" || chunks[1].typ != "pHYs" || chunks[len(chunks)-1].typ != "IEND" {
				var types []string
				for _, c := range chunks {
					types = append(types, c.typ)
				}
				t.Fatalf("chunk order %v, want IHDR pHYs ... IEND", types)
			}
			ihdr := chunks[0].data
			if depth, colorType := ihdr[8], ihdr[9]; depth != 8 || colorType != 0 {
				t.Errorf("IHDR bit depth %d color type %d, want 8-bit grayscale (8, 0)", depth, colorType)
			}
			phys := chunks[1].data
			if len(phys) != 9 {
				t.Fatalf("pHYs length %d, want 9", len(phys))
			}
			x, y := binary.BigEndian.Uint32(phys[0:4]), binary.BigEndian.Uint32(phys[4:8])
			if x != tt.wantPPM || y != tt.wantPPM || phys[8] != 1 {
				t.Errorf("pHYs = %d x %d unit %d, want %d x %d unit 1 (metre)", x, y, phys[8], tt.wantPPM, tt.wantPPM)
			}
			decodeGray(t, pages[0].PNG) // the standard decoder accepts it
		})
	}
}

func TestInsertPHYsRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("not a png"), bytes.Repeat([]byte{0}, 64)} {
		if _, err := InsertPNGDensity(in, 300); err == nil {
			t.Errorf("InsertPNGDensity(%q) succeeded, want error", in)
		}
	}
}

type chunk struct {
	typ  string
	data []byte
}

// parseChunks splits a PNG into chunks, failing on a bad signature, length or
// CRC.
func parseChunks(t *testing.T, b []byte) []chunk {
	t.Helper()
	if !bytes.HasPrefix(b, pngSignature) {
		t.Fatalf("missing PNG signature")
	}
	var out []chunk
	for rest := b[8:]; len(rest) > 0; {
		if len(rest) < 12 {
			t.Fatalf("truncated chunk header")
		}
		n := int(binary.BigEndian.Uint32(rest[:4]))
		if len(rest) < 12+n {
			t.Fatalf("truncated chunk %q", rest[4:8])
		}
		typ, data := string(rest[4:8]), rest[8:8+n]
		want := binary.BigEndian.Uint32(rest[8+n : 12+n])
		if got := crc32.ChecksumIEEE(rest[4 : 8+n]); got != want {
			t.Fatalf("chunk %s CRC %08x, want %08x", typ, want, got)
		}
		out = append(out, chunk{typ, data})
		rest = rest[12+n:]
	}
	return out
}

func TestWriteFiles(t *testing.T) {
	pages, err := Render(strings.Repeat("line\n", 100))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(pages) < 2 {
		t.Fatalf("want a multi-page render, got %d page(s)", len(pages))
	}
	dir := filepath.Join(t.TempDir(), "nested", "out")
	paths, err := WriteFiles(dir, pages)
	if err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	if len(paths) != len(pages) {
		t.Fatalf("paths = %d, want %d", len(paths), len(pages))
	}
	for i, p := range paths {
		if want := filepath.Join(dir, fmt.Sprintf("page-%02d.png", i+1)); p != want {
			t.Errorf("path %d = %q, want %q", i, p, want)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if !bytes.Equal(b, pages[i].PNG) {
			t.Errorf("%s content differs from page %d", p, i+1)
		}
	}

	// A file where the directory should be is an error, not a panic.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFiles(file, pages); err == nil {
		t.Errorf("WriteFiles into a regular file succeeded, want error")
	}
}
