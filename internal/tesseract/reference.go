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
	"time"
	"unsafe"
)

// For the tests only: they hold the engine's hOCR and ALTO against Tesseract's own
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
		err = e.withRecognized(p, func() {
			res = e.outputs(p)
			n := C.int(max(p.Number, 1) - 1)
			if hocr, err = takeText(C.TessBaseAPIGetHOCRText(e.api, n)); err == nil {
				alto, err = takeText(C.TessBaseAPIGetAltoText(e.api, n))
			}
		})
	})
	return res, hocr, alto, err
}

// outputCosts is the thread CPU a page of making outputs from one recognition.
type outputCosts struct {
	text     time.Duration // the engine's walk, text only
	ours     time.Duration // the engine's walk with its hOCR and ALTO writers
	tessHOCR time.Duration // Tesseract's hOCR renderer
	tessALTO time.Duration // Tesseract's ALTO renderer
}

// measureOutputs recognises p once and then makes its outputs rounds times over each way,
// on the engine's thread, free of the noise of recognition.
func (e *Engine) measureOutputs(p Page, rounds int) (c outputCosts, err error) {
	if err := e.Load(); err != nil {
		return c, err
	}
	e.do(func() {
		err = e.withRecognized(p, func() {
			text, all := p, p
			text.HOCR, text.ALTO = false, false
			all.HOCR, all.ALTO = true, true
			for range rounds {
				t0 := threadCPU()
				_ = e.outputs(text)
				t1 := threadCPU()
				_ = e.outputs(all)
				t2 := threadCPU()
				h := C.TessBaseAPIGetHOCRText(e.api, 0)
				t3 := threadCPU()
				a := C.TessBaseAPIGetAltoText(e.api, 0)
				t4 := threadCPU()
				C.TessDeleteText(h)
				C.TessDeleteText(a)
				c.text, c.ours, c.tessHOCR, c.tessALTO = c.text+t1-t0, c.ours+t2-t1, c.tessHOCR+t3-t2, c.tessALTO+t4-t3
			}
		})
	})
	if n := time.Duration(rounds); n > 0 {
		c = outputCosts{c.text / n, c.ours / n, c.tessHOCR / n, c.tessALTO / n}
	}
	return c, err
}

// withRecognized recognises p and calls f while Tesseract holds the results; on the
// engine's thread.
func (e *Engine) withRecognized(p Page, f func()) error {
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
	f()
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
