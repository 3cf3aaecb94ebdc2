package imageinfo

/*
#cgo LDFLAGS: -lleptonica
#include <stdlib.h>
#include <leptonica/allheaders.h>

enum { colophon_tiff = 0, colophon_jp2 = 1 };

// colophon_read_gray8 decodes the first image of data (a TIFF whose header points at the
// page wanted, or a JP2) and converts it to 8-bit grey without a colormap: 1-bit pages
// become 0 and 255, 2, 4 and 16 bits are scaled to 8, grey colormaps are removed, and colour
// (RGB, or a colormap with colour in it) becomes luma with the weights Go's image/color
// uses (0.299, 0.587, 0.114), so both decoders give one page the same grey. NULL when any
// step fails. The caller destroys what it returns.
static PIX *colophon_read_gray8(const l_uint8 *data, size_t size, int kind) {
	PIX *pix = NULL, *rgb, *g;
	PIXCMAP *cmap;
	l_int32 color = 0;
	switch (kind) {
	case colophon_tiff:
		pix = pixReadMemTiff(data, size, 0);
		break;
	case colophon_jp2:
		pix = pixReadMemJp2k(data, size, 1, NULL, 0, 0);
		break;
	}
	if (pix == NULL)
		return NULL;
	cmap = pixGetColormap(pix);
	if (cmap != NULL && pixcmapHasColor(cmap, &color) == 0 && color) {
		rgb = pixRemoveColormap(pix, REMOVE_CMAP_TO_FULL_COLOR);
		pixDestroy(&pix);
		if (rgb == NULL)
			return NULL;
		pix = rgb;
	}
	if (pixGetDepth(pix) == 32)
		g = pixConvertRGBToGray(pix, 0.299f, 0.587f, 0.114f);
	else
		g = pixConvertTo8(pix, 0);
	pixDestroy(&pix);
	if (g == NULL)
		return NULL;
	if (pixGetDepth(g) != 8 || pixGetColormap(g) != NULL || pixGetData(g) == NULL) {
		pixDestroy(&g);
		return NULL;
	}
	return g;
}

// colophon_copy_gray copies an 8-bit w×h PIX into dst (w×h bytes, rows packed). Leptonica
// keeps a row in 32-bit words whose bytes are in host order, so bytes are read with
// GET_DATA_BYTE, never by casting the row to bytes.
static int colophon_copy_gray(PIX *pix, unsigned char *dst, l_int32 w, l_int32 h) {
	l_uint32 *data = pixGetData(pix), *line;
	l_int32 wpl = pixGetWpl(pix), x, y;
	if (data == NULL || pixGetWidth(pix) != w || pixGetHeight(pix) != h || pixGetDepth(pix) != 8)
		return -1;
	for (y = 0; y < h; y++) {
		line = data + (size_t)y * wpl;
		for (x = 0; x < w; x++)
			dst[(size_t)y * w + x] = GET_DATA_BYTE(line, x);
	}
	return 0;
}

// colophon_write encodes an 8-bit w×h grey image (rows packed) in format, at dpi when
// dpi > 0; to *pdata (free with free()), or appended as a page to the TIFF at path when
// path is not NULL (format one of the IFF_TIFF_* kinds). Test fixtures use it.
static int colophon_write(const unsigned char *src, l_int32 w, l_int32 h, l_int32 dpi, l_int32 format,
                          const char *path, const char *mode, l_uint8 **pdata, size_t *psize) {
	PIX *pix = pixCreate(w, h, 8), *out;
	l_uint32 *data, *line;
	l_int32 wpl, x, y, ret;
	if (pix == NULL)
		return 1;
	data = pixGetData(pix);
	wpl = pixGetWpl(pix);
	for (y = 0; y < h; y++) {
		line = data + (size_t)y * wpl;
		for (x = 0; x < w; x++)
			SET_DATA_BYTE(line, x, src[(size_t)y * w + x]);
	}
	if (dpi > 0)
		pixSetResolution(pix, dpi, dpi);
	out = pix;
	if (format == IFF_TIFF_G4 || format == IFF_TIFF_G3) {
		out = pixThresholdToBinary(pix, 128);
		if (out == NULL) {
			pixDestroy(&pix);
			return 1;
		}
		if (dpi > 0)
			pixSetResolution(out, dpi, dpi);
	}
	if (path != NULL)
		ret = pixWriteTiff(path, out, format, mode);
	else
		ret = pixWriteMem(pdata, psize, out, format);
	if (out != pix)
		pixDestroy(&out);
	pixDestroy(&pix);
	return ret;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

type leptKind C.int

const (
	leptTIFF leptKind = C.colophon_tiff
	leptJP2  leptKind = C.colophon_jp2
)

// leptDecode decodes data with Leptonica into 8-bit grey, and refuses a result that is not
// w×h: the caller has checked w×h against the limits before calling.
func leptDecode(data []byte, kind leptKind, w, h int) (*image.Gray, error) {
	if len(data) == 0 {
		return nil, errors.New("no data")
	}
	pix := C.colophon_read_gray8((*C.l_uint8)(unsafe.Pointer(&data[0])), C.size_t(len(data)), C.int(kind))
	if pix == nil {
		return nil, errors.New("leptonica could not decode it")
	}
	defer C.pixDestroy(&pix)
	if gw, gh := int(C.pixGetWidth(pix)), int(C.pixGetHeight(pix)); gw != w || gh != h {
		return nil, fmt.Errorf("decodes to %dx%d, its header declares %dx%d", gw, gh, w, h)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	if C.colophon_copy_gray(pix, (*C.uchar)(unsafe.Pointer(&g.Pix[0])), C.l_int32(w), C.l_int32(h)) != 0 {
		return nil, errors.New("leptonica returned an unexpected image")
	}
	return g, nil
}

// Leptonica's output formats that leptEncode and leptAppendTIFF take (IFF_* in imageio.h).
const (
	leptFormatTIFF     = C.IFF_TIFF
	leptFormatTIFFZip  = C.IFF_TIFF_ZIP
	leptFormatTIFFG4   = C.IFF_TIFF_G4
	leptFormatTIFFJPEG = C.IFF_TIFF_JPEG
	leptFormatJP2      = C.IFF_JP2
	leptFormatWebP     = C.IFF_WEBP
	leptFormatPNG      = C.IFF_PNG
)

// leptEncode encodes g with Leptonica in format, declaring dpi when dpi > 0. For test
// fixtures in formats Go cannot write (JPEG 2000, JPEG-in-TIFF).
func leptEncode(g *image.Gray, format int, dpi int) ([]byte, error) {
	src := packGray(g)
	var out *C.l_uint8
	var size C.size_t
	b := g.Bounds()
	if C.colophon_write((*C.uchar)(unsafe.Pointer(&src[0])), C.l_int32(b.Dx()), C.l_int32(b.Dy()), C.l_int32(dpi), C.l_int32(format), nil, nil, &out, &size) != 0 || out == nil {
		return nil, fmt.Errorf("leptonica could not write format %d", format)
	}
	defer C.free(unsafe.Pointer(out))
	return C.GoBytes(unsafe.Pointer(out), C.int(size)), nil
}

// leptAppendTIFF writes g as a page of the TIFF file at path, compressed as format (one of
// the leptFormatTIFF kinds): a new file when first, else a page added at the end. For test
// fixtures: multi-page TIFFs mixing compressions.
func leptAppendTIFF(path string, g *image.Gray, format int, dpi int, first bool) error {
	src := packGray(g)
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	mode := C.CString("a")
	if first {
		C.free(unsafe.Pointer(mode))
		mode = C.CString("w")
	}
	defer C.free(unsafe.Pointer(mode))
	b := g.Bounds()
	if C.colophon_write((*C.uchar)(unsafe.Pointer(&src[0])), C.l_int32(b.Dx()), C.l_int32(b.Dy()), C.l_int32(dpi), C.l_int32(format), cpath, mode, nil, nil) != 0 {
		return fmt.Errorf("leptonica could not write %s as format %d", path, format)
	}
	return nil
}

// packGray is g's pixels, rows packed.
func packGray(g *image.Gray) []byte {
	b := g.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		i := g.PixOffset(b.Min.X, y)
		out = append(out, g.Pix[i:i+b.Dx()]...)
	}
	return out
}
