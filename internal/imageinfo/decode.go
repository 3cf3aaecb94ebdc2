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
	img, err := decodePixels(data, info)
	if err != nil {
		return nil, info, fmt.Errorf("%w: %s: %v", ErrCorrupt, info.Format, err)
	}
	return img, info, nil
}

// decodePixels decodes data, whose header Inspect has read as info, into 8-bit grey.
func decodePixels(data []byte, info Info) (*image.Gray, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
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
		return g, nil
	}
	if info.Format == "webp" {
		// Lossy WebP (VP8) stores video-range luma, 16 for black to 235 for white, but
		// x/image/webp hands it over as a full-range image.YCbCr (golang/go#40173): taken
		// as it is, black would be grey 16 and white 235. Grey is the luma, stretched back.
		switch m := img.(type) {
		case *image.YCbCr:
			return videoLuma(m), nil
		case *image.NYCbCrA:
			return videoLuma(&m.YCbCr), nil
		}
	}
	return ToGray(img), nil
}

// videoLuma is the full-range grey of m's video-range luma: (Y-16)·255/219, clamped.
func videoLuma(m *image.YCbCr) *image.Gray {
	b := m.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		row := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		out := g.Pix[y*g.Stride:]
		for x := 0; x < b.Dx(); x++ {
			v := (int(row[x])-16)*255 + 219/2
			out[x] = uint8(min(max(v/219, 0), 255))
		}
	}
	return g
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
