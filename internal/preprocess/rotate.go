package preprocess

import (
	"fmt"
	"image"
)

// RotateOrth returns img turned clockwise by deg, a multiple of 90 (orientation fixes are
// quarter turns, done exactly: no resampling).
func RotateOrth(img *image.Gray, deg int) (*image.Gray, error) {
	deg = ((deg % 360) + 360) % 360
	if deg%90 != 0 {
		return nil, fmt.Errorf("rotate by %d degrees: want a multiple of 90", deg)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if deg == 0 {
		out := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			copy(out.Pix[y*out.Stride:y*out.Stride+w], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return out, nil
	}
	ow, oh := w, h
	if deg != 180 {
		ow, oh = h, w
	}
	out := image.NewGray(image.Rect(0, 0, ow, oh))
	for y := range h {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := range w {
			v := row[x]
			switch deg {
			case 90: // (x, y) -> (h-1-y, x)
				out.Pix[x*out.Stride+h-1-y] = v
			case 180:
				out.Pix[(h-1-y)*out.Stride+w-1-x] = v
			case 270: // (x, y) -> (y, w-1-x)
				out.Pix[(w-1-x)*out.Stride+y] = v
			}
		}
	}
	return out, nil
}
