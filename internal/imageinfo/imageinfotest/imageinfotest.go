// Package imageinfotest makes multi-page scan files for tests: TIFF and PDF, written by
// Leptonica as a scanner's software would write them.
package imageinfotest

/*
#cgo LDFLAGS: -lleptonica
#include <stdlib.h>
#include <leptonica/allheaders.h>

static PIX *gray_pix(const unsigned char *src, int w, int h, int stride, int dpi) {
	PIX *pix = pixCreate(w, h, 8);
	if (pix == NULL) return NULL;
	pixSetResolution(pix, dpi, dpi);
	l_uint32 *data = pixGetData(pix);
	int wpl = pixGetWpl(pix);
	for (int y = 0; y < h; y++) {
		l_uint32 *line = data + y * wpl;
		for (int x = 0; x < w; x++) SET_DATA_BYTE(line, x, src[(size_t)y * stride + x]);
	}
	return pix;
}
*/
import "C"

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"unsafe"
)

// pixa converts pages to a Leptonica array; the caller destroys it.
func pixa(pages []*image.Gray, dpi int) (*C.PIXA, error) {
	pa := C.pixaCreate(C.l_int32(len(pages)))
	if pa == nil {
		return nil, errors.New("pixaCreate failed")
	}
	for _, g := range pages {
		b := g.Bounds()
		p := C.gray_pix((*C.uchar)(unsafe.Pointer(&g.Pix[g.PixOffset(b.Min.X, b.Min.Y)])), C.int(b.Dx()), C.int(b.Dy()), C.int(g.Stride), C.int(dpi))
		if p == nil {
			C.pixaDestroy(&pa)
			return nil, errors.New("pixCreate failed")
		}
		C.pixaAddPix(pa, p, C.L_INSERT)
	}
	return pa, nil
}

// TIFF writes pages as one multi-page TIFF, each page compressed with deflate (zip).
func TIFF(pages []*image.Gray, dpi int) ([]byte, error) {
	pa, err := pixa(pages, dpi)
	if err != nil {
		return nil, err
	}
	defer C.pixaDestroy(&pa)
	// Leptonica writes multi-page TIFFs to files only.
	dir, err := os.MkdirTemp("", "imageinfotest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pages.tif")
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	for i := range pages {
		mode := C.CString("a")
		if i == 0 {
			C.free(unsafe.Pointer(mode))
			mode = C.CString("w")
		}
		p := C.pixaGetPix(pa, C.l_int32(i), C.L_CLONE)
		rc := C.pixWriteTiff(cpath, p, C.IFF_TIFF_ZIP, mode)
		C.pixDestroy(&p)
		C.free(unsafe.Pointer(mode))
		if rc != 0 {
			return nil, errors.New("pixWriteTiff failed")
		}
	}
	return os.ReadFile(path)
}

// PDF writes pages as one image-only PDF at dpi, each page the size of its image.
func PDF(pages []*image.Gray, dpi int) ([]byte, error) {
	pa, err := pixa(pages, dpi)
	if err != nil {
		return nil, err
	}
	defer C.pixaDestroy(&pa)
	var data *C.l_uint8
	var n C.size_t
	title := C.CString("imageinfotest")
	defer C.free(unsafe.Pointer(title))
	if C.pixaConvertToPdfData(pa, C.l_int32(dpi), 1.0, C.L_FLATE_ENCODE, 0, title, &data, &n) != 0 {
		return nil, errors.New("pixaConvertToPdfData failed")
	}
	defer C.free(unsafe.Pointer(data))
	return C.GoBytes(unsafe.Pointer(data), C.int(n)), nil
}
