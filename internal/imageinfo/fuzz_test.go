package imageinfo_test

import (
	"bytes"
	"context"
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

// FuzzCountTIFF feeds TIFF files, one page or many, to Count and DecodePage: the IFD walk
// (offsets, loops, entry counts) in Go, then each page through Go's decoder or, for what
// that one does not support, Leptonica and libtiff. Nothing may crash, every error is one
// of the sentinels, and what Count accepts DecodePage decodes to the size Count declared.
func FuzzCountTIFF(f *testing.F) {
	g, n := grayPattern(12, 9), noisyGray(7, 5)
	two := buildTIFFPages(binary.LittleEndian, tiffPageSpec{g: g, dpi: 300}, tiffPageSpec{g: n, dpi: 200})
	ifds, nexts := tiffIFDs(f, two)
	loop := bytes.Clone(two)
	binary.LittleEndian.PutUint32(loop[nexts[1]:], uint32(ifds[0]))
	for _, s := range [][]byte{
		encodeTIFF(f, g),
		buildTIFF(g, tiffSpec{order: binary.BigEndian, xres: &rational{118, 1}, yres: &rational{118, 1}, unit: 3}),
		two,
		loop,
		two[:len(two)-20],
		buildTIFFPages(binary.BigEndian, tiffPageSpec{g: n}, tiffPageSpec{g: g, subfile: 1}, tiffPageSpec{g: g}),
		leptTIFF(f, 300, []int{imageinfo.LeptFormatTIFFZip, imageinfo.LeptFormatTIFFG4, imageinfo.LeptFormatTIFFJPEG}, n, threshold(g), g),
		leptTIFF(f, 0, []int{imageinfo.LeptFormatTIFFJPEG}, blocks(16, 16)),
		[]byte("II*\x00\x08\x00\x00\x00"),
	} {
		f.Add(s)
	}
	const maxPages = 8
	lim := imageinfo.Limits{MaxPixels: fuzzLimit, MaxPages: maxPages}
	f.Fuzz(func(t *testing.T, data []byte) {
		if imageinfo.Sniff(data) != "tiff" {
			return
		}
		ctx := context.Background()
		n, info, err := imageinfo.Count(ctx, data, lim)
		if err != nil {
			if !errors.Is(err, imageinfo.ErrNotImage) && !errors.Is(err, imageinfo.ErrCorrupt) && !errors.Is(err, imageinfo.ErrTooLarge) {
				t.Fatalf("Count error %q matches no sentinel", err)
			}
			return
		}
		if n < 1 || n > maxPages {
			t.Fatalf("Count = %d pages, limit %d", n, maxPages)
		}
		if info.Format != "tiff" || info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > fuzzLimit || info.DPI < 0 {
			t.Fatalf("Count accepted %+v", info)
		}
		for i := 0; i < n && i < 4; i++ {
			img, pinfo, err := imageinfo.DecodePage(ctx, data, i, lim)
			if err != nil {
				if img != nil {
					t.Fatal("DecodePage returned an image with its error")
				}
				if errors.Is(err, imageinfo.ErrTooLarge) {
					t.Fatalf("DecodePage(%d) refuses as too large a page Count accepted: %v", i, err)
				}
				if !errors.Is(err, imageinfo.ErrNotImage) && !errors.Is(err, imageinfo.ErrCorrupt) {
					t.Fatalf("DecodePage(%d) error %q matches no sentinel", i, err)
				}
				continue
			}
			if i == 0 && pinfo != info {
				t.Fatalf("DecodePage(0) Info %+v, Count's %+v", pinfo, info)
			}
			if img.Bounds() != image.Rect(0, 0, pinfo.Width, pinfo.Height) || len(img.Pix) < pinfo.Width*pinfo.Height {
				t.Fatalf("DecodePage(%d) bounds %v, %d bytes; Info %+v", i, img.Bounds(), len(img.Pix), pinfo)
			}
		}
		if _, _, err := imageinfo.DecodePage(ctx, data, n, lim); !errors.Is(err, imageinfo.ErrNoPage) {
			t.Fatalf("DecodePage(%d) of %d pages = %v, want ErrNoPage", n, n, err)
		}
	})
}

// FuzzCountJP2 feeds JPEG 2000 files to Count and DecodePage: the box and SIZ parsing in
// Go, then OpenJPEG through Leptonica for what that parsing lets through.
func FuzzCountJP2(f *testing.F) {
	b := blocks(40, 32)
	jp2 := leptEncode(f, b, imageinfo.LeptFormatJP2, 0)
	for _, s := range [][]byte{
		jp2,
		withJP2Res(f, jp2, 11811, 2835, 1, 0),
		leptEncode(f, noisyGray(33, 17), imageinfo.LeptFormatJP2, 0),
		jp2[:len(jp2)/2],
	} {
		f.Add(s)
	}
	lim := imageinfo.Limits{MaxPixels: fuzzLimit}
	f.Fuzz(func(t *testing.T, data []byte) {
		if imageinfo.Sniff(data) != "jp2" {
			return
		}
		ctx := context.Background()
		n, info, err := imageinfo.Count(ctx, data, lim)
		if err != nil {
			if !errors.Is(err, imageinfo.ErrNotImage) && !errors.Is(err, imageinfo.ErrCorrupt) && !errors.Is(err, imageinfo.ErrTooLarge) {
				t.Fatalf("Count error %q matches no sentinel", err)
			}
			return
		}
		if n != 1 || info.Format != "jp2" || info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > fuzzLimit || info.DPI < 0 {
			t.Fatalf("Count accepted %d pages, %+v", n, info)
		}
		img, pinfo, err := imageinfo.DecodePage(ctx, data, 0, lim)
		if err != nil {
			if img != nil || !errors.Is(err, imageinfo.ErrCorrupt) {
				t.Fatalf("DecodePage = %v (image %v), want ErrCorrupt or success", err, img != nil)
			}
			return
		}
		if pinfo != info || img.Bounds() != image.Rect(0, 0, info.Width, info.Height) {
			t.Fatalf("DecodePage %+v bounds %v; Count %+v", pinfo, img.Bounds(), info)
		}
	})
}
