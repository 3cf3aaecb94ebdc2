package imageinfotest

import (
	"context"
	"image"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
)

// TestFiles checks the files made here read back as the pages that went in.
func TestFiles(t *testing.T) {
	pages := []*image.Gray{image.NewGray(image.Rect(0, 0, 300, 200)), image.NewGray(image.Rect(0, 0, 200, 300))}
	for i, p := range pages {
		for j := range p.Pix {
			p.Pix[j] = byte(40 * (i + 1))
		}
	}
	for _, tt := range []struct {
		format string
		make   func([]*image.Gray, int) ([]byte, error)
	}{{"tiff", TIFF}, {"pdf", PDF}} {
		data, err := tt.make(pages, 300)
		if err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		n, info, err := imageinfo.Count(context.Background(), data, imageinfo.Limits{})
		if err != nil || n != 2 || info.Format != tt.format {
			t.Fatalf("%s: Count = %d, %q, %v", tt.format, n, info.Format, err)
		}
		for i, want := range pages {
			got, _, err := imageinfo.DecodePage(context.Background(), data, i, imageinfo.Limits{})
			if err != nil {
				t.Fatalf("%s page %d: %v", tt.format, i+1, err)
			}
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Errorf("%s page %d: %v, want %v", tt.format, i+1, got.Bounds().Size(), want.Bounds().Size())
			}
			if v := got.GrayAt(got.Bounds().Dx()/2, got.Bounds().Dy()/2).Y; v < want.Pix[0]-3 || v > want.Pix[0]+3 {
				t.Errorf("%s page %d: grey %d, want %d", tt.format, i+1, v, want.Pix[0])
			}
		}
	}
}
