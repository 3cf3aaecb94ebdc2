package imageinfo_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/imageinfo"
)

func TestSniff(t *testing.T) {
	g := grayPattern(7, 5)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"png", encodePNG(t, g), "png"},
		{"jpeg", encodeJPEG(t, g), "jpeg"},
		{"gif", encodeGIF(t, g), "gif"},
		{"bmp", encodeBMP(t, g), "bmp"},
		{"tiff from encoder", encodeTIFF(t, g), "tiff"},
		{"tiff little-endian", buildTIFF(g, tiffSpec{order: binary.LittleEndian}), "tiff"},
		{"tiff big-endian", buildTIFF(g, tiffSpec{order: binary.BigEndian}), "tiff"},
		{"webp", webp1x1, "webp"},
		{"png signature only", pngSig, "png"},
		{"jpeg magic only", []byte{0xff, 0xd8, 0xff}, "jpeg"},
		{"tiff II only", []byte("II*\x00"), "tiff"},
		{"tiff MM only", []byte("MM\x00*"), "tiff"},
		{"gif87a", []byte("GIF87a"), "gif"},
		{"bmp magic only", []byte("BM"), "bmp"},
		{"webp riff only", []byte("RIFF\x00\x00\x00\x00WEBP"), "webp"},
		{"pdf", []byte("%PDF-1.7\n"), "pdf"},
		{"pdf magic only", []byte("%PDF-"), "pdf"},
		{"jp2 signature box", []byte("\x00\x00\x00\x0cjP  \r\n\x87\n"), "jp2"},

		{"nil", nil, ""},
		{"empty", []byte{}, ""},
		{"hello", []byte("hello"), ""},
		{"text", []byte("Chapter 1\nIt was a dark and stormy night.\n"), ""},
		{"html", []byte("<!DOCTYPE html><html>"), ""},
		{"pdf without dash", []byte("%PDF"), ""},
		{"pdf lowercase", []byte("%pdf-1.4"), ""},
		{"j2k codestream", []byte("\xff\x4f\xff\x51\x00\x2f"), ""},
		{"jp2 signature cut", []byte("\x00\x00\x00\x0cjP  \r\n\x87"), ""},
		{"zip", []byte("PK\x03\x04"), ""},
		{"png signature truncated", pngSig[:7], ""},
		{"png lowercase", []byte("\x89png\r\n\x1a\n"), ""},
		{"jpeg two bytes", []byte{0xff, 0xd8}, ""},
		{"tiff wrong magic", []byte("II\x00*"), ""},
		{"tiff mixed order", []byte("IM*\x00"), ""},
		{"gif short", []byte("GIF"), ""},
		{"single B", []byte("B"), ""},
		{"riff but wav", []byte("RIFF\x00\x00\x00\x00WAVEfmt "), ""},
		{"riff webp short", []byte("RIFF\x00\x00\x00\x00WEB"), ""},
		{"leading space png", append([]byte(" "), pngSig...), ""},
	}
	for _, tt := range tests {
		if got := imageinfo.Sniff(tt.data); got != tt.want {
			t.Errorf("Sniff(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestContentTypeAndExt(t *testing.T) {
	tests := []struct {
		format, ct, ext string
	}{
		{"png", "image/png", "png"},
		{"jpeg", "image/jpeg", "jpg"},
		{"tiff", "image/tiff", "tif"},
		{"gif", "image/gif", "gif"},
		{"bmp", "image/bmp", "bmp"},
		{"webp", "image/webp", "webp"},
		{"", "application/octet-stream", ""},
		{"pdf", "application/pdf", "pdf"},
		{"jp2", "image/jp2", "jp2"},
		{"PNG", "application/octet-stream", "PNG"},
		{"jpg", "application/octet-stream", "jpg"},
	}
	for _, tt := range tests {
		if got := imageinfo.ContentType(tt.format); got != tt.ct {
			t.Errorf("ContentType(%q) = %q, want %q", tt.format, got, tt.ct)
		}
		if got := imageinfo.Ext(tt.format); got != tt.ext {
			t.Errorf("Ext(%q) = %q, want %q", tt.format, got, tt.ext)
		}
	}
}

func TestInspectFormats(t *testing.T) {
	g := grayPattern(37, 23)
	tests := []struct {
		name    string
		data    []byte
		format  string
		w, h    int
		dpi     int
		decodes bool // pixel-exact through Decode
	}{
		{"png", encodePNG(t, g), "png", 37, 23, 0, true},
		{"jpeg", encodeJPEG(t, g), "jpeg", 37, 23, 0, false},
		{"gif", encodeGIF(t, g), "gif", 37, 23, 0, true},
		{"bmp", encodeBMP(t, g), "bmp", 37, 23, 0, true},
		{"tiff from encoder (72 dpi)", encodeTIFF(t, g), "tiff", 37, 23, 72, true},
		{"tiff little-endian", buildTIFF(g, tiffSpec{order: binary.LittleEndian}), "tiff", 37, 23, 0, true},
		{"tiff big-endian", buildTIFF(g, tiffSpec{order: binary.BigEndian}), "tiff", 37, 23, 0, true},
		{"webp", webp1x1, "webp", 1, 1, 0, false},
		{"rgba png", encodePNG(t, image.NewRGBA(image.Rect(0, 0, 3, 2))), "png", 3, 2, 0, false},
		{"1x1 png", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), "png", 1, 1, 0, false},
		{"tall png", encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 3000))), "png", 1, 3000, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := imageinfo.Inspect(tt.data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			want := imageinfo.Info{Format: tt.format, Width: tt.w, Height: tt.h, DPI: tt.dpi}
			if info != want {
				t.Fatalf("Inspect = %+v, want %+v", info, want)
			}
			if got := imageinfo.Sniff(tt.data); got != info.Format {
				t.Errorf("Sniff = %q but Inspect says %q", got, info.Format)
			}
			img, dinfo, err := imageinfo.Decode(tt.data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if dinfo != info {
				t.Errorf("Decode's Info %+v differs from Inspect's %+v", dinfo, info)
			}
			if img.Bounds() != image.Rect(0, 0, tt.w, tt.h) {
				t.Fatalf("Decode bounds %v, want %dx%d at the origin", img.Bounds(), tt.w, tt.h)
			}
			if tt.decodes {
				sameGray(t, img, g)
			}
		})
	}
}

func TestInspectPNGDPI(t *testing.T) {
	base := encodePNG(t, grayPattern(8, 8))
	tests := []struct {
		name       string
		ppmX, ppmY uint32
		unit       byte
		want       int
	}{
		{"300 dpi", 11811, 11811, 1, 300},
		{"600 dpi", 23622, 23622, 1, 600},
		{"72 dpi", 2835, 2835, 1, 72},
		{"rounds up", 11800, 11800, 1, 300},   // 299.72
		{"rounds down", 11790, 11790, 1, 299}, // 299.47
		{"unit 0 is an aspect ratio", 11811, 11811, 0, 0},
		{"unknown unit", 11811, 11811, 2, 0},
		{"zero density", 0, 0, 1, 0},
		{"huge density", 1<<32 - 1, 1<<32 - 1, 1, 109_092_169},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := withPHYs(t, base, tt.ppmX, tt.ppmY, tt.unit)
			info, err := imageinfo.Inspect(data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.DPI != tt.want {
				t.Fatalf("DPI = %d, want %d", info.DPI, tt.want)
			}
			if info.Width != 8 || info.Height != 8 {
				t.Fatalf("dimensions %dx%d, want 8x8", info.Width, info.Height)
			}
			// The pHYs chunk is valid PNG: the image still decodes.
			if _, _, err := imageinfo.Decode(data, imageinfo.Limits{}); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}

	// pHYs after the first IDAT is not a resolution for the image data (and the reader stops at IDAT).
	idat := bytes.Index(base, []byte("IDAT")) - 4
	iend := bytes.Index(base, []byte("IEND")) - 4
	late := append([]byte{}, base[:iend]...)
	late = append(late, pngChunk("pHYs", []byte{0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1})...)
	late = append(late, base[iend:]...)
	if info, err := imageinfo.Inspect(late, imageinfo.Limits{}); err != nil || info.DPI != 0 {
		t.Errorf("pHYs after IDAT (at %d): Inspect = %+v, %v; want DPI 0", idat, info, err)
	}
	// A pHYs chunk of the wrong length is ignored.
	bad := append([]byte{}, base[:33]...)
	bad = append(bad, pngChunk("pHYs", []byte{0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23})...)
	bad = append(bad, base[33:]...)
	if info, err := imageinfo.Inspect(bad, imageinfo.Limits{}); err == nil && info.DPI != 0 {
		t.Errorf("8-byte pHYs: DPI = %d, want 0", info.DPI)
	}
	// Another ancillary chunk before pHYs does not hide it.
	text := append([]byte{}, base[:33]...)
	text = append(text, pngChunk("tEXt", []byte("Title\x00Parish register"))...)
	text = append(text, withPHYs(t, base, 11811, 11811, 1)[33:]...)
	if info, err := imageinfo.Inspect(text, imageinfo.Limits{}); err != nil || info.DPI != 300 {
		t.Errorf("tEXt then pHYs: Inspect = %+v, %v; want DPI 300", info, err)
	}
}

func TestInspectJPEGDPI(t *testing.T) {
	base := encodeJPEG(t, grayPattern(16, 16))
	tests := []struct {
		name  string
		units byte
		x, y  uint16
		want  int
	}{
		{"200 dpi", 1, 200, 200, 200},
		{"300 dpi", 1, 300, 300, 300},
		{"118 dots/cm", 2, 118, 118, 300},
		{"10 dots/cm", 2, 10, 10, 25},
		{"aspect ratio only", 0, 1, 1, 0},
		{"unknown unit", 3, 300, 300, 0},
		{"zero", 1, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := withJFIF(t, base, tt.units, tt.x, tt.y)
			info, err := imageinfo.Inspect(data, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.DPI != tt.want || info.Format != "jpeg" || info.Width != 16 || info.Height != 16 {
				t.Fatalf("Inspect = %+v, want jpeg 16x16 at %d dpi", info, tt.want)
			}
			if _, _, err := imageinfo.Decode(data, imageinfo.Limits{}); err != nil {
				t.Fatalf("Decode: %v", err)
			}
		})
	}
	if info, err := imageinfo.Inspect(base, imageinfo.Limits{}); err != nil || info.DPI != 0 {
		t.Errorf("JPEG without JFIF: Inspect = %+v, %v; want DPI 0", info, err)
	}
}

func TestInspectTIFFDPI(t *testing.T) {
	g := grayPattern(9, 6)
	r := func(n, d uint32) *rational { return &rational{n, d} }
	tests := []struct {
		name       string
		xres, yres *rational
		unit       uint16
		want       int
	}{
		{"400/1 inch", r(400, 1), r(400, 1), 2, 400},
		{"300/1 inch", r(300, 1), r(300, 1), 2, 300},
		{"600/2 inch", r(600, 2), r(600, 2), 2, 300},
		{"rounds", r(2999, 10), r(2999, 10), 2, 300},
		{"no unit tag means inches", r(400, 1), r(400, 1), 0, 400},
		{"cm", r(118, 1), r(118, 1), 3, 300},
		{"cm 400/1", r(400, 1), r(400, 1), 3, 1016},
		{"cm fractional", r(11811, 100), r(11811, 100), 3, 300},
		{"no absolute unit", r(400, 1), r(400, 1), 1, 0},
		{"unknown unit", r(400, 1), r(400, 1), 7, 0},
		{"zero denominator", r(400, 0), r(400, 0), 2, 0},
		{"zero numerator", r(0, 1), r(0, 1), 2, 0},
		{"no resolution tags", nil, nil, 2, 0},
		{"no tags at all", nil, nil, 0, 0},
		{"Y resolution is the one read", r(300, 1), r(600, 1), 2, 600},
		{"X alone is not enough", r(300, 1), nil, 2, 0},
	}
	for _, order := range []struct {
		name string
		bo   binary.AppendByteOrder
	}{{"LE", binary.LittleEndian}, {"BE", binary.BigEndian}} {
		for _, tt := range tests {
			t.Run(order.name+"/"+tt.name, func(t *testing.T) {
				data := buildTIFF(g, tiffSpec{order: order.bo, xres: tt.xres, yres: tt.yres, unit: tt.unit})
				info, err := imageinfo.Inspect(data, imageinfo.Limits{})
				if err != nil {
					t.Fatalf("Inspect: %v", err)
				}
				want := imageinfo.Info{Format: "tiff", Width: 9, Height: 6, DPI: tt.want}
				if info != want {
					t.Fatalf("Inspect = %+v, want %+v", info, want)
				}
				img, _, err := imageinfo.Decode(data, imageinfo.Limits{})
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				sameGray(t, img, g)
			})
		}
	}
}

func TestInspectRefuses(t *testing.T) {
	g := grayPattern(10, 10)
	p := encodePNG(t, g)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, imageinfo.ErrNotImage},
		{"empty", []byte{}, imageinfo.ErrNotImage},
		{"hello", []byte("hello"), imageinfo.ErrNotImage},
		{"text file", []byte("Chapter 1\n\nIt was a dark and stormy night; the rain fell in torrents.\n"), imageinfo.ErrNotImage},
		{"NULs", make([]byte, 64), imageinfo.ErrNotImage},
		{"pdf", []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj\n"), imageinfo.ErrNotImage}, // read by Count and DecodePage only
		{"jp2", []byte("\x00\x00\x00\x0cjP  \r\n\x87\n"), imageinfo.ErrNotImage},
		{"png signature then garbage", append(append([]byte{}, pngSig...), []byte("this is not a chunk at all, just words")...), imageinfo.ErrNotImage},
		{"png signature alone", pngSig, imageinfo.ErrNotImage},
		{"png with IHDR CRC broken", func() []byte { b := bytes.Clone(p); b[29] ^= 0xff; return b }(), imageinfo.ErrNotImage},
		{"png cut inside IHDR", p[:20], imageinfo.ErrNotImage},
		{"jpeg magic then garbage", append([]byte{0xff, 0xd8, 0xff}, bytes.Repeat([]byte{0x42}, 40)...), imageinfo.ErrNotImage},
		{"tiff magic then garbage", append([]byte("II*\x00"), bytes.Repeat([]byte{0xff}, 40)...), imageinfo.ErrNotImage},
		{"tiff IFD offset past end", []byte("MM\x00*\x7f\xff\xff\xff"), imageinfo.ErrNotImage},
		{"gif magic alone", []byte("GIF8"), imageinfo.ErrNotImage},
		{"bmp magic then text", []byte("BM is my initials"), imageinfo.ErrNotImage},
		{"webp riff without VP8", []byte("RIFF\x04\x00\x00\x00WEBPJUNK"), imageinfo.ErrNotImage},
		{"gif 0x0", gifHeader(0, 0), imageinfo.ErrNotImage},
		{"gif 0 wide", gifHeader(0, 10), imageinfo.ErrNotImage},
		{"gif 0 high", gifHeader(10, 0), imageinfo.ErrNotImage},
		{"png 0 wide", ihdrOnly(0, 10), imageinfo.ErrNotImage},
		{"tiff 0 wide", buildTIFF(image.NewGray(image.Rect(0, 0, 0, 5)), tiffSpec{order: binary.LittleEndian}), imageinfo.ErrNotImage},
		{"png 60000x60000", ihdrOnly(60000, 60000), imageinfo.ErrTooLarge},
		{"png 2^31-1 wide", ihdrOnly(1<<31-1, 1), imageinfo.ErrTooLarge},
		// The PNG decoder itself refuses a size whose byte count overflows.
		{"png 2^31-1 square", ihdrOnly(1<<31-1, 1<<31-1), imageinfo.ErrNotImage},
		{"gif 65535x65535", gifHeader(65535, 65535), imageinfo.ErrTooLarge},
		{"tiff 100000x100000", func() []byte {
			b := buildTIFF(image.NewGray(image.Rect(0, 0, 1, 1)), tiffSpec{order: binary.LittleEndian})
			binary.LittleEndian.PutUint32(b[8+2+8:], 100000)    // ImageWidth value
			binary.LittleEndian.PutUint32(b[8+2+12+8:], 100000) // ImageLength value
			return b
		}(), imageinfo.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := imageinfo.Inspect(tt.data, imageinfo.Limits{})
			if err == nil {
				t.Fatalf("Inspect accepted it: %+v", info)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Inspect error %q is not %q", err, tt.want)
			}
			other := imageinfo.ErrNotImage
			if tt.want == imageinfo.ErrNotImage {
				other = imageinfo.ErrTooLarge
			}
			if errors.Is(err, other) || errors.Is(err, imageinfo.ErrCorrupt) {
				t.Fatalf("Inspect error %q matches more than %q", err, tt.want)
			}
			img, _, derr := imageinfo.Decode(tt.data, imageinfo.Limits{})
			if derr == nil || img != nil {
				t.Fatalf("Decode accepted what Inspect refuses: %v", derr)
			}
			if !errors.Is(derr, tt.want) {
				t.Fatalf("Decode error %q is not %q", derr, tt.want)
			}
		})
	}
}

func TestInspectErrorMessages(t *testing.T) {
	_, err := imageinfo.Inspect([]byte("hello\x00\x01world"), imageinfo.Limits{})
	if err == nil || !strings.Contains(err.Error(), `"hello..w"`) {
		t.Errorf("error %v should quote the first 8 bytes, unprintables as dots", err)
	}
	_, err = imageinfo.Inspect(ihdrOnly(60000, 60000), imageinfo.Limits{})
	if err == nil || !strings.Contains(err.Error(), "60000x60000") {
		t.Errorf("error %v should give the declared size", err)
	}
}

func TestInspectBombDoesNotAllocatePixels(t *testing.T) {
	bomb := ihdrOnly(60000, 60000) // 3.6 Gpx, 3.6 GB as 8-bit grey
	if len(bomb) != 33 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	var err error
	allocs := testing.AllocsPerRun(20, func() {
		_, err = imageinfo.Inspect(bomb, imageinfo.Limits{})
	})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, imageinfo.ErrTooLarge) {
		t.Fatalf("Inspect = %v, want ErrTooLarge", err)
	}
	if allocs > 100 {
		t.Errorf("Inspect made %v allocations per run refusing a 33-byte header", allocs)
	}
	// 21 runs (AllocsPerRun warms up once); anything near a pixel buffer would be gigabytes.
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("refusing the bomb 21 times allocated %d bytes", got)
	}
	if elapsed > 2*time.Second {
		t.Errorf("refusing the bomb 21 times took %v", elapsed)
	}
	// Decode refuses it the same way, before decoding anything.
	runtime.ReadMemStats(&before)
	if _, _, err := imageinfo.Decode(bomb, imageinfo.Limits{}); !errors.Is(err, imageinfo.ErrTooLarge) {
		t.Fatalf("Decode = %v, want ErrTooLarge", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("Decode refusing the bomb allocated %d bytes", got)
	}
	// Inspect decodes no pixels: with a limit that admits it, the bare header is accepted.
	info, err := imageinfo.Inspect(bomb, imageinfo.Limits{MaxPixels: 60000 * 60000})
	if err != nil || info.Width != 60000 || info.Height != 60000 {
		t.Fatalf("Inspect with a 3.6 Gpx limit = %+v, %v", info, err)
	}
}

func TestLimits(t *testing.T) {
	data := encodePNG(t, grayPattern(100, 50)) // 5000 px
	tests := []struct {
		max int64
		ok  bool
	}{
		{0, true}, // DefaultMaxPixels
		{-1, true},
		{-1 << 62, true},
		{5000, true},
		{5001, true},
		{1 << 40, true},
		{4999, false},
		{100, false},
		{1, false},
	}
	for _, tt := range tests {
		info, err := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: tt.max})
		if tt.ok && err != nil {
			t.Errorf("MaxPixels %d: %v", tt.max, err)
		}
		if !tt.ok {
			if !errors.Is(err, imageinfo.ErrTooLarge) {
				t.Errorf("MaxPixels %d: err %v, want ErrTooLarge", tt.max, err)
			}
			if info.Width != 100 || info.Height != 50 {
				t.Errorf("MaxPixels %d: refused Info %+v should still carry the dimensions", tt.max, info)
			}
		}
		_, _, derr := imageinfo.Decode(data, imageinfo.Limits{MaxPixels: tt.max})
		if (derr == nil) != tt.ok {
			t.Errorf("Decode with MaxPixels %d: %v, want ok=%v", tt.max, derr, tt.ok)
		}
	}

	// The default admits an A3 page at 600 dpi and refuses just over the default.
	if _, err := imageinfo.Inspect(ihdrOnly(7016, 9921), imageinfo.Limits{}); err != nil {
		t.Errorf("A3 at 600 dpi refused: %v", err)
	}
	if _, err := imageinfo.Inspect(ihdrOnly(imageinfo.DefaultMaxPixels/1000, 1000), imageinfo.Limits{}); err != nil {
		t.Errorf("exactly DefaultMaxPixels refused: %v", err)
	}
	if _, err := imageinfo.Inspect(ihdrOnly(imageinfo.DefaultMaxPixels/1000+1, 1000), imageinfo.Limits{}); !errors.Is(err, imageinfo.ErrTooLarge) {
		t.Errorf("DefaultMaxPixels+1000 not refused as too large: %v", err)
	}
}
