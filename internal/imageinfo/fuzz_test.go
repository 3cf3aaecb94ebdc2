package imageinfo_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
)

// fuzzLimit keeps the fuzzers fast: a mutated header may claim any size up to it, and
// Decode then allocates for it.
const fuzzLimit = 1 << 18

func fuzzSeeds(t testing.TB) [][]byte {
	g := grayPattern(12, 9)
	rgba := image.NewRGBA(image.Rect(0, 0, 5, 4))
	rgba.Set(1, 1, color.RGBA{200, 10, 10, 255})
	pal := color.Palette{color.Gray{Y: 0}, color.Gray{Y: 255}}
	var partial bytes.Buffer
	if err := gif.EncodeAll(&partial, &gif.GIF{
		Image:  []*image.Paletted{image.NewPaletted(image.Rect(2, 1, 6, 4), pal)},
		Delay:  []int{0},
		Config: image.Config{ColorModel: pal, Width: 8, Height: 6},
	}); err != nil {
		t.Fatal(err)
	}
	p := encodePNG(t, g)
	j := encodeJPEG(t, g)
	return [][]byte{
		p,
		withPHYs(t, p, 11811, 11811, 1),
		p[:len(p)/2],
		encodePNG(t, rgba),
		ihdrOnly(60000, 60000),
		ihdrOnly(0, 5),
		j,
		withJFIF(t, j, 1, 200, 200),
		withJFIF(t, j, 2, 118, 118),
		j[:len(j)/2],
		encodeGIF(t, g),
		partial.Bytes(),
		gifHeader(0, 0),
		encodeBMP(t, g),
		encodeBMP(t, rgba),
		encodeTIFF(t, g),
		buildTIFF(g, tiffSpec{order: binary.LittleEndian, xres: &rational{400, 1}, yres: &rational{400, 1}, unit: 2}),
		buildTIFF(g, tiffSpec{order: binary.BigEndian, xres: &rational{118, 1}, yres: &rational{118, 1}, unit: 3}),
		webp1x1,
		[]byte("hello"),
		{},
	}
}

func checkInfo(t *testing.T, data []byte, info imageinfo.Info) {
	t.Helper()
	if info.Width <= 0 || info.Height <= 0 {
		t.Fatalf("accepted %dx%d", info.Width, info.Height)
	}
	if px := int64(info.Width) * int64(info.Height); px > fuzzLimit {
		t.Fatalf("accepted %dx%d = %d px, over the limit %d", info.Width, info.Height, px, fuzzLimit)
	}
	if info.DPI < 0 {
		t.Fatalf("negative DPI %d", info.DPI)
	}
	if s := imageinfo.Sniff(data); s != info.Format {
		t.Fatalf("Inspect says %q, Sniff %q", info.Format, s)
	}
	if imageinfo.ContentType(info.Format) == "application/octet-stream" {
		t.Fatalf("accepted format %q has no image content type", info.Format)
	}
}

func FuzzInspect(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: fuzzLimit})
		if err != nil {
			if !errors.Is(err, imageinfo.ErrNotImage) && !errors.Is(err, imageinfo.ErrTooLarge) {
				t.Fatalf("Inspect error %q is neither ErrNotImage nor ErrTooLarge", err)
			}
			return
		}
		checkInfo(t, data, info)
		// Inspect is a pure function of its input.
		again, err := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: fuzzLimit})
		if err != nil || again != info {
			t.Fatalf("second Inspect = %+v, %v; first %+v", again, err, info)
		}
		// A tighter limit refuses exactly when the image exceeds it.
		px := int64(info.Width) * int64(info.Height)
		if _, err := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: px - 1}); px > 1 && !errors.Is(err, imageinfo.ErrTooLarge) {
			t.Fatalf("limit %d below %d px: %v, want ErrTooLarge", px-1, px, err)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := imageinfo.Decode(data, imageinfo.Limits{MaxPixels: fuzzLimit})
		if err != nil {
			if img != nil {
				t.Fatal("Decode returned an image with its error")
			}
			if !errors.Is(err, imageinfo.ErrNotImage) && !errors.Is(err, imageinfo.ErrTooLarge) && !errors.Is(err, imageinfo.ErrCorrupt) {
				t.Fatalf("Decode error %q matches no sentinel", err)
			}
			return
		}
		checkInfo(t, data, info)
		ins, err := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: fuzzLimit})
		if err != nil || ins != info {
			t.Fatalf("Decode's Info %+v, Inspect's %+v, %v", info, ins, err)
		}
		if img == nil {
			t.Fatal("Decode returned no image and no error")
		}
		if want := image.Rect(0, 0, info.Width, info.Height); img.Bounds() != want {
			t.Fatalf("decoded bounds %v, Inspect says %v", img.Bounds(), want)
		}
		if img.Stride < info.Width || len(img.Pix) < (info.Height-1)*img.Stride+info.Width {
			t.Fatalf("pixel buffer %d bytes, stride %d, too small for %dx%d", len(img.Pix), img.Stride, info.Width, info.Height)
		}
	})
}
