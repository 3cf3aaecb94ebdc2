package preprocess

import (
	"image"
	"testing"
)

func TestRotateOrth(t *testing.T) {
	// A 3x2 image with distinct pixels, as a sub-image to check offsets are honoured.
	big := image.NewGray(image.Rect(0, 0, 5, 4))
	img := big.SubImage(image.Rect(1, 1, 4, 3)).(*image.Gray)
	v := byte(1)
	for y := 1; y < 3; y++ {
		for x := 1; x < 4; x++ {
			img.Pix[img.PixOffset(x, y)] = v
			v++
		}
	}
	// img rows: [1 2 3] [4 5 6]
	tests := []struct {
		deg  int
		want [][]byte
	}{
		{0, [][]byte{{1, 2, 3}, {4, 5, 6}}},
		{90, [][]byte{{4, 1}, {5, 2}, {6, 3}}},
		{180, [][]byte{{6, 5, 4}, {3, 2, 1}}},
		{270, [][]byte{{3, 6}, {2, 5}, {1, 4}}},
		{-90, [][]byte{{3, 6}, {2, 5}, {1, 4}}},
		{450, [][]byte{{4, 1}, {5, 2}, {6, 3}}},
	}
	for _, tt := range tests {
		got, err := RotateOrth(img, tt.deg)
		if err != nil {
			t.Fatalf("%d: %v", tt.deg, err)
		}
		if got.Bounds().Dy() != len(tt.want) || got.Bounds().Dx() != len(tt.want[0]) {
			t.Fatalf("%d: size %v", tt.deg, got.Bounds())
		}
		for y, row := range tt.want {
			for x, w := range row {
				if g := got.GrayAt(x, y).Y; g != w {
					t.Errorf("%d: (%d,%d) = %d, want %d", tt.deg, x, y, g, w)
				}
			}
		}
	}
	if _, err := RotateOrth(img, 45); err == nil {
		t.Error("45 degrees accepted")
	}
}
