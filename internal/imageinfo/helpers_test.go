package imageinfo_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

var pngSig = []byte("\x89PNG\r\n\x1a\n")

// grayPattern is a w×h grey image whose pixels all differ from their neighbours, so a
// decoder that shifts, flips or drops rows is caught.
func grayPattern(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.SetGray(x, y, color.Gray{Y: uint8(x*7 + y*31 + x*y)})
		}
	}
	return g
}

// noisyGray is incompressible enough that half its PNG still holds the header but not the pixels.
func noisyGray(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	s := uint32(2463534242)
	for i := range g.Pix {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		g.Pix[i] = uint8(s)
	}
	return g
}

func grayPalette() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{Y: uint8(i)}
	}
	return p
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, g *image.Gray) []byte {
	t.Helper()
	p := image.NewPaletted(g.Bounds(), grayPalette())
	copy(p.Pix, g.Pix) // index i is grey level i
	var b bytes.Buffer
	if err := gif.Encode(&b, p, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeBMP(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bmp.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeTIFF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tiff.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk is one PNG chunk: length, type, data, CRC over type and data.
func pngChunk(typ string, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	crc := crc32.ChecksumIEEE(append([]byte(typ), data...))
	return binary.BigEndian.AppendUint32(out, crc)
}

// withPHYs inserts a pHYs chunk right after IHDR (signature 8 + IHDR 25 bytes).
func withPHYs(t testing.TB, p []byte, ppmX, ppmY uint32, unit byte) []byte {
	t.Helper()
	if !bytes.Equal(p[:8], pngSig) || string(p[12:16]) != "IHDR" {
		t.Fatal("not a PNG starting with IHDR")
	}
	d := binary.BigEndian.AppendUint32(nil, ppmX)
	d = binary.BigEndian.AppendUint32(d, ppmY)
	d = append(d, unit)
	out := append([]byte{}, p[:33]...)
	out = append(out, pngChunk("pHYs", d)...)
	return append(out, p[33:]...)
}

// ihdrOnly is a PNG signature and an IHDR chunk declaring w×h 8-bit grey, and nothing else.
func ihdrOnly(w, h uint32) []byte {
	d := binary.BigEndian.AppendUint32(nil, w)
	d = binary.BigEndian.AppendUint32(d, h)
	d = append(d, 8, 0, 0, 0, 0) // bit depth 8, greyscale, deflate, adaptive filter, no interlace
	return append(append([]byte{}, pngSig...), pngChunk("IHDR", d)...)
}

// withJFIF inserts a JFIF APP0 segment right after SOI (Go's encoder writes none).
func withJFIF(t testing.TB, j []byte, units byte, x, y uint16) []byte {
	t.Helper()
	if j[0] != 0xff || j[1] != 0xd8 {
		t.Fatal("not a JPEG")
	}
	seg := []byte{0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 2, units}
	seg = binary.BigEndian.AppendUint16(seg, x)
	seg = binary.BigEndian.AppendUint16(seg, y)
	seg = append(seg, 0, 0) // no thumbnail
	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

type rational struct{ num, den uint32 }

type tiffSpec struct {
	order      binary.AppendByteOrder
	xres, yres *rational
	unit       uint16 // 0: no ResolutionUnit tag
}

// buildTIFF hand-builds an uncompressed 8-bit grey TIFF of g, with the resolution tags spec asks for.
func buildTIFF(g *image.Gray, spec tiffSpec) []byte {
	bo := spec.order
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	type entry struct {
		tag, typ uint16
		count    uint32
		value    uint32 // SHORT or LONG value, or an offset for RATIONAL
		short    bool
	}
	const (
		tShort    = 3
		tLong     = 4
		tRational = 5
	)
	var entries []entry
	add := func(e entry) { entries = append(entries, e) }
	add(entry{256, tLong, 1, uint32(w), false})
	add(entry{257, tLong, 1, uint32(h), false})
	add(entry{258, tShort, 1, 8, true})
	add(entry{259, tShort, 1, 1, true})
	add(entry{262, tShort, 1, 1, true}) // BlackIsZero
	add(entry{273, tLong, 1, 0, false}) // StripOffsets, patched below
	add(entry{277, tShort, 1, 1, true})
	add(entry{278, tLong, 1, uint32(h), false})
	add(entry{279, tLong, 1, uint32(w * h), false})
	if spec.xres != nil {
		add(entry{282, tRational, 1, 0, false})
	}
	if spec.yres != nil {
		add(entry{283, tRational, 1, 0, false})
	}
	if spec.unit != 0 {
		add(entry{296, tShort, 1, uint32(spec.unit), true})
	}
	ifdLen := 2 + 12*len(entries) + 4
	extra := 8 + ifdLen // rationals follow the IFD
	var rats []byte
	for i := range entries {
		switch entries[i].tag {
		case 282:
			entries[i].value = uint32(extra + len(rats))
			rats = bo.AppendUint32(rats, spec.xres.num)
			rats = bo.AppendUint32(rats, spec.xres.den)
		case 283:
			entries[i].value = uint32(extra + len(rats))
			rats = bo.AppendUint32(rats, spec.yres.num)
			rats = bo.AppendUint32(rats, spec.yres.den)
		}
	}
	pixOff := extra + len(rats)
	for i := range entries {
		if entries[i].tag == 273 {
			entries[i].value = uint32(pixOff)
		}
	}

	var out []byte
	if bo == binary.LittleEndian {
		out = append(out, 'I', 'I')
	} else {
		out = append(out, 'M', 'M')
	}
	out = bo.AppendUint16(out, 42)
	out = bo.AppendUint32(out, 8)
	out = bo.AppendUint16(out, uint16(len(entries)))
	for _, e := range entries {
		out = bo.AppendUint16(out, e.tag)
		out = bo.AppendUint16(out, e.typ)
		out = bo.AppendUint32(out, e.count)
		if e.short {
			out = bo.AppendUint16(out, uint16(e.value))
			out = append(out, 0, 0)
		} else {
			out = bo.AppendUint32(out, e.value)
		}
	}
	out = bo.AppendUint32(out, 0) // no next IFD
	out = append(out, rats...)
	for y := 0; y < h; y++ {
		out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
	}
	return out
}

// gifHeader is a GIF whose logical screen is w×h and which has no frames.
func gifHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, ';')
}

// webp1x1 is a 1×1 lossless WebP (the smallest commonly cited one).
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

func sameGray(t testing.TB, got, want *image.Gray) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), want.Bounds())
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := got.GrayAt(x, y).Y, want.GrayAt(x, y).Y; g != w {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, y, g, w)
			}
		}
	}
}
