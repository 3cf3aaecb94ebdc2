package imageinfo

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/tiff"
)

// Leptonica's decoding (the fallback for TIFF pages Go cannot read) must give the very
// pixels Go's decoder gives where both read a page: same orientation, no byte swapped
// within Leptonica's 32-bit words, 1-bit pages black on white.
func TestLeptonicaMatchesGo(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 37, 23)) // odd width: rows are not whole words
	for i := range grey.Pix {
		grey.Pix[i] = uint8(i*7 + i/37*31)
	}
	rgb := image.NewRGBA(image.Rect(0, 0, 13, 9))
	for y := 0; y < 9; y++ {
		for x := 0; x < 13; x++ {
			rgb.Set(x, y, color.RGBA{uint8(x * 19), uint8(y * 28), uint8(x*y*3 + 40), 255})
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, 11, 5), color.Palette{color.Gray{Y: 10}, color.RGBA{20, 30, 230, 255}, color.RGBA{200, 30, 30, 255}, color.RGBA{40, 250, 20, 255}, color.White})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 5)
	}
	greyPal := image.NewPaletted(image.Rect(0, 0, 11, 5), color.Palette{color.Gray{Y: 10}, color.Gray{Y: 99}, color.White})
	for i := range greyPal.Pix {
		greyPal.Pix[i] = uint8(i % 3)
	}
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := tiff.Encode(&b, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	lept := func(g *image.Gray, format int) []byte {
		b, err := leptEncode(g, format, 300)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type file struct {
		name string
		data []byte
		tol  int // grey levels: RGB to luminance weighs a little differently
	}
	files := []file{
		{"grey, Go's encoder", encode(grey), 0},
		{"RGB, Go's encoder", encode(rgb), 1},
		{"colour palette, Go's encoder", encode(pal), 1},
		{"grey palette, Go's encoder", encode(greyPal), 0},
		{"grey, libtiff uncompressed", lept(grey, leptFormatTIFF), 0},
		{"grey, libtiff deflate", lept(grey, leptFormatTIFFZip), 0},
		{"1 bit, libtiff G4", lept(grey, leptFormatTIFFG4), 0},
	}
	if m, _ := filepath.Glob("../../../shared/corpus/*/*.tif*"); len(m) > 0 {
		if testing.Short() {
			m = m[:1]
		}
		for _, f := range m {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, file{"corpus " + filepath.Base(f), b, 0})
		}
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			pages, err := tiffPages(f.data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := decodeTIFFPage(f.data, pages[0], pages[0].info())
			if err != nil {
				t.Fatal(err)
			}
			got, err := leptDecode(f.data, leptTIFF, pages[0].width, pages[0].height)
			if err != nil {
				t.Fatal(err)
			}
			if got.Bounds() != want.Bounds() {
				t.Fatalf("Leptonica %v, Go %v", got.Bounds(), want.Bounds())
			}
			worst := 0
			for i := range want.Pix {
				d := int(got.Pix[i]) - int(want.Pix[i])
				worst = max(worst, d, -d)
			}
			if worst > f.tol {
				t.Errorf("Leptonica and Go differ by up to %d grey levels, want <= %d", worst, f.tol)
			}
		})
	}
}
