package degrade

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
)

// EncodePNG encodes img as an 8-bit grey PNG with a pHYs chunk recording dpi (image/png
// writes none, and without it OCR engines must guess the resolution).
func EncodePNG(img *image.Gray, dpi int) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return InsertPNGDensity(buf.Bytes(), dpi)
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// ihdrEnd is where the IHDR chunk ends: signature, length, type, 13 data bytes, CRC. IHDR
// comes first and pHYs must precede IDAT, so right after IHDR is always a valid place.
const ihdrEnd = 8 + 4 + 4 + 13 + 4

// InsertPNGDensity returns the PNG p with a pHYs chunk recording dpi inserted after IHDR.
// p must not have one already.
func InsertPNGDensity(p []byte, dpi int) ([]byte, error) {
	if dpi <= 0 {
		return nil, fmt.Errorf("png density: dpi %d", dpi)
	}
	if len(p) < ihdrEnd || !bytes.Equal(p[:8], pngSignature) ||
		binary.BigEndian.Uint32(p[8:12]) != 13 || string(p[12:16]) != "IHDR" {
		return nil, errors.New("png density: IHDR not first")
	}
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	data := make([]byte, 9)
	binary.BigEndian.PutUint32(data[0:4], ppm)
	binary.BigEndian.PutUint32(data[4:8], ppm)
	data[8] = 1 // unit: metre
	out := make([]byte, 0, len(p)+12+len(data))
	out = append(out, p[:ihdrEnd]...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, "pHYs"...)
	out = append(out, data...)
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	return append(out, p[ihdrEnd:]...), nil
}

// EncodeJPEG encodes img as a grey JPEG of the given quality (1-100) with a JFIF APP0
// segment recording dpi (image/jpeg writes none).
func EncodeJPEG(img *image.Gray, dpi, quality int) ([]byte, error) {
	if quality < 1 || quality > 100 {
		return nil, fmt.Errorf("encode jpeg: quality %d: want 1-100", quality)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return InsertJFIFDensity(buf.Bytes(), dpi)
}

// InsertJFIFDensity returns the JPEG j with a JFIF APP0 segment recording dpi (in dots per
// inch) right after SOI. j must not start with one already.
func InsertJFIFDensity(j []byte, dpi int) ([]byte, error) {
	if dpi <= 0 || dpi > math.MaxUint16 {
		return nil, fmt.Errorf("jfif density: dpi %d", dpi)
	}
	if len(j) < 4 || j[0] != 0xff || j[1] != 0xd8 {
		return nil, errors.New("jfif density: no SOI")
	}
	if j[2] == 0xff && j[3] == 0xe0 {
		return nil, errors.New("jfif density: already has APP0")
	}
	app0 := []byte{
		0xff, 0xe0, 0x00, 0x10, // APP0, length 16
		'J', 'F', 'I', 'F', 0x00,
		0x01, 0x02, // version 1.02
		0x01,       // units: dots per inch
		0, 0, 0, 0, // X and Y density, below
		0x00, 0x00, // no thumbnail
	}
	binary.BigEndian.PutUint16(app0[12:], uint16(dpi))
	binary.BigEndian.PutUint16(app0[14:], uint16(dpi))
	out := make([]byte, 0, len(j)+len(app0))
	out = append(out, j[:2]...)
	out = append(out, app0...)
	return append(out, j[2:]...), nil
}
