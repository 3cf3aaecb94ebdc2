package preprocess

/*
#cgo pkg-config: lept
#cgo LDFLAGS: -lm
#include <stdlib.h>
#include "lept.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"math"
	"unsafe"
)

// Version is the Leptonica version the cleanup runs on, e.g. "1.82.0", for
// provenance next to the steps.
func Version() string {
	cs := C.getLeptonicaVersion() // "leptonica-1.82.0"; malloc'd by Leptonica
	if cs == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(cs))
	v := C.GoString(cs)
	const prefix = "leptonica-"
	if len(v) > len(prefix) && v[:len(prefix)] == prefix {
		return v[len(prefix):]
	}
	return v
}

// destroy frees a PIX; nil is fine.
func destroy(p *C.PIX) {
	if p != nil {
		C.pixDestroy(&p)
	}
}

// maxSide bounds each side of a page to what Leptonica accepts (its limit is
// 10^6) and what fits the C ints used for offsets.
const maxSide = 1_000_000

// fromGray copies img (checked by checkInput) into a new 8 bpp PIX.
func fromGray(img *image.Gray) (*C.PIX, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	off := img.PixOffset(b.Min.X, b.Min.Y)
	p := C.cp_pix_from_gray((*C.l_uint8)(unsafe.Pointer(&img.Pix[off])),
		C.l_int32(w), C.l_int32(h), C.l_int32(img.Stride))
	if p == nil {
		return nil, fmt.Errorf("copy %dx%d image into leptonica: allocation failed", w, h)
	}
	return p, nil
}

// toGray copies an 8 bpp PIX, or a 1 bpp one as 0 (ink) / 255 (paper), into a
// new image.
func toGray(p *C.PIX) (*image.Gray, error) {
	w, h, _ := dims(p)
	img := image.NewGray(image.Rect(0, 0, w, h))
	if len(img.Pix) == 0 {
		return nil, fmt.Errorf("copy %dx%d image out of leptonica: empty", w, h)
	}
	if C.cp_gray_from_pix(p, (*C.l_uint8)(unsafe.Pointer(&img.Pix[0])), C.l_int32(w), C.l_int32(h)) != 0 {
		return nil, fmt.Errorf("copy %dx%d image out of leptonica: unexpected depth", w, h)
	}
	return img, nil
}

func dims(p *C.PIX) (w, h, d int) {
	var cw, ch, cd C.l_int32
	C.pixGetDimensions(p, &cw, &ch, &cd)
	return int(cw), int(ch), int(cd)
}

// extremes returns the darkest and brightest grey values of an 8 bpp PIX.
func extremes(p *C.PIX) (lo, hi int, err error) {
	var cmin, cmax C.l_int32
	if C.cp_extremes(p, &cmin, &cmax) != 0 {
		return 0, 0, errors.New("measure grey range: leptonica failed")
	}
	return int(cmin), int(cmax), nil
}

// countInk counts the set pixels of a 1 bpp PIX.
func countInk(p *C.PIX) (int, error) {
	var n C.l_int32
	if C.pixCountPixels(p, &n, nil) != 0 {
		return 0, errors.New("count pixels: leptonica failed")
	}
	return int(n), nil
}

func degToRad(deg float64) float64 { return deg * math.Pi / 180 }
