package sample

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
)

// EncodePNG encodes img as an 8-bit grayscale PNG and inserts a pHYs chunk
// recording dpi. image/png never writes pHYs, and without it Tesseract has to
// estimate the resolution from the glyph sizes (it guessed 423 for our 300 dpi
// pages), which other consumers of the file cannot do at all.
func EncodePNG(img *image.Gray, dpi int) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	out, err := InsertPNGDensity(buf.Bytes(), dpi)
	if err != nil {
		return nil, fmt.Errorf("add png resolution: %w", err)
	}
	return out, nil
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// ihdrEnd is where the IHDR chunk ends: signature, then length, type, 13 data
// bytes and CRC. The PNG spec requires IHDR first, and pHYs must precede IDAT,
// so directly after IHDR is always a valid place.
const ihdrEnd = 8 + 4 + 4 + 13 + 4

// InsertPNGDensity returns the PNG p with a pHYs chunk recording dpi inserted after
// IHDR. p must not have one already.
func InsertPNGDensity(p []byte, dpi int) ([]byte, error) {
	if dpi <= 0 {
		return nil, fmt.Errorf("png density: dpi %d", dpi)
	}
	if len(p) < ihdrEnd || !bytes.Equal(p[:8], pngSignature) ||
		binary.BigEndian.Uint32(p[8:12]) != 13 || string(p[12:16]) != "IHDR" {
		return nil, errors.New("unexpected png layout: IHDR not first")
	}
	out := make([]byte, 0, len(p)+21)
	out = append(out, p[:ihdrEnd]...)
	out = appendChunk(out, "pHYs", physData(dpi))
	return append(out, p[ihdrEnd:]...), nil
}

// physData is the pHYs payload: pixels per metre in x and y, unit 1 (metre).
func physData(dpi int) []byte {
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	d := make([]byte, 9)
	binary.BigEndian.PutUint32(d[0:4], ppm)
	binary.BigEndian.PutUint32(d[4:8], ppm)
	d[8] = 1
	return d
}

// appendChunk appends a PNG chunk; its CRC covers the type and the data.
func appendChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}
