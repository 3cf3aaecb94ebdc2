package degrade

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"math"
)

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
