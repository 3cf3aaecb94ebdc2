// Package tesseract is Colophon's adapter to the Tesseract engine.
//
// An Engine wraps one gosseract client. Tesseract is not safe for concurrent use, and
// loading a model costs more than reading a page, so each worker goroutine owns one Engine
// and reuses it for every page.
//
// Why gosseract, and why not through its API: an OCR worker reads pages for as long as it
// runs, so nothing may grow per page, and gosseract v2.4.1 (its newest release) leaks in
// every result call (GetBoundingBoxesVerbose keeps each word string Tesseract allocates and
// never deletes its ResultIterator; Text and HOCRText never free their strings). gosseract
// stays the required package: it creates, initialises (loads the model into) and frees the
// Tesseract instance, which keeps model loading and its quirks in one maintained place. The
// engine reads pages through Tesseract's own C API (capi.h) on that same instance, freeing
// every string and iterator Tesseract hands out before Recognize returns, and all of an
// engine's calls run on one locked OS thread (see Engine).
//
// Reaching the instance means reading gosseract's unexported field; gosseract.go is that
// boundary and nothing else touches gosseract's insides. A gosseract whose Client no longer
// holds the instance where v2.4.1 did makes Load (and CheckGosseract) return an error naming
// the version, not crash, and TestGosseractBoundary fails on any gosseract other than the one
// the boundary was checked against. memory_test.go guards the leaks; what they cost, and the
// memory curve over hundreds of pages, are in docs/benchmarks.md (Memory).
package tesseract

/*
#cgo LDFLAGS: -ltesseract -lleptonica
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

// gray_to_pix copies 8-bit grey rows into a new Leptonica image (NULL if it cannot allocate).
// Leptonica packs pixels into native 32-bit words, so bytes go through its own macro.
static PIX *gray_to_pix(const unsigned char *src, int w, int h, int stride, int dpi) {
	PIX *pix = pixCreate(w, h, 8);
	if (pix == NULL) return NULL;
	pixSetResolution(pix, dpi, dpi);
	l_uint32 *data = pixGetData(pix);
	int wpl = pixGetWpl(pix);
	for (int y = 0; y < h; y++) {
		l_uint32 *line = data + y * wpl;
		const unsigned char *row = src + (size_t)y * stride;
		for (int x = 0; x < w; x++) SET_DATA_BYTE(line, x, row[x]);
	}
	return pix;
}

// Recognition polls the cancel function between words; the flag is set from Go when the
// caller's context ends.
static bool colophon_cancelled(void *flag, int words) {
	return __atomic_load_n((int *)flag, __ATOMIC_RELAXED) != 0;
}
static void colophon_set_cancel(ETEXT_DESC *m, int *flag) {
	TessMonitorSetCancelFunc(m, colophon_cancelled);
	TessMonitorSetCancelThis(m, flag);
}
static void colophon_cancel(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }
*/
import "C"

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/image/bmp"
)

// Name is the engine name recorded in provenance.
const Name = "tesseract"

// Engine recognises pages one at a time. Not safe for concurrent use; Close it when done.
//
// Every Tesseract call of an engine runs on one OS thread of its own. glibc's malloc gives
// each thread an arena and keeps memory freed there for reuse by that arena only; Go runs a
// goroutine's cgo calls on whichever thread it happens to be on, so an engine called from
// ordinary goroutines spreads each page's working set over more and more arenas, and the
// process keeps a page's worth of freed memory in each, with no byte leaked.
type Engine struct {
	calls  chan func() // run in order on the engine's thread
	client *gosseract.Client
	api    *C.TessBaseAPI // the client's Tesseract instance; used on the engine's thread only
	apiErr error          // why api is nil, when gosseract would not give it
	langs  []string
	ready  bool // the model is loaded for langs
	closed bool

	// A second instance with the orientation and script model, made on first use.
	osd    *gosseract.Client
	osdAPI *C.TessBaseAPI

	// The glyphless font the PDF embeds, and the model directory it was read from.
	font    []byte
	fontDir string
}

// initMu serialises model loading across engines. gosseract silences Tesseract during
// initialisation by pointing the process's fd 2 at /dev/null and back; two engines doing
// that at once can leave stderr pointing at /dev/null for good, and every later log line lost.
var initMu sync.Mutex

// blankPage is a small white page: enough for gosseract to load the model.
var blankPage = sync.OnceValue(func() []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	_ = bmp.Encode(&buf, img) // encoding an in-memory image into a buffer cannot fail
	return buf.Bytes()
})

// New returns an engine for langs (Tesseract codes such as "eng"). The model loads on the
// first page (or on Load), and again only when a page asks for other languages.
func New(langs ...string) *Engine {
	if len(langs) == 0 {
		langs = []string{"eng"}
	}
	e := &Engine{calls: make(chan func()), langs: slices.Clone(langs)}
	go serve(e.calls)
	e.do(func() {
		e.client = gosseract.NewClient()
		e.client.Trim = false
		_ = e.client.SetLanguage(langs...) // fails only for an empty list
		e.api, e.apiErr = handle(e.client)
	})
	return e
}

// serve runs calls on the current OS thread until the channel closes.
func serve(calls <-chan func()) {
	// Never unlocked: when the engine closes and this goroutine ends, Go ends the thread
	// too, and glibc passes its arena on to the next new thread.
	runtime.LockOSThread()
	if syscall.Gettid() == syscall.Getpid() {
		// The main thread, which Go never ends. Hand over to a goroutine on another thread:
		// while this one holds the main thread locked, the new one cannot land on it.
		running := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(running)
			serve(calls)
		}()
		<-running
		runtime.UnlockOSThread()
		return
	}
	for f := range calls {
		f()
	}
}

// do runs f on the engine's thread and waits for it; a panic in f is raised again here.
func (e *Engine) do(f func()) {
	var p any
	done := make(chan struct{})
	e.calls <- func() {
		defer close(done)
		defer func() { p = recover() }()
		f()
	}
	<-done
	if p != nil {
		panic(p)
	}
}

// Load loads the model for the engine's languages now, rather than on the first page.
func (e *Engine) Load() error {
	if e.closed {
		return errors.New("tesseract engine is closed")
	}
	if e.ready {
		return nil
	}
	var err error
	e.do(func() {
		if e.api == nil {
			err = e.apiErr
			return
		}
		initMu.Lock()
		defer initMu.Unlock()
		// gosseract initialises Tesseract on its first result call; a blank page makes that
		// cheap, and what it leaks there (one iterator) is leaked once per model load.
		if err = e.client.SetImageFromBytes(blankPage()); err == nil {
			_, err = e.client.GetBoundingBoxesVerbose()
		}
	})
	if err != nil {
		return fmt.Errorf("load model %s: %w", strings.Join(e.langs, "+"), err)
	}
	e.ready = true
	return nil
}

// Close frees the Tesseract instance and ends the engine's thread. The engine is unusable
// afterwards; closing it again does nothing.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	var err error
	e.do(func() {
		err = e.client.Close()
		e.api = nil
		if e.osd != nil {
			err = errors.Join(err, e.osd.Close())
			e.osd, e.osdAPI = nil, nil
		}
	})
	close(e.calls)
	e.closed, e.ready = true, false
	return err
}

// datapath is the directory the loaded instance reads its models from; on the engine's thread.
func (e *Engine) datapath() string {
	return C.GoString(C.TessBaseAPIGetDatapath(e.api))
}

// loadedLanguages is what the Tesseract instance itself says it has loaded, e.g. "eng".
func (e *Engine) loadedLanguages() string {
	var s string
	e.do(func() { s = C.GoString(C.TessBaseAPIGetInitLanguagesAsString(e.api)) })
	return s
}

// Version is the Tesseract library version, e.g. "5.3.0".
func Version() string { return C.GoString(C.TessVersion()) }

// Result is one page's reading.
type Result struct {
	Text string
	// MeanConfidence is the mean of the word confidences, 0-100; 0 when no word was found.
	MeanConfidence float64
	Words          int
	// HOCR is the page as an hOCR document (word boxes and confidences), when asked for.
	HOCR []byte
	// ALTO is the page as an ALTO XML document (v3), when asked for.
	ALTO []byte
	// PDF is a one-page PDF of the image with the text as an invisible layer, when asked for.
	PDF []byte
	// CPU is the processor time the engine's thread spent on the page.
	CPU time.Duration
	// LetterWords are the words of two letters or more; KnownWords those of them the
	// dictionary of a language read in knows (Tesseract's own, in its model files).
	LetterWords, KnownWords int
	// Chars are the characters of the words read, spaces aside.
	Chars int
	// Boxes are the words' boxes on the image read, in reading order.
	Boxes []image.Rectangle
	// SourceDPI is the resolution Tesseract read the page at: the one given, or its own
	// estimate from the text's size when the one given was implausible (under 70).
	SourceDPI int
}

// PageSegMode is Tesseract's page segmentation mode (--psm).
type PageSegMode int

// The modes Colophon uses; see tesseract --help-psm for the rest.
const (
	PSMAuto         PageSegMode = 3  // fully automatic layout analysis, Tesseract's default
	PSMSingleColumn PageSegMode = 4  // one column of text of variable sizes
	PSMSparse       PageSegMode = 11 // as much text as possible, in no particular order
)

// Page is one page to read and what to produce from it.
type Page struct {
	Image *image.Gray
	DPI   int      // the image's resolution; Tesseract assumes 70 without it
	Langs []string // Tesseract language codes; empty keeps the engine's current ones
	PSM   PageSegMode
	HOCR  bool // also produce Result.HOCR
	ALTO  bool // also produce Result.ALTO
	// Number is the page's number in its document, from 1: hOCR and ALTO number their
	// element ids by it, so a document's pages join into one document. 0 counts as 1.
	Number int
	PDF    bool   // also produce Result.PDF
	Title  string // the PDF's title, the ALTO's file name
	// Created is the PDF's creation date, written in UTC: a date given here makes the same
	// page read twice give the same bytes. Zero dates it when it is read, as Tesseract does.
	Created time.Time
}

// Recognize reads a grey page image assumed to be at dpi; langs as in Page.
func (e *Engine) Recognize(img *image.Gray, dpi int, langs []string) (Result, error) {
	return e.Read(context.Background(), Page{Image: img, DPI: dpi, Langs: langs})
}

// Read recognises a page once, and takes text, confidences, layout, hOCR, ALTO and the
// PDF's text layer all from that one pass. When ctx ends during recognition, Tesseract
// stops at the next word and Read returns ctx's error.
func (e *Engine) Read(ctx context.Context, p Page) (Result, error) {
	img := p.Image
	if img == nil || img.Bounds().Empty() {
		return Result{}, errors.New("recognize: empty image")
	}
	if p.DPI <= 0 {
		return Result{}, fmt.Errorf("recognize: resolution %d dpi: want more than zero", p.DPI)
	}
	if e.closed {
		return Result{}, errors.New("recognize: tesseract engine is closed")
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("recognize: %w", err)
	}
	if len(p.Langs) > 0 && !slices.Equal(p.Langs, e.langs) {
		if err := e.client.SetLanguage(p.Langs...); err != nil {
			return Result{}, fmt.Errorf("recognize: languages %s: %w", strings.Join(p.Langs, "+"), err)
		}
		e.langs = slices.Clone(p.Langs)
		e.ready = false
	}
	if err := e.Load(); err != nil {
		return Result{}, fmt.Errorf("recognize: %w", err)
	}
	psm := cmp.Or(p.PSM, PSMAuto)

	// The cancel flag lives in C memory: Tesseract reads it from its own code.
	flag := (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))
	defer C.free(unsafe.Pointer(flag))
	stop := context.AfterFunc(ctx, func() { C.colophon_cancel(flag) })
	defer stop()

	var res Result
	var err error
	e.do(func() {
		cpu0 := threadCPU()
		res, err = e.read(p, psm, flag)
		res.CPU = threadCPU() - cpu0
	})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("recognize: %w", ctx.Err())
		}
		return Result{}, fmt.Errorf("recognize (%s): %w", strings.Join(e.langs, "+"), err)
	}
	return res, nil
}

// read is Read on the engine's thread.
func (e *Engine) read(p Page, psm PageSegMode, flag *C.int) (Result, error) {
	pix, err := toPix(p.Image, p.DPI)
	if err != nil {
		return Result{}, err
	}
	defer C.pixDestroy(&pix)
	// Free the page image and recognition results once read: between pages the engine
	// holds only its model.
	defer C.TessBaseAPIClear(e.api)
	if err := e.recognize(pix, p.DPI, psm, flag); err != nil {
		return Result{}, err
	}
	return e.outputs(p, pix)
}

// recognize reads the page in pix. Tesseract holds the results until TessBaseAPIClear.
func (e *Engine) recognize(pix *C.PIX, dpi int, psm PageSegMode, flag *C.int) error {
	C.TessBaseAPISetPageSegMode(e.api, C.TessPageSegMode(psm))
	C.TessBaseAPISetImage2(e.api, pix) // Tesseract takes a copy of its own
	// Without this Tesseract assumes 70 dpi for an image with no resolution and misjudges
	// text size; the caller knows better (header, or a sane default).
	C.TessBaseAPISetSourceResolution(e.api, C.int(dpi))
	monitor := C.TessMonitorCreate()
	defer C.TessMonitorDelete(monitor)
	C.colophon_set_cancel(monitor, flag)
	if C.TessBaseAPIRecognize(e.api, monitor) != 0 || *flag != 0 {
		return errors.New("tesseract could not read the page")
	}
	return nil
}

// outputs is the text of the page just recognised, and its hOCR, ALTO and PDF when p asks
// for them, all from one walk over Tesseract's results: no second recognition, and none of
// Tesseract's own renderers, which would walk the page again each (see outputs.go and
// pdf.go). pix is the page image as Tesseract was given it, for the PDF.
func (e *Engine) outputs(p Page, pix *C.PIX) (Result, error) {
	b := p.Image.Bounds()
	pg := readPage(e.api, b.Dx(), b.Dy(), p.PDF)
	pg.dpi = p.DPI
	res := assemble(pg.words)
	res.SourceDPI = int(C.TessBaseAPIGetSourceYResolution(e.api))
	n := max(p.Number, 1)
	if p.HOCR {
		res.HOCR = hocrDocument(hocrPage(&pg, n, p.Title))
	}
	if p.ALTO {
		res.ALTO = altoDocument(altoPage(&pg, n), p.Title)
	}
	if p.PDF {
		var err error
		if res.PDF, err = e.pdf(&pg, pix, p); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// toPix copies img into a new Leptonica image at dpi; the caller destroys it.
func toPix(img *image.Gray, dpi int) (*C.PIX, error) {
	b := img.Bounds()
	pix := C.gray_to_pix((*C.uchar)(unsafe.Pointer(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])), C.int(b.Dx()), C.int(b.Dy()), C.int(img.Stride), C.int(dpi))
	if pix == nil {
		return nil, fmt.Errorf("no memory for a %dx%d page image", b.Dx(), b.Dy())
	}
	return pix, nil
}

// threadCPU is the processor time of the calling OS thread so far.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bilevel reports whether every pixel is black or white. Eight pixels at a time: a byte is
// 0 or 255 when all its bits are alike, so no bit differs from the one above it.
func bilevel(img *image.Gray) bool {
	const low7 = 0x7f7f7f7f7f7f7f7f // in each byte, the bits that have one above them
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		off := img.PixOffset(b.Min.X, y)
		row := img.Pix[off : off+b.Dx()]
		for len(row) >= 8 {
			if v := binary.LittleEndian.Uint64(row); (v^v>>1)&low7 != 0 {
				return false
			}
			row = row[8:]
		}
		for _, v := range row {
			if v != 0 && v != 0xff {
				return false
			}
		}
	}
	return true
}

// altoDocument wraps one page's ALTO in the document Tesseract's own ALTO renderer writes
// around it.
func altoDocument(page []byte, title string) []byte {
	var b bytes.Buffer
	b.Grow(len(page) + 1024)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.loc.gov/standards/alto/ns-v3# http://www.loc.gov/alto/v3/alto-3-0.xsd">
	<Description>
		<MeasurementUnit>pixel</MeasurementUnit>
		<sourceImageInformation>
			<fileName>`)
	_ = xml.EscapeText(&b, []byte(title))
	b.WriteString(`</fileName>
		</sourceImageInformation>
		<OCRProcessing ID="OCR_0">
			<ocrProcessingStep>
				<processingSoftware>
					<softwareName>tesseract ` + Version() + `</softwareName>
				</processingSoftware>
			</ocrProcessingStep>
		</OCRProcessing>
	</Description>
	<Layout>
`)
	b.Write(page)
	b.WriteString("\t</Layout>\n</alto>\n")
	return b.Bytes()
}

// hocrDocument wraps one page's hOCR in the document head Tesseract's own hOCR renderer
// writes.
func hocrDocument(page []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(page) + 1024)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title></title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract ` + Version() + `' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
`)
	b.Write(page)
	b.WriteString(" </body>\n</html>\n")
	return b.Bytes()
}

// letters counts the letters in s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// Orientation is how a page lies.
type Orientation struct {
	// Rotate is the clockwise rotation, in degrees (0, 90, 180 or 270), that turns the
	// page upright.
	Rotate int
	// Confidence is Tesseract's confidence in it: above about 2 it is rarely wrong, below 1
	// it is a guess (a page with little text).
	Confidence float64
	Script     string // the dominant script, e.g. "Latin"
}

// Orientation detects how the page lies with Tesseract's orientation and script model
// (osd.traineddata), loaded on first use.
func (e *Engine) Orientation(ctx context.Context, img *image.Gray, dpi int) (Orientation, error) {
	if img == nil || img.Bounds().Empty() {
		return Orientation{}, errors.New("detect orientation: empty image")
	}
	if e.closed {
		return Orientation{}, errors.New("detect orientation: tesseract engine is closed")
	}
	if err := ctx.Err(); err != nil {
		return Orientation{}, fmt.Errorf("detect orientation: %w", err)
	}
	var o Orientation
	var err error
	e.do(func() {
		if err = e.loadOSD(); err != nil {
			return
		}
		var pix *C.PIX
		if pix, err = toPix(img, dpi); err != nil {
			return
		}
		defer C.pixDestroy(&pix)
		// Orientation shows in the shapes of whole letters, which osdDPI keeps; layout
		// analysis costs by the pixel, so fewer of them cost less.
		in, res := pix, dpi
		if dpi > osdDPI {
			scale := C.l_float32(float64(osdDPI) / float64(dpi))
			small := C.pixScale(pix, scale, scale)
			if small == nil {
				err = errors.New("no memory to scale the page")
				return
			}
			defer C.pixDestroy(&small)
			in, res = small, osdDPI
		}
		C.TessBaseAPISetImage2(e.osdAPI, in)
		C.TessBaseAPISetSourceResolution(e.osdAPI, C.int(res))
		defer C.TessBaseAPIClear(e.osdAPI)
		var deg C.int
		var conf, sconf C.float
		var script *C.char // Tesseract's own string: not to be freed
		if C.TessBaseAPIDetectOrientationScript(e.osdAPI, &deg, &conf, &script, &sconf) == 0 {
			err = errors.New("too little text to tell")
			return
		}
		// Tesseract reports how far the image is turned clockwise; undoing it is the rest
		// of the circle.
		o = Orientation{Rotate: (360 - int(deg)) % 360, Confidence: float64(conf), Script: C.GoString(script)}
	})
	if err != nil {
		return Orientation{}, fmt.Errorf("detect orientation: %w", err)
	}
	return o, nil
}

// osdDPI is the resolution orientation detection works at: pages scanned finer are scaled
// down to it first.
const osdDPI = 150

// loadOSD makes the orientation instance; on the engine's thread.
func (e *Engine) loadOSD() error {
	if e.osd != nil {
		return nil
	}
	c := gosseract.NewClient()
	_ = c.SetLanguage("osd")
	api, err := handle(c)
	if err != nil {
		c.Close()
		return fmt.Errorf("load orientation model osd: %w", err)
	}
	initMu.Lock()
	defer initMu.Unlock()
	err = c.SetImageFromBytes(blankPage())
	if err == nil {
		_, err = c.GetBoundingBoxesVerbose()
	}
	if err != nil {
		c.Close()
		return fmt.Errorf("load orientation model osd: %w", err)
	}
	e.osd, e.osdAPI = c, api
	return nil
}

// readPage walks the recognised page word by word, as Tesseract's own TSV output does, and
// takes the text, confidences and layout (boxes of blocks, paragraphs, lines and words,
// line baselines) that text, hOCR and ALTO are made from: one walk for all three. forPDF
// also takes what the PDF's text layer needs (word baselines, font sizes, writing
// directions), which the others do without. Every string and the iterator are freed here.
func readPage(api *C.TessBaseAPI, width, height int, forPDF bool) page {
	pg := page{width: width, height: height}
	if forPDF {
		pg.ppi = int(C.TessBaseAPIGetSourceYResolution(api))
	}
	it := C.TessBaseAPIGetIterator(api)
	if it == nil {
		return pg
	}
	defer C.TessResultIteratorDelete(it)
	pit := C.TessResultIteratorGetPageIterator(it)
	var blockN, parN, lineN int
	var parLang *C.char // the current paragraph's language: Tesseract's own string, not freed
	for {
		// Nil where the iterator is on no word, e.g. an image block.
		if t := C.TessResultIteratorGetUTF8Text(it, C.RIL_WORD); t != nil {
			w := word{text: C.GoString(t), conf: float64(C.TessResultIteratorConfidence(it, C.RIL_WORD))}
			w.dict = C.TessBaseAPIIsValidWord(api, t) != 0
			C.TessDeleteText(t)
			// The iterator finds where a line begins by working out the line's reading order
			// afresh, which is dear: paragraphs and blocks begin only where lines do, so it is
			// asked about them only there. The first word opens all three.
			first := len(pg.words) == 0
			newLine := first || C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_TEXTLINE) != 0
			newPar := first || newLine && C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_PARA) != 0
			newBlock := first || newPar && C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_BLOCK) != 0
			lang := C.TessResultIteratorWordRecognitionLanguage(it)
			if newBlock {
				blockN, parN, lineN = blockN+1, 0, 0
				t := C.TessPageIteratorBlockType(pit)
				pg.blocks = append(pg.blocks, block{box: boundingBox(pit, C.RIL_BLOCK), lineClass: lineClass(t), text: isTextBlock(t)})
			}
			if newPar {
				parN, lineN = parN+1, 0
				parLang = lang
				p := par{box: boundingBox(pit, C.RIL_PARA)}
				if lang != nil {
					p.lang = C.GoString(lang)
				}
				pg.pars = append(pg.pars, p)
			}
			if newLine {
				lineN++
				pg.lines = append(pg.lines, readLine(pit, forPDF))
			}
			w.block, w.par, w.line = blockN, parN, lineN
			w.box = boundingBox(pit, C.RIL_WORD)
			// Languages are Tesseract's strings, one per loaded model: the same pointer is
			// the same language, and only another is worth a copy.
			if lang != nil && lang != parLang {
				if l := C.GoString(lang); l != pg.pars[len(pg.pars)-1].lang {
					w.lang = l
				}
			}
			if forPDF {
				w.baseline = baseline(pit, C.RIL_WORD)
				w.pointsize = pointsize(it)
			}
			pg.words = append(pg.words, w)
			pg.moreAfterLast = false
		}
		if C.TessResultIteratorNext(it, C.RIL_WORD) == 0 {
			return pg
		}
		pg.moreAfterLast = true
	}
}

// boundingBox is the box of the iterator's element at level; zero when it has none.
func boundingBox(pit *C.TessPageIterator, level C.TessPageIteratorLevel) box {
	var l, t, r, b C.int
	if C.TessPageIteratorBoundingBox(pit, level, &l, &t, &r, &b) == 0 {
		return box{}
	}
	return box{int(l), int(t), int(r), int(b)}
}

// baseline is the baseline of the iterator's element at level, x1 y1 x2 y2; zero when it
// has none.
func baseline(pit *C.TessPageIterator, level C.TessPageIteratorLevel) [4]int {
	var x1, y1, x2, y2 C.int
	if C.TessPageIteratorBaseline(pit, level, &x1, &y1, &x2, &y2) == 0 {
		return [4]int{}
	}
	return [4]int{int(x1), int(y1), int(x2), int(y2)}
}

// pointsize is the iterator's word's font size in points as Tesseract estimates it from
// its line's height; 0 when it has none.
func pointsize(it *C.TessResultIterator) int {
	var bold, italic, underlined, monospace, serif, smallcaps C.BOOL
	var size, font C.int
	C.TessResultIteratorWordFontAttributes(it, &bold, &italic, &underlined, &monospace, &serif, &smallcaps, &size, &font)
	return int(size)
}

// readLine is the iterator's text line: its box, and its baseline if it is upright or else
// its angle, as Tesseract's hOCR renderer takes them. forPDF also takes its baseline
// whichever way it lies and its block's writing direction, as Tesseract's PDF renderer does.
func readLine(pit *C.TessPageIterator, forPDF bool) line {
	ln := line{box: boundingBox(pit, C.RIL_TEXTLINE)}
	var o C.TessOrientation
	var dir C.TessWritingDirection
	var order C.TessTextlineOrder
	var deskew C.float
	C.TessPageIteratorOrientation(pit, &o, &dir, &order, &deskew)
	var bl [4]int
	var ok bool
	if forPDF || o == C.ORIENTATION_PAGE_UP {
		var x1, y1, x2, y2 C.int
		if C.TessPageIteratorBaseline(pit, C.RIL_TEXTLINE, &x1, &y1, &x2, &y2) != 0 {
			bl, ok = [4]int{int(x1), int(y1), int(x2), int(y2)}, true
		}
	}
	if forPDF {
		ln.pdfBaseline = bl
		ln.dir = writingDirection(dir)
	}
	if o != C.ORIENTATION_PAGE_UP {
		ln.textangle = 360 - int(o)*90
		return ln
	}
	ln.baseline, ln.ok = bl, ok
	return ln
}

// writingDirection is Tesseract's writing direction as the PDF writer's.
func writingDirection(d C.TessWritingDirection) direction {
	switch d {
	case C.WRITING_DIRECTION_RIGHT_TO_LEFT:
		return rightToLeft
	case C.WRITING_DIRECTION_TOP_TO_BOTTOM:
		return topToBottom
	}
	return leftToRight
}

// isTextBlock is Tesseract's PTIsTextType: the block types its PDF renderer writes text for.
func isTextBlock(t C.TessPolyBlockType) bool {
	switch t {
	case C.PT_FLOWING_TEXT, C.PT_HEADING_TEXT, C.PT_PULLOUT_TEXT, C.PT_TABLE, C.PT_VERTICAL_TEXT,
		C.PT_CAPTION_TEXT, C.PT_INLINE_EQUATION:
		return true
	}
	return false
}

// lineClass is the hOCR class Tesseract gives the lines of a block of type t.
func lineClass(t C.TessPolyBlockType) string {
	switch t {
	case C.PT_HEADING_TEXT:
		return "ocr_header"
	case C.PT_PULLOUT_TEXT:
		return "ocr_textfloat"
	case C.PT_CAPTION_TEXT:
		return "ocr_caption"
	}
	return "ocr_line"
}

// assemble lays words out as Tesseract's own text output does: words on a line joined by
// a space, lines by a newline, and paragraphs and blocks by a blank line.
func assemble(words []word) Result {
	var b strings.Builder
	var sum float64
	var n, lw, kw, chars int
	var boxes []image.Rectangle
	var prev word
	for _, w := range words {
		text := strings.TrimSpace(w.text)
		if text == "" {
			continue
		}
		if n > 0 {
			switch {
			case w.block != prev.block || w.par != prev.par:
				b.WriteString("\n\n")
			case w.line != prev.line:
				b.WriteByte('\n')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteString(text)
		sum += w.conf
		n++
		prev = w
		chars += utf8.RuneCountInString(text)
		boxes = append(boxes, image.Rect(w.box.left, w.box.top, w.box.right, w.box.bottom))
		if letters(text) >= 2 {
			lw++
			if w.dict {
				kw++
			}
		}
	}
	r := Result{Text: b.String(), Words: n, LetterWords: lw, KnownWords: kw, Chars: chars, Boxes: boxes}
	if n > 0 {
		b.WriteByte('\n')
		r.Text = b.String()
		r.MeanConfidence = sum / float64(n)
	}
	return r
}
