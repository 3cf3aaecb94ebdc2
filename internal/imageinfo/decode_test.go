package imageinfo_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
)

func TestDecodeGrayPNG(t *testing.T) {
	want := grayPattern(61, 17)
	img, info, err := imageinfo.Decode(encodePNG(t, want), imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info != (imageinfo.Info{Format: "png", Width: 61, Height: 17}) {
		t.Errorf("Info = %+v", info)
	}
	sameGray(t, img, want)
}

func TestDecodeConvertsToGray(t *testing.T) {
	rgba := image.NewRGBA(image.Rect(0, 0, 6, 2))
	cols := []color.RGBA{
		{255, 255, 255, 255}, // white
		{0, 0, 0, 255},       // black
		{255, 0, 0, 255},     // red
		{0, 255, 0, 255},     // green
		{0, 0, 255, 255},     // blue
		{128, 128, 128, 255}, // mid grey
	}
	want := []uint8{255, 0, 76, 150, 29, 128} // ITU-R 601 luma, as color.GrayModel
	for x, c := range cols {
		rgba.SetRGBA(x, 0, c)
		rgba.SetRGBA(x, 1, c)
	}
	for _, enc := range []struct {
		name string
		data []byte
	}{
		{"rgba png", encodePNG(t, rgba)},
		{"rgba bmp", encodeBMP(t, rgba)},
		{"rgba tiff", encodeTIFF(t, rgba)},
		{"nrgba png", encodePNG(t, func() image.Image {
			n := image.NewNRGBA(rgba.Bounds())
			draw.Draw(n, n.Bounds(), rgba, image.Point{}, draw.Src)
			return n
		}())},
		{"gray16 png", encodePNG(t, func() image.Image {
			g := image.NewGray16(rgba.Bounds())
			draw.Draw(g, g.Bounds(), rgba, image.Point{}, draw.Src)
			return g
		}())},
	} {
		t.Run(enc.name, func(t *testing.T) {
			img, _, err := imageinfo.Decode(enc.data, imageinfo.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds() != rgba.Bounds() {
				t.Fatalf("bounds %v, want %v", img.Bounds(), rgba.Bounds())
			}
			for x, w := range want {
				for y := 0; y < 2; y++ {
					if got := img.GrayAt(x, y).Y; got != w {
						// The 16-bit grey round trip may differ by one in the luma rounding.
						if enc.name == "gray16 png" && (int(got)-int(w) == 1 || int(w)-int(got) == 1) {
							continue
						}
						t.Errorf("pixel (%d,%d) of %v = %d, want %d", x, y, cols[x], got, w)
					}
				}
			}
		})
	}
}

func TestDecodeJPEGApproximately(t *testing.T) {
	// A flat JPEG decodes to (almost) the same flat grey.
	g := image.NewGray(image.Rect(0, 0, 24, 16))
	for i := range g.Pix {
		g.Pix[i] = 200
	}
	img, _, err := imageinfo.Decode(encodeJPEG(t, g), imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != g.Bounds() {
		t.Fatalf("bounds %v", img.Bounds())
	}
	for i, p := range img.Pix[:img.Stride*16] {
		if p < 197 || p > 203 {
			t.Fatalf("pixel %d = %d, want about 200", i, p)
		}
	}
	// A colour JPEG decodes (YCbCr) and converts.
	rgba := image.NewRGBA(image.Rect(0, 0, 16, 16))
	draw.Draw(rgba, rgba.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	img, _, err = imageinfo.Decode(encodeJPEG(t, rgba), imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range img.Pix {
		if p < 250 {
			t.Fatalf("white JPEG pixel %d = %d", i, p)
		}
	}
}

func TestDecodeTruncated(t *testing.T) {
	g := noisyGray(64, 64)
	full := encodePNG(t, g)
	tests := []struct {
		name string
		data []byte
	}{
		{"png first half", full[:len(full)/2]},
		{"png without IEND", full[:len(full)-12]},
		{"png cut after IHDR", full[:33]},
		{"png cut one byte short", full[:len(full)-1]},
		{"png IDAT CRC broken", func() []byte {
			b := bytes.Clone(full)
			i := bytes.Index(b, []byte("IDAT"))
			b[i+10] ^= 0x55
			return b
		}()},
		{"tiff pixel data cut", func() []byte {
			// buildTIFF puts the IFD first (x/image/tiff writes it last), so half keeps it.
			b := buildTIFF(g, tiffSpec{order: binary.BigEndian})
			return b[:len(b)/2]
		}()},
		{"gif cut", func() []byte {
			b := encodeGIF(t, g)
			return b[:len(b)/2]
		}()},
		{"bmp cut", func() []byte {
			b := encodeBMP(t, g)
			return b[:len(b)/2]
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The header is intact, so Inspect is happy...
			info, err := imageinfo.Inspect(tt.data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Inspect of a truncated file with an intact header: %v", err)
			}
			if info.Width != 64 || info.Height != 64 {
				t.Fatalf("Inspect = %+v", info)
			}
			// ...but the pixels are not there.
			img, dinfo, err := imageinfo.Decode(tt.data, imageinfo.Limits{})
			if err == nil {
				t.Fatal("Decode accepted a truncated image")
			}
			if img != nil {
				t.Error("Decode returned an image with its error")
			}
			if !errors.Is(err, imageinfo.ErrCorrupt) {
				t.Fatalf("Decode error %q is not ErrCorrupt", err)
			}
			if errors.Is(err, imageinfo.ErrNotImage) || errors.Is(err, imageinfo.ErrTooLarge) {
				t.Fatalf("Decode error %q matches another sentinel", err)
			}
			if dinfo != info {
				t.Errorf("Decode returned Info %+v with its error, want the header's %+v", dinfo, info)
			}
		})
	}
}

// jpegHeader returns the bytes of j up to the end of its SOS segment: everything a decoder
// reads before the entropy-coded data.
func jpegHeader(t *testing.T, j []byte) []byte {
	t.Helper()
	i := bytes.Index(j, []byte{0xff, 0xda})
	if i < 0 {
		t.Fatal("no SOS marker")
	}
	n := int(j[i+2])<<8 | int(j[i+3])
	return j[:i+2+n]
}

func TestDecodeJPEGGarbageBody(t *testing.T) {
	j := encodeJPEG(t, noisyGray(64, 64))
	hdr := jpegHeader(t, j)
	tests := []struct {
		name string
		data []byte
	}{
		{"header only", hdr},
		{"header and a little garbage", append(bytes.Clone(hdr), "garbage"...)},
		{"header and zeros", append(bytes.Clone(hdr), make([]byte, 32)...)},
		{"first half", j[:len(j)/2]},
		{"cut before EOI", j[:len(j)-2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := imageinfo.Inspect(tt.data, imageinfo.Limits{}); err != nil {
				t.Logf("Inspect already refuses it: %v", err)
			}
			img, _, err := imageinfo.Decode(tt.data, imageinfo.Limits{})
			if err == nil {
				t.Fatalf("Decode accepted a JPEG with a garbage body (%v)", img.Bounds())
			}
			if !errors.Is(err, imageinfo.ErrCorrupt) && !errors.Is(err, imageinfo.ErrNotImage) {
				t.Fatalf("Decode error %q is neither ErrCorrupt nor ErrNotImage", err)
			}
		})
	}
}

func TestDecodeJPEGShortScanWithEOI(t *testing.T) {
	// Go's JPEG decoder, like libjpeg, pads entropy-coded data that ends early at a marker
	// with zeros rather than failing: a header, a few garbage bytes and an EOI decode to an
	// image of the declared size. This pins that leniency (it yields a wrong page, never a
	// crash or an oversized allocation) so that a change in it is noticed.
	j := encodeJPEG(t, noisyGray(64, 64))
	data := append(append(bytes.Clone(jpegHeader(t, j)), bytes.Repeat([]byte{0x5a}, 64)...), 0xff, 0xd9)
	img, info, err := imageinfo.Decode(data, imageinfo.Limits{})
	if err != nil {
		if !errors.Is(err, imageinfo.ErrCorrupt) {
			t.Fatalf("Decode error %q is not ErrCorrupt", err)
		}
		return
	}
	if img.Bounds() != image.Rect(0, 0, info.Width, info.Height) || info.Width != 64 || info.Height != 64 {
		t.Fatalf("Decode gave %v with Info %+v", img.Bounds(), info)
	}
}

func TestDecodeGIFPartialFrame(t *testing.T) {
	// A GIF's first frame may cover part of the logical screen, at an offset. Decode must
	// return the whole screen, as Inspect reports it, with the frame where it belongs.
	pal := color.Palette{color.Gray{Y: 0}, color.Gray{Y: 255}, color.Gray{Y: 90}}
	frame := image.NewPaletted(image.Rect(5, 2, 15, 8), pal)
	for i := range frame.Pix {
		frame.Pix[i] = 2 // grey 90
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image:  []*image.Paletted{frame},
		Delay:  []int{0},
		Config: image.Config{ColorModel: pal, Width: 20, Height: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := imageinfo.Decode(buf.Bytes(), imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 20 || info.Height != 10 {
		t.Fatalf("Info = %+v, want 20x10", info)
	}
	if img.Bounds() != image.Rect(0, 0, 20, 10) {
		t.Fatalf("Decode bounds %v, want the 20x10 screen Inspect reports", img.Bounds())
	}
	for y := 0; y < 10; y++ {
		for x := 0; x < 20; x++ {
			want := uint8(255) // uncovered screen: paper
			if image.Pt(x, y).In(frame.Rect) {
				want = 90
			}
			if got := img.GrayAt(x, y).Y; got != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}
}

func TestToGray(t *testing.T) {
	g := grayPattern(4, 3)
	if got := imageinfo.ToGray(g); got != g {
		t.Error("ToGray copied an *image.Gray instead of returning it")
	}

	// A sub-image away from the origin comes back at the origin, same size, same pixels.
	rgba := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for y := 0; y < 10; y++ {
		for x := 0; x < 10; x++ {
			v := uint8(x*20 + y)
			rgba.SetRGBA(x, y, color.RGBA{v, v, v, 255})
		}
	}
	sub := rgba.SubImage(image.Rect(3, 4, 8, 9))
	out := imageinfo.ToGray(sub)
	if out.Bounds() != image.Rect(0, 0, 5, 5) {
		t.Fatalf("ToGray bounds %v, want (0,0)-(5,5)", out.Bounds())
	}
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			if got, want := out.GrayAt(x, y).Y, uint8((x+3)*20+(y+4)); got != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, y, got, want)
			}
		}
	}

	// Paletted images convert through their palette.
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.White, color.Black})
	p.Pix[0], p.Pix[1] = 1, 0
	pg := imageinfo.ToGray(p)
	if pg.Pix[0] != 0 || pg.Pix[1] != 255 {
		t.Errorf("paletted → %v, want [0 255]", pg.Pix[:2])
	}
}

// corpusDir is the shared scan corpus beside the repository (../shared/corpus from its root).
const corpusDir = "../../../shared/corpus"

func TestDecodeCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus at %s: %v", corpusDir, err)
	}
	var files []string
	for _, pat := range []string{"*/*.tif", "*/*.tiff"} {
		m, err := filepath.Glob(filepath.Join(corpusDir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skipf("no TIFFs under %s", corpusDir)
	}
	if testing.Short() && len(files) > 3 {
		files = files[:3]
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, corpusDir+"/")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			info, err := imageinfo.Inspect(data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Format != "tiff" {
				t.Errorf("format %q, want tiff", info.Format)
			}
			// A scanned page: hundreds to thousands of pixels a side, portrait or landscape.
			if info.Width < 300 || info.Height < 300 || info.Width > 20000 || info.Height > 20000 {
				t.Errorf("implausible page size %dx%d", info.Width, info.Height)
			}
			if r := float64(info.Width) / float64(info.Height); r < 0.2 || r > 5 {
				t.Errorf("implausible aspect ratio %dx%d", info.Width, info.Height)
			}
			if info.DPI < 0 || info.DPI > 2400 {
				t.Errorf("implausible declared DPI %d", info.DPI)
			}
			img, dinfo, err := imageinfo.Decode(data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if dinfo != info {
				t.Errorf("Decode Info %+v, Inspect %+v", dinfo, info)
			}
			if img.Bounds() != image.Rect(0, 0, info.Width, info.Height) {
				t.Fatalf("decoded bounds %v, header %dx%d", img.Bounds(), info.Width, info.Height)
			}
			// A page is mostly paper with some ink: neither blank nor solid.
			var dark int
			for y := 0; y < info.Height; y++ {
				for _, p := range img.Pix[y*img.Stride : y*img.Stride+info.Width] {
					if p < 128 {
						dark++
					}
				}
			}
			frac := float64(dark) / float64(info.Width*info.Height)
			if frac < 0.001 || frac > 0.5 {
				t.Errorf("dark fraction %.4f: not a page of text on paper", frac)
			}
			t.Logf("%dx%d, %d dpi declared, %.1f%% ink", info.Width, info.Height, info.DPI, 100*frac)
		})
	}
}

func TestCorpusDeclaredDPI(t *testing.T) {
	// The corpus README documents what the headers claim.
	tests := []struct {
		file string
		dpi  int
	}{
		{"tesseract-test/phototest.tif", 200},
		{"tesseract-test/eurotext.tif", 300},
		// The README says the old-books headers "claim 1 dpi": they carry no XResolution,
		// YResolution or ResolutionUnit tag at all, which tools report as 1; Inspect says 0.
		{"old-books/a023.tiff", 0},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(corpusDir, tt.file))
		if err != nil {
			t.Skipf("corpus file unavailable: %v", err)
		}
		info, err := imageinfo.Inspect(data, imageinfo.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if info.DPI != tt.dpi {
			t.Errorf("%s: DPI %d, want %d", tt.file, info.DPI, tt.dpi)
		}
	}
}
