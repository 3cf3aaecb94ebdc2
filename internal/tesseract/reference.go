package tesseract

/*
#include <stdlib.h>
#include <leptonica/allheaders.h>
#include <tesseract/capi.h>
*/
import "C"

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"
	"unsafe"
)

// For the tests only: they hold the engine's hOCR, ALTO and PDF against Tesseract's own
// renderers on the same recognition, and cgo is not allowed in _test.go files. Nothing
// else calls these, so the linker leaves them out of binaries.

// readWithTesseractRenderers reads p as Read does (text, and hOCR and ALTO as p asks) and
// renders the same recognition with Tesseract's own hOCR and ALTO renderers: their page
// elements, as the engine used them before it wrote its own (page number p.Number-1, ALTO
// ids not yet prefixed). The engine's current languages are used.
func (e *Engine) readWithTesseractRenderers(p Page) (res Result, hocr, alto string, err error) {
	if err := e.Load(); err != nil {
		return Result{}, "", "", err
	}
	e.do(func() {
		err = e.withRecognized(p, func(*C.PIX) {
			res, err = e.outputs(p, nil)
			if err != nil {
				return
			}
			n := C.int(max(p.Number, 1) - 1)
			if hocr, err = takeText(C.TessBaseAPIGetHOCRText(e.api, n)); err == nil {
				alto, err = takeText(C.TessBaseAPIGetAltoText(e.api, n))
			}
		})
	})
	return res, hocr, alto, err
}

// readWithTesseractPDF reads p as Read does, with the engine's PDF, and renders the same
// recognition with Tesseract's own PDF renderer, as the engine used it before it wrote its
// own (dated when rendered).
func (e *Engine) readWithTesseractPDF(p Page) (res Result, tess []byte, err error) {
	if err := e.Load(); err != nil {
		return Result{}, nil, err
	}
	p.PDF = true
	dir, err := os.MkdirTemp("", "colophon-pdf-")
	if err != nil {
		return Result{}, nil, err
	}
	defer os.RemoveAll(dir)
	e.do(func() {
		err = e.withRecognized(p, func(pix *C.PIX) {
			if res, err = e.outputs(p, pix); err == nil {
				tess, err = e.tesseractPDF(pix, p.Image, p.Title, dir)
			}
		})
	})
	return res, tess, err
}

// tesseractPDF runs Tesseract's PDF renderer over the page just recognised, writing in dir.
// A page of black and white only goes in as 1 bit per pixel, as the engine did.
func (e *Engine) tesseractPDF(pix *C.PIX, img *image.Gray, title, dir string) ([]byte, error) {
	// SetImage gave the renderer a copy of the page already; a black and white page it gets
	// as 1 bit per pixel instead. Tesseract takes ownership of the image it is handed, and
	// frees it when the next page replaces it.
	if bilevel(img) {
		bw := C.pixConvertTo1(pix, 128)
		if bw == nil {
			return nil, errors.New("PDF: cannot convert the page to 1 bit per pixel")
		}
		C.TessBaseAPISetInputImage(e.api, bw)
	}
	base := C.CString(filepath.Join(dir, "page"))
	defer C.free(unsafe.Pointer(base))
	r := C.TessPDFRendererCreate(base, C.TessBaseAPIGetDatapath(e.api), C.FALSE)
	if r == nil {
		return nil, errors.New("PDF: tesseract could not start its PDF renderer")
	}
	defer C.TessDeleteResultRenderer(r)
	ct := C.CString(title)
	defer C.free(unsafe.Pointer(ct))
	if C.TessResultRendererBeginDocument(r, ct) == 0 || C.TessResultRendererAddImage(r, e.api) == 0 ||
		C.TessResultRendererEndDocument(r) == 0 {
		return nil, errors.New("PDF: tesseract's PDF renderer failed")
	}
	out, err := os.ReadFile(filepath.Join(dir, "page.pdf"))
	if err != nil {
		return nil, fmt.Errorf("PDF: %w", err)
	}
	return out, nil
}

// outputCosts is the thread CPU a page of making outputs from one recognition.
type outputCosts struct {
	text     time.Duration // the engine's walk, text only
	ours     time.Duration // the engine's walk with its hOCR and ALTO writers
	oursPDF  time.Duration // the engine's walk with its PDF writer
	tessHOCR time.Duration // Tesseract's hOCR renderer
	tessALTO time.Duration // Tesseract's ALTO renderer
	tessPDF  time.Duration // Tesseract's PDF renderer, as the engine used it
}

// measureOutputs recognises p once and then makes its outputs rounds times over each way,
// on the engine's thread, free of the noise of recognition.
func (e *Engine) measureOutputs(p Page, rounds int) (c outputCosts, err error) {
	if err := e.Load(); err != nil {
		return c, err
	}
	dir, err := os.MkdirTemp("", "colophon-pdf-")
	if err != nil {
		return c, err
	}
	defer os.RemoveAll(dir)
	e.do(func() {
		err = e.withRecognized(p, func(pix *C.PIX) {
			text, all, pdf := p, p, p
			text.HOCR, text.ALTO, text.PDF = false, false, false
			all.HOCR, all.ALTO, all.PDF = true, true, false
			pdf.HOCR, pdf.ALTO, pdf.PDF = false, false, true
			for range rounds {
				t0 := threadCPU()
				_, _ = e.outputs(text, pix)
				t1 := threadCPU()
				_, _ = e.outputs(all, pix)
				t2 := threadCPU()
				h := C.TessBaseAPIGetHOCRText(e.api, 0)
				t3 := threadCPU()
				a := C.TessBaseAPIGetAltoText(e.api, 0)
				t4 := threadCPU()
				C.TessDeleteText(h)
				C.TessDeleteText(a)
				if _, err = e.outputs(pdf, pix); err != nil {
					return
				}
				t5 := threadCPU()
				if _, err = e.tesseractPDF(pix, p.Image, p.Title, dir); err != nil {
					return
				}
				t6 := threadCPU()
				c.text, c.ours, c.tessHOCR, c.tessALTO = c.text+t1-t0, c.ours+t2-t1, c.tessHOCR+t3-t2, c.tessALTO+t4-t3
				c.oursPDF, c.tessPDF = c.oursPDF+t5-t4, c.tessPDF+t6-t5
			}
		})
	})
	if n := time.Duration(rounds); n > 0 {
		c = outputCosts{c.text / n, c.ours / n, c.oursPDF / n, c.tessHOCR / n, c.tessALTO / n, c.tessPDF / n}
	}
	return c, err
}

// withRecognized recognises p and calls f while Tesseract holds the results; on the
// engine's thread.
func (e *Engine) withRecognized(p Page, f func(pix *C.PIX)) error {
	pix, err := toPix(p.Image, p.DPI)
	if err != nil {
		return err
	}
	defer C.pixDestroy(&pix)
	defer C.TessBaseAPIClear(e.api)
	flag := (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
	defer C.free(unsafe.Pointer(flag))
	if err := e.recognize(pix, p.DPI, cmp.Or(p.PSM, PSMAuto), flag); err != nil {
		return err
	}
	f(pix)
	return nil
}

// takeText copies and frees a string a Tesseract renderer returned.
func takeText(t *C.char) (string, error) {
	if t == nil {
		return "", errors.New("tesseract's renderer returned nothing")
	}
	defer C.TessDeleteText(t)
	return C.GoString(t), nil
}
