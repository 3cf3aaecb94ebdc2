package imageinfo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
)

// wantPage is what DecodePage should give for one page.
type wantPage struct {
	info  imageinfo.Info
	exact *image.Gray // pixel for pixel, when not nil
	near  *image.Gray // within tol grey levels on average, when not nil
	tol   float64
	check func(t *testing.T, g *image.Gray) // anything else
}

func TestCountAndDecodePage(t *testing.T) {
	ctx := context.Background()
	g1, g2 := grayPattern(30, 20), noisyGray(25, 40)
	b1, b2 := blocks(64, 48), threshold(noisyGray(64, 48))
	samples, err := sample.Render(strings.Repeat("The tenants met on Tuesday and agreed to withhold the rent. ", 40), sample.WithDPI(100))
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 {
		t.Fatalf("sample text rendered to %d pages", len(samples))
	}
	s1, _, err := imageinfo.Decode(samples[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	s2, _, err := imageinfo.Decode(samples[1].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	jp2 := leptEncode(t, b1, imageinfo.LeptFormatJP2, 0) // Leptonica writes no resolution box
	tiffInfo := func(g *image.Gray, dpi int) imageinfo.Info {
		return imageinfo.Info{Format: "tiff", Width: g.Bounds().Dx(), Height: g.Bounds().Dy(), DPI: dpi}
	}
	pdfInfo := func(w, h int, text bool) imageinfo.Info {
		return imageinfo.Info{Format: "pdf", Width: w, Height: h, DPI: 300, TextLayer: text}
	}
	// Ink in the left half of a 300x300 page, or in its top half.
	leftDark := func(t *testing.T, g *image.Gray) {
		if l, r := meanIn(g, image.Rect(0, 0, 150, 300)), meanIn(g, image.Rect(150, 0, 300, 300)); l > 10 || r < 245 {
			t.Errorf("left half mean %.1f, right %.1f: want black then white", l, r)
		}
	}
	topDark := func(t *testing.T, g *image.Gray) {
		if top, bot := meanIn(g, image.Rect(0, 0, 300, 150)), meanIn(g, image.Rect(0, 150, 300, 300)); top > 10 || bot < 245 {
			t.Errorf("top half mean %.1f, bottom %.1f: want black then white", top, bot)
		}
	}
	quadrants := func(t *testing.T, g *image.Gray) {
		w, h := g.Bounds().Dx(), g.Bounds().Dy()
		for _, q := range []struct {
			r    image.Rectangle
			dark bool
		}{
			{image.Rect(0, 0, w/2, h/2), true}, {image.Rect(w/2, 0, w, h/2), false},
			{image.Rect(0, h/2, w/2, h), false}, {image.Rect(w/2, h/2, w, h), true},
		} {
			inner := q.r.Inset(10)
			if m := meanIn(g, inner); q.dark != (m < 128) || (q.dark && m > 40) || (!q.dark && m < 215) {
				t.Errorf("quadrant %v mean %.1f, want dark=%v", inner, m, q.dark)
			}
		}
	}

	tests := []struct {
		name  string
		data  []byte
		pages []wantPage
	}{
		{"png", encodePNG(t, g1), []wantPage{{info: imageinfo.Info{Format: "png", Width: 30, Height: 20}, exact: g1}}},
		{"png 300 dpi", withPHYs(t, encodePNG(t, g1), 11811, 11811, 1), []wantPage{{info: imageinfo.Info{Format: "png", Width: 30, Height: 20, DPI: 300}, exact: g1}}},
		{"jpeg", encodeJPEG(t, g1), []wantPage{{info: imageinfo.Info{Format: "jpeg", Width: 30, Height: 20}, near: g1, tol: 6}}},
		{"gif", encodeGIF(t, g1), []wantPage{{info: imageinfo.Info{Format: "gif", Width: 30, Height: 20}, exact: g1}}},
		{"bmp", encodeBMP(t, g1), []wantPage{{info: imageinfo.Info{Format: "bmp", Width: 30, Height: 20}, exact: g1}}},
		{"webp lossless 1x1", webp1x1, []wantPage{{info: imageinfo.Info{Format: "webp", Width: 1, Height: 1}}}},
		{"webp lossy from libwebp", leptEncode(t, b1, imageinfo.LeptFormatWebP, 0), []wantPage{{info: imageinfo.Info{Format: "webp", Width: 64, Height: 48}, near: b1, tol: 3}}},
		{"tiff one page", buildTIFF(g1, tiffSpec{order: binary.LittleEndian}), []wantPage{{info: tiffInfo(g1, 0), exact: g1}}},
		{"tiff 2 pages LE", buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g1, dpi: 300}, tiffPageSpec{g: g2, dpi: 200}),
			[]wantPage{{info: tiffInfo(g1, 300), exact: g1}, {info: tiffInfo(g2, 200), exact: g2}}},
		{"tiff 2 pages BE", buildTIFFPages(binary.BigEndian, tiffPageSpec{g: g2}, tiffPageSpec{g: g1, dpi: 400}),
			[]wantPage{{info: tiffInfo(g2, 0), exact: g2}, {info: tiffInfo(g1, 400), exact: g1}}},
		{"tiff thumbnail between pages is skipped", buildTIFFPages(binary.LittleEndian,
			tiffPageSpec{g: g1, dpi: 300}, tiffPageSpec{g: grayPattern(3, 2), subfile: 1}, tiffPageSpec{g: g2, dpi: 300}),
			[]wantPage{{info: tiffInfo(g1, 300), exact: g1}, {info: tiffInfo(g2, 300), exact: g2}}},
		{"tiff by libtiff: deflate, G4, JPEG", leptTIFF(t, 300, []int{imageinfo.LeptFormatTIFFZip, imageinfo.LeptFormatTIFFG4, imageinfo.LeptFormatTIFFJPEG}, g2, b2, b1),
			[]wantPage{
				{info: tiffInfo(g2, 300), exact: g2},
				{info: tiffInfo(b2, 300), exact: b2},
				{info: tiffInfo(b1, 300), near: b1, tol: 4}, // JPEG-in-TIFF: decoded by Leptonica
			}},
		{"tiff by libtiff: JPEG first, then uncompressed", leptTIFF(t, 150, []int{imageinfo.LeptFormatTIFFJPEG, imageinfo.LeptFormatTIFF}, b1, g2),
			[]wantPage{{info: tiffInfo(b1, 150), near: b1, tol: 4}, {info: tiffInfo(g2, 150), exact: g2}}},
		{"tiff G4 text pages", leptTIFF(t, 100, []int{imageinfo.LeptFormatTIFFG4, imageinfo.LeptFormatTIFFG4}, s1, s2),
			[]wantPage{{info: tiffInfo(s1, 100), exact: threshold(s1)}, {info: tiffInfo(s2, 100), exact: threshold(s2)}}},
		{"jp2", jp2, []wantPage{{info: imageinfo.Info{Format: "jp2", Width: 64, Height: 48}, near: b1, tol: 6}}},
		{"jp2 capture resolution 300 dpi", withJP2Res(t, jp2, 11811, 0, 1, 0), []wantPage{{info: imageinfo.Info{Format: "jp2", Width: 64, Height: 48, DPI: 300}, near: b1, tol: 6}}},
		{"jp2 capture resolution before display", withJP2Res(t, jp2, 11811, 2835, 1, 0), []wantPage{{info: imageinfo.Info{Format: "jp2", Width: 64, Height: 48, DPI: 300}, near: b1, tol: 6}}},
		{"jp2 display resolution 400 dpi", withJP2Res(t, jp2, 0, 15748, 10, 1), []wantPage{{info: imageinfo.Info{Format: "jp2", Width: 64, Height: 48, DPI: 400}, near: b1, tol: 6}}},
		{"jp2 of a noisy page", leptEncode(t, g2, imageinfo.LeptFormatJP2, 0), []wantPage{{info: imageinfo.Info{Format: "jp2", Width: 25, Height: 40}}}},
		{"pdf 2 vector pages", buildPDF(
			pdfPageSpec{w: 72, h: 72, draw: "0 g 0 0 36 72 re f"},
			pdfPageSpec{w: 72, h: 72, draw: "0 g 0 36 72 36 re f"}),
			[]wantPage{{info: pdfInfo(300, 300, false), check: leftDark}, {info: pdfInfo(300, 300, false), check: topDark}}},
		{"pdf scan: an image per page", buildPDF(pdfPageSpec{w: 72, h: 48, img: blocks(40, 40)}, pdfPageSpec{w: 48, h: 72, img: blocks(8, 8)}),
			[]wantPage{{info: pdfInfo(300, 200, false), check: quadrants}, {info: pdfInfo(200, 300, false), check: quadrants}}},
		{"pdf text layers", buildPDF(
			pdfPageSpec{w: 72, h: 72, text: "Rent strike"},
			pdfPageSpec{w: 72, h: 72, img: blocks(8, 8), text: "hidden OCR layer", invisible: true},
			pdfPageSpec{w: 72, h: 72, img: blocks(8, 8)},
			pdfPageSpec{w: 72, h: 72, text: "   "}),
			[]wantPage{
				{info: pdfInfo(300, 300, true), check: func(t *testing.T, g *image.Gray) {
					if m := meanIn(g, g.Bounds()); m > 254 || m < 200 {
						t.Errorf("page with visible text has mean %.1f", m)
					}
				}},
				{info: pdfInfo(300, 300, true), check: quadrants},
				{info: pdfInfo(300, 300, false), check: quadrants},
				{info: pdfInfo(300, 300, false)},
			}},
		{"pdf rotated, cropped and odd sizes", buildPDF(
			pdfPageSpec{w: 72, h: 144, extra: "/Rotate 90"},
			pdfPageSpec{w: 72, h: 144, extra: "/CropBox [0 0 36 72]"},
			pdfPageSpec{w: 100.3, h: 50.1}),
			[]wantPage{{info: pdfInfo(600, 300, false)}, {info: pdfInfo(150, 300, false)}, {info: pdfInfo(418, 209, false)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, info, err := imageinfo.Count(ctx, tt.data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if n != len(tt.pages) {
				t.Fatalf("Count = %d pages, want %d", n, len(tt.pages))
			}
			want0 := tt.pages[0].info
			want0.TextLayer = false // DecodePage tells
			if info != want0 {
				t.Errorf("Count's Info = %+v, want %+v", info, want0)
			}
			var imgs []*image.Gray
			for i, want := range tt.pages {
				g, info, err := imageinfo.DecodePage(ctx, tt.data, i, imageinfo.Limits{})
				if err != nil {
					t.Fatalf("DecodePage(%d): %v", i, err)
				}
				if info != want.info {
					t.Errorf("DecodePage(%d) Info = %+v, want %+v", i, info, want.info)
				}
				if g.Bounds() != image.Rect(0, 0, want.info.Width, want.info.Height) {
					t.Fatalf("DecodePage(%d) bounds %v, want %dx%d", i, g.Bounds(), want.info.Width, want.info.Height)
				}
				if want.exact != nil {
					sameGray(t, g, want.exact)
				}
				if want.near != nil {
					if d := meanAbsDiff(t, g, want.near); d > want.tol {
						t.Errorf("DecodePage(%d) differs from the original by %.2f grey levels on average, want <= %g", i, d, want.tol)
					}
				}
				if want.check != nil {
					want.check(t, g)
				}
				imgs = append(imgs, g)
			}
			for i := 1; i < len(imgs); i++ {
				if imgs[i].Bounds() == imgs[i-1].Bounds() && bytes.Equal(imgs[i].Pix, imgs[i-1].Pix) && tt.pages[i].check == nil {
					t.Errorf("page %d decodes to the same pixels as page %d", i+1, i)
				}
			}
			for _, i := range []int{len(tt.pages), len(tt.pages) + 5, -1} {
				if g, _, err := imageinfo.DecodePage(ctx, tt.data, i, imageinfo.Limits{}); !errors.Is(err, imageinfo.ErrNoPage) || g != nil {
					t.Errorf("DecodePage(%d) of %d pages = %v, want ErrNoPage", i, len(tt.pages), err)
				}
			}
			// Page 0 is exactly what Decode gives, where Decode reads the file (a TIFF in
			// a compression Go's decoder lacks it refuses).
			if f := imageinfo.Sniff(tt.data); f != "pdf" && f != "jp2" {
				d, dinfo, err := imageinfo.Decode(tt.data, imageinfo.Limits{})
				if f == "tiff" && errors.Is(err, imageinfo.ErrCorrupt) && strings.Contains(err.Error(), "unsupported") {
					return
				}
				if err != nil || dinfo != tt.pages[0].info || !bytes.Equal(d.Pix, imgs[0].Pix) {
					t.Errorf("Decode = %+v, %v; not what DecodePage(0) gave", dinfo, err)
				}
			}
		})
	}
}

func TestCountRefuses(t *testing.T) {
	ctx := context.Background()
	g := grayPattern(10, 8)
	two := buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g}, tiffPageSpec{g: g})
	ifds, nexts := tiffIFDs(t, two)
	patch := func(b []byte, at int, v uint32) []byte {
		b = bytes.Clone(b)
		binary.LittleEndian.PutUint32(b[at:], v)
		return b
	}
	pdf := buildPDF(pdfPageSpec{w: 72, h: 72, text: "x"}, pdfPageSpec{w: 72, h: 72})
	jp2 := leptEncode(t, grayPattern(40, 32), imageinfo.LeptFormatJP2, 0)
	siz := bytes.Index(jp2, []byte{0xff, 0x4f, 0xff, 0x51})
	if siz < 0 {
		t.Fatal("no SIZ in the jp2")
	}
	jp2Patch := func(at int, v uint32) []byte {
		b := bytes.Clone(jp2)
		binary.BigEndian.PutUint32(b[at:], v)
		return b
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"tiff header alone", []byte("II*\x00"), imageinfo.ErrNotImage},
		{"tiff first IFD past the end", patch(two, 4, 1<<30), imageinfo.ErrNotImage},
		{"tiff first IFD inside the header", patch(two, 4, 4), imageinfo.ErrNotImage},
		{"tiff no IFD", patch(two, 4, 0), imageinfo.ErrNotImage},
		{"tiff cut inside the first IFD", two[:ifds[0]+20], imageinfo.ErrNotImage},
		{"tiff second IFD past the end", patch(two, nexts[0], uint32(len(two)+100)), imageinfo.ErrCorrupt},
		{"tiff second IFD at 0xffffffff", patch(two, nexts[0], 0xffffffff), imageinfo.ErrCorrupt},
		{"tiff cut inside the second IFD", two[:ifds[1]+30], imageinfo.ErrCorrupt},
		{"tiff IFD loops to itself", patch(two, nexts[0], uint32(ifds[0])), imageinfo.ErrCorrupt},
		{"tiff IFDs loop", patch(two, nexts[1], uint32(ifds[0])), imageinfo.ErrCorrupt},
		{"tiff IFD of 0 entries", func() []byte { b := bytes.Clone(two); b[ifds[1]], b[ifds[1]+1] = 0, 0; return b }(), imageinfo.ErrCorrupt},
		{"tiff IFD of 65535 entries", func() []byte { b := bytes.Clone(two); b[ifds[0]], b[ifds[0]+1] = 0xff, 0xff; return b }(), imageinfo.ErrNotImage},
		{"tiff second page 0 wide", patch(two, ifds[1]+2+8, 0), imageinfo.ErrCorrupt},
		{"tiff only a thumbnail and a mask", buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g, subfile: 1}, tiffPageSpec{g: g, subfile: 4}), imageinfo.ErrNotImage},

		{"pdf header then garbage", []byte("%PDF-1.4\nthis is not a PDF at all, only words\n"), imageinfo.ErrCorrupt},
		{"pdf header alone", []byte("%PDF-"), imageinfo.ErrCorrupt},
		{"pdf cut after its first object", pdf[:bytes.Index(pdf, []byte("2 0 obj"))], imageinfo.ErrCorrupt},
		{"pdf with no pages", buildPDF(), imageinfo.ErrCorrupt},

		{"jp2 signature alone", bytes.Clone(jp2[:12]), imageinfo.ErrNotImage},
		{"jp2 cut in its header box", jp2[:40], imageinfo.ErrNotImage},
		{"jp2 cut in its codestream", jp2[:len(jp2)/2], imageinfo.ErrCorrupt},
		{"jp2 codestream disagrees with ihdr", jp2Patch(siz+8, 11), imageinfo.ErrCorrupt},
		{"jp2 codestream of 5 components", func() []byte { b := bytes.Clone(jp2); b[siz+40], b[siz+41] = 0, 5; return b }(), imageinfo.ErrCorrupt},
		{"jp2 components disagree with ihdr", func() []byte {
			b := bytes.Clone(jp2)
			b[bytes.Index(b, []byte("ihdr"))+4+9] = 3
			return b
		}(), imageinfo.ErrCorrupt},
		// Leptonica reads 8-bit unsigned samples, every component the size of the first.
		{"jp2 of 12-bit samples", func() []byte { b := bytes.Clone(jp2); b[siz+42] = 11; return b }(), imageinfo.ErrNotImage},
		{"jp2 of signed samples", func() []byte { b := bytes.Clone(jp2); b[siz+42] = 0x87; return b }(), imageinfo.ErrNotImage},
		{"jp2 subsampled", func() []byte { b := bytes.Clone(jp2); b[siz+43], b[siz+44] = 2, 2; return b }(), imageinfo.ErrNotImage},
		{"jp2 codestream of 1000x1000 1-pixel tiles", func() []byte {
			b := jp2Bomb(t, jp2, 1000, 1000)
			binary.BigEndian.PutUint32(b[siz+24:], 1)
			binary.BigEndian.PutUint32(b[siz+28:], 1)
			return b
		}(), imageinfo.ErrCorrupt},
		{"jp2 0x0", func() []byte {
			b := jp2Patch(bytes.Index(jp2, []byte("ihdr"))+4, 0)
			binary.BigEndian.PutUint32(b[siz+12:], 0)
			return b
		}(), imageinfo.ErrNotImage},

		{"text", []byte("Minutes of the meeting\n"), imageinfo.ErrNotImage},
		{"empty", nil, imageinfo.ErrNotImage},
		{"png cut in IHDR", encodePNG(t, g)[:20], imageinfo.ErrNotImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, _, err := imageinfo.Count(ctx, tt.data, imageinfo.Limits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Count = %d, %v; want %v", n, err, tt.want)
			}
			for _, other := range []error{imageinfo.ErrNotImage, imageinfo.ErrCorrupt, imageinfo.ErrTooLarge, imageinfo.ErrMissingTool} {
				if other != tt.want && errors.Is(err, other) {
					t.Fatalf("Count error %q is also %v", err, other)
				}
			}
			img, _, derr := imageinfo.DecodePage(ctx, tt.data, 0, imageinfo.Limits{})
			if !errors.Is(derr, tt.want) || img != nil {
				t.Fatalf("DecodePage(0) = %v, want %v", derr, tt.want)
			}
		})
	}
}

// Damage to a page's pixels passes Count, which reads headers only, and fails that page's
// DecodePage with ErrCorrupt, whichever decoder reads it; the other pages still decode.
func TestDecodePageCorruptPixels(t *testing.T) {
	ctx := context.Background()
	b1, g2 := blocks(64, 48), noisyGray(40, 30)
	zipJPEG := leptTIFF(t, 300, []int{imageinfo.LeptFormatTIFFZip, imageinfo.LeptFormatTIFFJPEG}, g2, b1)
	tests := []struct {
		name      string
		data      []byte
		bad       int  // the damaged page
		mayDecode bool // the decoder may make what it can of it (libjpeg fills a cut scan with grey)
	}{
		{"tiff uncompressed, last page cut", func() []byte {
			b := buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: b1}, tiffPageSpec{g: g2})
			return b[:len(b)-100]
		}(), 1, false},
		{"tiff deflate page's data halved", cutStrip(t, zipJPEG, 0, func(start, size, fileLen int) int { return size / 2 }), 0, false},
		// Leptonica's path: libtiff finds the strip runs past the end of the file.
		{"tiff JPEG page's strip past the end", cutStrip(t, zipJPEG, 1, func(start, size, fileLen int) int { return fileLen - start + 1000 }), 1, false},
		{"tiff JPEG page's data halved", cutStrip(t, zipJPEG, 1, func(start, size, fileLen int) int { return size / 2 }), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, _, err := imageinfo.Count(ctx, tt.data, imageinfo.Limits{})
			if err != nil || n != 2 {
				t.Fatalf("Count = %d, %v; want 2 pages", n, err)
			}
			for i := 0; i < n; i++ {
				img, _, err := imageinfo.DecodePage(ctx, tt.data, i, imageinfo.Limits{})
				switch {
				case i != tt.bad:
					if err != nil {
						t.Errorf("DecodePage(%d) of a whole page: %v", i, err)
					}
				case tt.mayDecode && err == nil:
					if img == nil || img.Bounds() != b1.Bounds() {
						t.Errorf("DecodePage(%d) of the damaged page: no error and image %v", i, img)
					}
				default:
					if !errors.Is(err, imageinfo.ErrCorrupt) || img != nil {
						t.Errorf("DecodePage(%d) of the damaged page = %v, want ErrCorrupt", i, err)
					}
					if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("tiff page %d", i+1)) {
						t.Errorf("error %q does not name the page", err)
					}
				}
			}
		})
	}
}

// cutStrip changes the byte count of page's only strip to what count says, zeroing the
// bytes it no longer covers: the file keeps its length, the page's data is cut.
func cutStrip(t *testing.T, data []byte, page int, count func(start, size, fileLen int) int) []byte {
	t.Helper()
	data = bytes.Clone(data)
	ifds, _ := tiffIFDs(t, data)
	bo := binary.ByteOrder(binary.LittleEndian)
	if data[0] == 'M' {
		bo = binary.BigEndian
	}
	off := ifds[page]
	n := int(bo.Uint16(data[off:]))
	var strips, counts int
	for e := off + 2; e < off+2+12*n; e += 12 {
		switch bo.Uint16(data[e:]) {
		case 273:
			strips = e
		case 279:
			counts = e
		}
	}
	if strips == 0 || counts == 0 || bo.Uint32(data[strips+4:]) != 1 || bo.Uint16(data[counts+2:]) != 4 {
		t.Fatalf("page %d: want one strip with a LONG byte count", page)
	}
	start, size := int(bo.Uint32(data[strips+8:])), int(bo.Uint32(data[counts+8:]))
	c := count(start, size, len(data))
	if c < size {
		clear(data[start+c : start+size])
	}
	bo.PutUint32(data[counts+8:], uint32(c))
	return data
}

func TestPageLimits(t *testing.T) {
	ctx := context.Background()
	g := grayPattern(10, 8)
	huge := buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g}, tiffPageSpec{g: g})
	ifds, _ := tiffIFDs(t, huge)
	binary.LittleEndian.PutUint32(huge[ifds[1]+2+8:], 100000)    // page 2's ImageWidth
	binary.LittleEndian.PutUint32(huge[ifds[1]+2+12+8:], 100000) // and ImageLength
	three := buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g}, tiffPageSpec{g: g}, tiffPageSpec{g: g})
	pdf2 := buildPDF(pdfPageSpec{w: 72, h: 72}, pdfPageSpec{w: 72, h: 72}) // 300x300 px a page
	pdfHuge2 := buildPDF(pdfPageSpec{w: 72, h: 72}, pdfPageSpec{w: 14400, h: 7200})
	jp2 := leptEncode(t, grayPattern(40, 32), imageinfo.LeptFormatJP2, 0)
	tests := []struct {
		name     string
		data     []byte
		lim      imageinfo.Limits
		countOK  bool
		inMsg    string
		page     int // DecodePage tries this page
		decodeOK bool
		within   time.Duration // refused this fast: nothing rendered
	}{
		{"tiff page 2 of 100000x100000", huge, imageinfo.Limits{}, false, "tiff page 2 declares 100000x100000", 1, false, time.Second},
		{"tiff page 1 beside a page 2 too large", huge, imageinfo.Limits{}, false, "tiff page 2", 0, true, 0},
		{"tiff 3 pages, at most 2", three, imageinfo.Limits{MaxPages: 2}, false, "more than 2 pages", 0, false, 0},
		{"tiff 3 pages, at most 3", three, imageinfo.Limits{MaxPages: 3}, true, "", 2, true, 0},
		{"tiff 80 px, at most 79", three, imageinfo.Limits{MaxPixels: 79}, false, "page 1 declares 10x8", 1, false, 0},
		{"tiff 80 px, at most 80", three, imageinfo.Limits{MaxPixels: 80}, true, "", 1, true, 0},
		{"pdf page of 200x200 inches", buildPDF(pdfPageSpec{w: 14400, h: 14400}), imageinfo.Limits{}, false, "60000x60000", 0, false, 2 * time.Second},
		{"pdf page 2 of 200x100 inches", pdfHuge2, imageinfo.Limits{}, false, "pdf page 2", 1, false, 2 * time.Second},
		{"pdf page 1 beside a page 2 too large", pdfHuge2, imageinfo.Limits{}, false, "pdf page 2", 0, true, 0},
		{"pdf 90000 px, at most 89999", pdf2, imageinfo.Limits{MaxPixels: 89999}, false, "300x300", 1, false, 0},
		{"pdf 90000 px, at most 90000", pdf2, imageinfo.Limits{MaxPixels: 90000}, true, "", 1, true, 0},
		{"pdf 2 pages, at most 1", pdf2, imageinfo.Limits{MaxPages: 1}, false, "2 pages", 0, false, 0},
		{"jp2 1280 px, at most 1279", jp2, imageinfo.Limits{MaxPixels: 1279}, false, "40x32", 0, false, 0},
		{"jp2 1280 px, at most 1280", jp2, imageinfo.Limits{MaxPixels: 1280}, true, "", 0, true, 0},
		{"jp2 bomb", jp2Bomb(t, jp2, 60000, 60000), imageinfo.Limits{}, false, "60000x60000", 0, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, _, err := imageinfo.Count(ctx, tt.data, tt.lim)
			if tt.countOK != (err == nil) {
				t.Fatalf("Count: %v; want ok=%v", err, tt.countOK)
			}
			if !tt.countOK && (!errors.Is(err, imageinfo.ErrTooLarge) || !strings.Contains(err.Error(), tt.inMsg)) {
				t.Fatalf("Count: %v; want ErrTooLarge saying %q", err, tt.inMsg)
			}
			img, _, err := imageinfo.DecodePage(ctx, tt.data, tt.page, tt.lim)
			if tt.decodeOK != (err == nil) || tt.decodeOK != (img != nil) {
				t.Fatalf("DecodePage(%d): %v; want ok=%v", tt.page, err, tt.decodeOK)
			}
			if !tt.decodeOK && !errors.Is(err, imageinfo.ErrTooLarge) {
				t.Fatalf("DecodePage(%d): %v; want ErrTooLarge", tt.page, err)
			}
			if d := time.Since(start); tt.within > 0 && d > tt.within {
				t.Errorf("refusing took %v", d)
			}
		})
	}
}

// jp2Bomb is jp2's header declaring w×h, in its ihdr box and its codestream alike.
func jp2Bomb(t *testing.T, jp2 []byte, w, h uint32) []byte {
	t.Helper()
	b := bytes.Clone(jp2)
	ihdr := bytes.Index(b, []byte("ihdr"))
	siz := bytes.Index(b, []byte{0xff, 0x4f, 0xff, 0x51})
	if ihdr < 0 || siz < 0 {
		t.Fatal("jp2 without ihdr or SIZ")
	}
	binary.BigEndian.PutUint32(b[ihdr+4:], h)
	binary.BigEndian.PutUint32(b[ihdr+8:], w)
	binary.BigEndian.PutUint32(b[siz+8:], w)
	binary.BigEndian.PutUint32(b[siz+12:], h)
	binary.BigEndian.PutUint32(b[siz+16:], 0)
	binary.BigEndian.PutUint32(b[siz+20:], 0)
	binary.BigEndian.PutUint32(b[siz+24:], w) // one tile
	binary.BigEndian.PutUint32(b[siz+28:], h)
	return b
}

// slowPDF is a page that takes pdftoppm seconds to render: thousands of large curved fills.
func slowPDF() []byte {
	rng := rand.New(rand.NewSource(1))
	var ops strings.Builder
	for range 2000 {
		x, y := rng.Float64()*595, rng.Float64()*842
		fmt.Fprintf(&ops, "%.1f %.1f m %.1f %.1f %.1f %.1f %.1f %.1f c f\n", x, y, x+300, y+5, x-200, y+300, x+10, y-400)
	}
	return buildPDF(pdfPageSpec{w: 595, h: 842, draw: ops.String()})
}

func TestDecodePageCancelStopsPdftoppm(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // the PDF's temporary file, which pdftoppm's command line names
	data := slowPDF()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Cancel once pdftoppm runs on the file (after pdfinfo and pdftotext).
	type seen struct {
		pid       string
		cancelled time.Time
	}
	found := make(chan seen, 1)
	go func() {
		defer close(found)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(5 * time.Millisecond) {
			if pid := findProc(tmp, "pdftoppm"); pid != "" {
				cancel()
				found <- seen{pid, time.Now()}
				return
			}
		}
	}()
	img, _, err := imageinfo.DecodePage(ctx, data, 0, imageinfo.Limits{})
	returned := time.Now()
	s, ok := <-found
	if !ok {
		t.Fatalf("pdftoppm was never seen running (DecodePage = %v)", err)
	}
	pid := s.pid
	if d := returned.Sub(s.cancelled); d > 3*time.Second {
		t.Errorf("DecodePage returned %v after the cancel", d)
	}
	if !errors.Is(err, context.Canceled) || img != nil {
		t.Fatalf("DecodePage = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "pdftoppm") {
		t.Errorf("error %q should name the tool it stopped", err)
	}
	// pdftoppm (seconds of work) is gone, not left running, and so is the temporary file.
	if _, err := os.Stat("/proc/" + pid); err == nil {
		t.Errorf("pdftoppm (pid %s) still exists after DecodePage returned", pid)
	}
	if pid := findProc(tmp, ""); pid != "" {
		t.Errorf("process %s still runs on the file", pid)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A context already cancelled runs nothing.
	if _, _, err := imageinfo.Count(ctx, data, imageinfo.Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Count with a cancelled context = %v", err)
	}
	if _, _, err := imageinfo.DecodePage(ctx, encodePNG(t, grayPattern(3, 3)), 0, imageinfo.Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("DecodePage with a cancelled context = %v", err)
	}

	// A deadline stops it the same way, whichever tool is running then.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := imageinfo.DecodePage(ctx, data, 0, imageinfo.Limits{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DecodePage past its deadline = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("DecodePage returned %v after a 200ms deadline", d)
	}
}

// findProc is the pid of a process whose command line contains dir and name, or "".
func findProc(dir, name string) string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) && bytes.Contains(b, []byte(name)) {
			return filepath.Base(filepath.Dir(p))
		}
	}
	return ""
}

func TestPDFToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	pdf := buildPDF(pdfPageSpec{w: 72, h: 72})
	_, _, err := imageinfo.Count(context.Background(), pdf, imageinfo.Limits{})
	if !errors.Is(err, imageinfo.ErrMissingTool) {
		t.Fatalf("Count without poppler = %v, want ErrMissingTool", err)
	}
	for _, s := range []string{"pdfinfo", "poppler-utils", "scripts/install-deps"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q should say %q", err, s)
		}
	}
	if errors.Is(err, imageinfo.ErrCorrupt) || errors.Is(err, imageinfo.ErrNotImage) {
		t.Errorf("a missing tool is not the scan's fault: %v", err)
	}
	if _, _, err := imageinfo.DecodePage(context.Background(), pdf, 0, imageinfo.Limits{}); !errors.Is(err, imageinfo.ErrMissingTool) {
		t.Errorf("DecodePage without poppler = %v, want ErrMissingTool", err)
	}
	// Other formats need no tool.
	if n, _, err := imageinfo.Count(context.Background(), encodePNG(t, grayPattern(3, 3)), imageinfo.Limits{}); n != 1 || err != nil {
		t.Errorf("Count of a PNG without poppler = %d, %v", n, err)
	}
}

// A PDF's title is printed by pdfinfo among the lines Count reads: lines planted in it
// change nothing.
func TestPDFMetadataCannotForgePages(t *testing.T) {
	pdf := buildPDF(pdfPageSpec{w: 14400, h: 14400}, pdfPageSpec{w: 72, h: 72})
	i := bytes.Index(pdf, []byte("/Root 1 0 R"))
	forged := append(bytes.Clone(pdf[:i]), []byte("/Info << /Title (x\nPages:          1\nPage    1 size:  72 x 72 pts\n) >> ")...)
	forged = append(forged, pdf[i:]...)
	_, _, err := imageinfo.Count(context.Background(), forged, imageinfo.Limits{})
	if !errors.Is(err, imageinfo.ErrTooLarge) || !strings.Contains(err.Error(), "60000x60000") {
		t.Fatalf("Count = %v, want the 60000x60000 page 1 refused", err)
	}
	n, _, err := imageinfo.Count(context.Background(), forged, imageinfo.Limits{MaxPixels: 60000 * 60000})
	if err != nil || n != 2 {
		t.Fatalf("Count = %d, %v; want 2 pages", n, err)
	}
}

func TestPDFErrorsQuotePoppler(t *testing.T) {
	_, _, err := imageinfo.Count(context.Background(), []byte("%PDF-1.4\nnothing here\n"), imageinfo.Limits{})
	if !errors.Is(err, imageinfo.ErrCorrupt) || !strings.Contains(err.Error(), "pdfinfo") || !strings.Contains(err.Error(), "Syntax Error") {
		t.Fatalf("Count = %v; want ErrCorrupt naming pdfinfo and quoting its stderr", err)
	}
}
