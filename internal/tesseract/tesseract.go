// Package tesseract is Colophon's adapter to the Tesseract engine.
//
// An Engine wraps one gosseract client. Tesseract is not safe for concurrent use, and
// loading a model costs more than reading a page, so each worker goroutine owns one Engine
// and reuses it for every page.
//
// Memory: an OCR worker reads pages for as long as it runs, so nothing may grow per page.
// gosseract v2.4.1 (its newest release) leaks in every result call: GetBoundingBoxesVerbose
// keeps each word string Tesseract allocates and never deletes its ResultIterator, and Text
// and HOCRText never free their strings; about 35 bytes per word read, 9 KiB a page, for
// good. So gosseract creates, initialises (loads the model into) and frees the Tesseract
// instance, and the engine reads pages through Tesseract's own C API on that same instance
// (capi.h), freeing every string and iterator Tesseract hands out before Recognize returns.
// All of an engine's calls run on one OS thread (see Engine). memory_test.go guards both;
// ./internal/tesseract/internal/memcurve measures the curve over hundreds of pages.
package tesseract

/*
#cgo LDFLAGS: -ltesseract
#include <stdlib.h>
#include <tesseract/capi.h>
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
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
// ordinary goroutines spreads each page's working set (tens of MiB) over more and more
// arenas, and the process keeps a page's worth of freed memory in each: measured on one
// engine, resident memory climbed from 51 to 82 MiB over 200 identical pages with no byte
// leaked, and stayed at 51 MiB with the calls kept on one thread.
type Engine struct {
	calls  chan func() // run in order on the engine's thread
	client *gosseract.Client
	api    *C.TessBaseAPI // the client's Tesseract instance; used on the engine's thread only
	langs  []string
	ready  bool // the model is loaded for langs
	closed bool
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
		e.api = (*C.TessBaseAPI)(instance(e.client))
	})
	return e
}

// instance is the TessBaseAPI* a gosseract client wraps: its unexported field api, a
// tesseract::TessBaseAPI* typed void* on gosseract's side and TessBaseAPI* in capi.h. go.mod
// pins gosseract, and TestInstance fails if the field goes or changes kind.
func instance(c *gosseract.Client) unsafe.Pointer {
	f := reflect.ValueOf(c).Elem().FieldByName("api")
	if !f.IsValid() || f.Kind() != reflect.UnsafePointer {
		return nil
	}
	return *(*unsafe.Pointer)(unsafe.Pointer(f.UnsafeAddr()))
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
			err = errors.New("gosseract client holds no Tesseract instance (has gosseract changed?)")
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
	})
	close(e.calls)
	e.closed, e.ready = true, false
	return err
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
}

// Recognize reads a grey page image assumed to be at dpi. langs selects the model; an
// empty slice keeps the current one.
//
// It runs recognition once and reads text, confidences and layout from one walk over the
// words.
func (e *Engine) Recognize(img *image.Gray, dpi int, langs []string) (Result, error) {
	if img == nil || img.Bounds().Empty() {
		return Result{}, errors.New("recognize: empty image")
	}
	if e.closed {
		return Result{}, errors.New("recognize: tesseract engine is closed")
	}
	if len(langs) > 0 && !slices.Equal(langs, e.langs) {
		if err := e.client.SetLanguage(langs...); err != nil {
			return Result{}, fmt.Errorf("recognize: languages %s: %w", strings.Join(langs, "+"), err)
		}
		e.langs = slices.Clone(langs)
		e.ready = false
	}
	if err := e.Load(); err != nil {
		return Result{}, fmt.Errorf("recognize: %w", err)
	}
	var rc C.int
	var words []word
	e.do(func() {
		b := img.Bounds()
		// Tesseract copies the pixels into an image of its own before SetImage returns, so
		// handing it Go memory for the call is safe, and nothing is encoded or decoded.
		C.TessBaseAPISetImage(e.api, (*C.uchar)(unsafe.Pointer(&img.Pix[img.PixOffset(b.Min.X, b.Min.Y)])),
			C.int(b.Dx()), C.int(b.Dy()), 1, C.int(img.Stride))
		// Without this Tesseract assumes 70 dpi for an image with no resolution and
		// misjudges text size; the caller knows better (header, or a sane default).
		C.TessBaseAPISetSourceResolution(e.api, C.int(dpi))
		// Free the page image and recognition results once read: between pages the engine
		// holds only its model.
		defer C.TessBaseAPIClear(e.api)
		if rc = C.TessBaseAPIRecognize(e.api, nil); rc == 0 {
			words = readWords(e.api)
		}
	})
	if rc != 0 {
		return Result{}, fmt.Errorf("recognize (%s): tesseract failed (code %d)", strings.Join(e.langs, "+"), int(rc))
	}
	return assemble(words), nil
}

// word is one recognised word and where it sits in the layout.
type word struct {
	text string
	conf float64
	// Ordinals of its block on the page, its paragraph in the block, its line in the paragraph.
	block, par, line int
}

// readWords walks the recognised page word by word, as Tesseract's own TSV output does.
// Every string and the iterator are freed here.
func readWords(api *C.TessBaseAPI) []word {
	it := C.TessBaseAPIGetIterator(api)
	if it == nil {
		return nil
	}
	defer C.TessResultIteratorDelete(it)
	pit := C.TessResultIteratorGetPageIteratorConst(it)
	var out []word
	var block, par, line int
	for {
		// Nil where the iterator is on no word, e.g. an image block.
		if t := C.TessResultIteratorGetUTF8Text(it, C.RIL_WORD); t != nil {
			w := word{text: C.GoString(t), conf: float64(C.TessResultIteratorConfidence(it, C.RIL_WORD))}
			C.TessDeleteText(t)
			if C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_BLOCK) != 0 {
				block, par, line = block+1, 0, 0
			}
			if C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_PARA) != 0 {
				par, line = par+1, 0
			}
			if C.TessPageIteratorIsAtBeginningOf(pit, C.RIL_TEXTLINE) != 0 {
				line++
			}
			w.block, w.par, w.line = block, par, line
			out = append(out, w)
		}
		if C.TessResultIteratorNext(it, C.RIL_WORD) == 0 {
			return out
		}
	}
}

// assemble lays words out as Tesseract's own text output does: words on a line joined by
// a space, lines by a newline, and paragraphs and blocks by a blank line.
func assemble(words []word) Result {
	var b strings.Builder
	var sum float64
	var n int
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
	}
	r := Result{Text: b.String(), Words: n}
	if n > 0 {
		b.WriteByte('\n')
		r.Text = b.String()
		r.MeanConfidence = sum / float64(n)
	}
	return r
}
