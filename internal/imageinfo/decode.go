package imageinfo

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
)

// Decode checks the header against lim, then decodes the whole image into 8-bit grey.
//
// Scans are decoded here, by Go's memory-safe decoders, and never by the C libraries behind
// Tesseract: a truncated or hostile file is a clear error instead of a crashed worker (and
// Leptonica's PNG reader, given a truncated file, leaves gosseract holding a NULL image).
// Grey is what recognition and preprocessing work on.
func Decode(data []byte, lim Limits) (*image.Gray, Info, error) {
	info, err := Inspect(data, lim)
	if err != nil {
		return nil, info, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, info, fmt.Errorf("%w: %s: %v", ErrCorrupt, info.Format, err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, info.Width, info.Height) {
		// A GIF's first frame may cover only part of its logical screen, at an offset.
		// Place it on a white page of the size the header declares, where it belongs, so
		// the image matches Info instead of being silently cropped and shifted.
		g := image.NewGray(image.Rect(0, 0, info.Width, info.Height))
		for i := range g.Pix {
			g.Pix[i] = 0xff
		}
		draw.Draw(g, b, img, b.Min, draw.Src)
		return g, info, nil
	}
	return ToGray(img), info, nil
}

// ToGray returns img as *image.Gray, converting (luma) when it is not one already.
func ToGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Bounds(), img, b.Min, draw.Src)
	return g
}
