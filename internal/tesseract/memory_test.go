package tesseract

import (
	"fmt"
	"image"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/tesseract/internal/cmem"
)

// TestRecognizeFreesWhatTesseractAllocates reads the same page again and again and checks
// that C memory in use does not grow with it, with every output made. gosseract v2.4.1
// kept every word string and the result iterator, about 35 bytes per word read (12 KiB per
// page of 275 words): an OCR worker's memory grew for as long as it ran. Tesseract's own
// per-page state is freed when the next page is set, so after warming up the count should
// stay put.
//
// The curve over hundreds of pages, in resident memory, is measured by
// ./internal/tesseract/internal/memcurve.
func TestRecognizeFreesWhatTesseractAllocates(t *testing.T) {
	if _, ok := cmem.HeapInUse(); !ok {
		t.Skip("the C library does not report heap use (not glibc 2.33 or later)")
	}
	var text strings.Builder
	for _, name := range []string{"page1.txt", "page2.txt"} {
		b, err := os.ReadFile("../sample/text/" + name)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(b)
		text.WriteString("\n\n")
	}
	// A short wide page of small print: many words, few pixels.
	pages, err := sample.Render(text.String(), sample.WithPageSize(1240, 900), sample.WithFontSize(7))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageinfo.Decode(pages[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e := New("eng")
	defer e.Close()
	// Every output, the PDF's page image (compressed by Leptonica) among them.
	read := func() int {
		r, err := e.Read(t.Context(), Page{Image: img, DPI: 300, HOCR: true, ALTO: true, PDF: true, Created: time.Unix(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return r.Words
	}
	// Tesseract's first pages grow caches of its own, for good: about 20 KiB over the first
	// fifty or so (half of it in the first five, a few bytes a word after), then nothing.
	for range 5 {
		read()
	}
	const n = 6
	before, _ := cmem.HeapInUse()
	words := 0
	for range n {
		words += read()
	}
	after, _ := cmem.HeapInUse()
	if words < 50*n {
		t.Fatalf("only %d words in %d pages: the page is too sparse to show a per-word leak", words, n)
	}
	grew := after - before
	t.Logf("%d pages, %d words: C heap in use %d -> %d bytes (%+d, %.1f bytes a word)", n, words, before, after, grew, float64(grew)/float64(words))
	// Tesseract's warming caches add up to about 5 bytes a word here, gosseract lost 35 more.
	if perWord := float64(grew) / float64(words); perWord > 15 {
		t.Errorf("C heap grew %d bytes over %d pages (%.1f bytes per word read): something Tesseract allocates per word is not freed", grew, n, perWord)
	}
}

// TestEngineKeepsToOneThread checks that an engine's Tesseract calls all run on one OS
// thread, whichever goroutine makes them, and that the thread ends when the engine closes.
// The engine's memory depends on it: see Engine.
func TestEngineKeepsToOneThread(t *testing.T) {
	e := New("eng")
	tids := map[int]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				e.do(func() {
					mu.Lock()
					tids[syscall.Gettid()] = true
					mu.Unlock()
				})
			}
		}()
	}
	wg.Wait()
	if len(tids) != 1 {
		t.Fatalf("engine calls ran on %d threads, want 1", len(tids))
	}
	var tid int
	for id := range tids {
		tid = id
	}
	t.Logf("engine thread %d, process %d", tid, os.Getpid())
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	if _, err := os.Stat(task); err != nil {
		t.Fatalf("engine thread %d: %v", tid, err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine thread %d still running after Close", tid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClosedEngine(t *testing.T) {
	e := New("eng")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := e.Load(); err == nil {
		t.Error("Load on a closed engine succeeded")
	}
	img := image.NewGray(image.Rect(0, 0, 10, 10))
	if _, err := e.Recognize(img, 300, nil); err == nil {
		t.Error("Recognize on a closed engine succeeded")
	}
}

func TestEnginePanicReachesCaller(t *testing.T) {
	e := New("eng")
	defer e.Close()
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v, want boom", p)
		}
		// The engine survives a panic in one call.
		ok := false
		e.do(func() { ok = true })
		if !ok {
			t.Fatal("engine dead after a panic")
		}
	}()
	e.do(func() { panic("boom") })
}
