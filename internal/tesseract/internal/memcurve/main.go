// Command memcurve measures how the resident memory of one Tesseract engine grows as it
// recognises the same page over and over: the memory curve of an OCR worker, without NATS
// or S3. It is a measuring tool, not a test (500 pages take about ten minutes); run it from
// the repository root:
//
//	go run ./internal/tesseract/internal/memcurve                        # tesseract.Engine, 500 pages
//	go run ./internal/tesseract/internal/memcurve -mode gosseract-verbose # the old way
//
// The default page is A6 at 300 dpi with about 275 words of the bundled sample text in 7 pt
// type: the leaks it looks for are per word, so many words and few pixels; -file reads
// another. It re-executes itself with OMP_THREAD_LIMIT=1, as the worker does.
//
// Before each sample it runs the Go collector and returns free Go memory to the OS, so what
// grows is C/C++ memory (Tesseract, Leptonica), not Go's heap. Each sample reports VmRSS,
// RssAnon and glibc's count of bytes allocated with malloc and not yet freed (mallinfo2),
// the sharper signal: a leak shows there at once, RSS follows in steps.
//
// Modes:
//
//	engine             tesseract.Engine, as the OCR worker uses it (default)
//	gosseract-verbose  a gosseract v2.4.1 client: SetImageFromBytes + GetBoundingBoxesVerbose,
//	                   what Engine did before it called Tesseract's C API itself
//	gosseract-boxes    the same with GetBoundingBoxes(RIL_WORD)
//	gosseract-text     the same with Text()
//
// -recycle K closes the gosseract client and makes a new one every K pages (gosseract
// modes only). -lock makes every call from one OS thread, so from one malloc arena, as
// Engine does by itself.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"image"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otiai10/gosseract/v2"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/internal/tesseract/internal/cmem"
)

func main() {
	if err := tesseract.EnsureSingleThreaded(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tesseract.MapPageBuffers()
	var (
		mode    = flag.String("mode", "engine", "engine, gosseract-verbose, gosseract-boxes or gosseract-text")
		pages   = flag.Int("pages", 500, "pages to recognise")
		at      = flag.String("at", "1,50,100,200,300,400,500", "page counts at which to sample")
		file    = flag.String("file", "", "page image to read (default: a rendered A6 page of about 300 words)")
		dpi     = flag.Int("dpi", 300, "resolution of the page")
		recycle = flag.Int("recycle", 0, "gosseract modes: a new client every this many pages (0: never)")
		lock    = flag.Bool("lock", false, "make every Tesseract call from one OS thread (runtime.LockOSThread)")
	)
	flag.Parse()
	if *lock {
		runtime.LockOSThread()
		lockOSThread = true
	}
	if err := run(*mode, *pages, *at, *file, *dpi, *recycle); err != nil {
		fmt.Fprintln(os.Stderr, "memcurve:", err)
		os.Exit(1)
	}
}

// testPage is A6 (105 x 148 mm) at 300 dpi holding about 275 words of the bundled sample
// text at 7 pt: a page with many words and few pixels, since the leaks looked for are per
// word.
func testPage() ([]byte, error) {
	var text strings.Builder
	for n := 1; n <= 2; n++ {
		b, err := os.ReadFile(fmt.Sprintf("internal/sample/text/page%d.txt", n))
		if err != nil {
			return nil, fmt.Errorf("%w (run from the repository root, or give -file)", err)
		}
		text.Write(b)
		text.WriteString("\n\n")
	}
	p, err := sample.Render(text.String(), sample.WithPageSize(1240, 1748), sample.WithFontSize(7))
	if err != nil {
		return nil, err
	}
	return p[0].PNG, nil
}

var lockOSThread bool

func run(mode string, pages int, at, file string, dpi, recycle int) error {
	var marks []int
	for _, s := range strings.Split(at, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-at %q: %w", at, err)
		}
		marks = append(marks, n)
	}
	var data []byte
	var err error
	if file != "" {
		data, err = os.ReadFile(file)
	} else {
		data, err = testPage()
	}
	if err != nil {
		return err
	}
	img, _, err := imageinfo.Decode(data, imageinfo.Limits{})
	if err != nil {
		return err
	}
	rec, closeFn, err := recognizer(mode, recycle)
	if err != nil {
		return err
	}
	defer closeFn()

	fmt.Printf("memcurve: mode %s, recycle %d, lock %v, page %dx%d px, %d pages, tesseract %s, OMP_THREAD_LIMIT=%s\n",
		mode, recycle, lockOSThread, img.Bounds().Dx(), img.Bounds().Dy(), pages, tesseract.Version(), os.Getenv("OMP_THREAD_LIMIT"))
	base := sampleMem()
	fmt.Printf("%6s %10s %10s %12s %8s %7s\n", "pages", "VmRSS_KiB", "RssAnon", "C_heap_KiB", "words", "s/page")
	fmt.Printf("%6d %10d %10d %12d %8s %7s\n", 0, base.rss, base.anon, base.heap/1024, "-", "-")
	start := time.Now()
	var rss50 int64
	for i := 1; i <= pages; i++ {
		words, err := rec(img, dpi, i)
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
		if slices.Contains(marks, i) {
			m := sampleMem()
			fmt.Printf("%6d %10d %10d %12d %8d %7.2f\n", i, m.rss, m.anon, m.heap/1024, words, time.Since(start).Seconds()/float64(i))
			if i == 50 {
				rss50 = m.rss
			}
			if i == pages && rss50 > 0 {
				fmt.Printf("VmRSS ratio %d/50 pages: %.3f\n", pages, float64(m.rss)/float64(rss50))
			}
		}
	}
	return nil
}

type mem struct{ rss, anon, heap int64 }

func sampleMem() mem {
	runtime.GC()
	debug.FreeOSMemory()
	var m mem
	m.heap, _ = cmem.HeapInUse()
	b, _ := os.ReadFile("/proc/self/status")
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = n
		case "RssAnon:":
			m.anon = n
		}
	}
	return m
}

type recognizeFunc func(img *image.Gray, dpi, page int) (words int, err error)

func recognizer(mode string, recycle int) (recognizeFunc, func(), error) {
	if mode == "engine" {
		if recycle != 0 {
			return nil, nil, fmt.Errorf("-recycle applies to the gosseract modes only")
		}
		e := tesseract.New("eng")
		return func(img *image.Gray, dpi, _ int) (int, error) {
			r, err := e.Recognize(img, dpi, nil)
			return r.Words, err
		}, func() { e.Close() }, nil
	}
	var read func(c *gosseract.Client) (int, error)
	switch mode {
	case "gosseract-verbose":
		read = func(c *gosseract.Client) (int, error) {
			b, err := c.GetBoundingBoxesVerbose()
			return len(b), err
		}
	case "gosseract-boxes":
		read = func(c *gosseract.Client) (int, error) {
			b, err := c.GetBoundingBoxes(gosseract.RIL_WORD)
			return len(b), err
		}
	case "gosseract-text":
		read = func(c *gosseract.Client) (int, error) {
			t, err := c.Text()
			return len(strings.Fields(t)), err
		}
	default:
		return nil, nil, fmt.Errorf("unknown -mode %q", mode)
	}
	newClient := func() *gosseract.Client {
		c := gosseract.NewClient()
		c.Trim = false
		_ = c.SetLanguage("eng")
		return c
	}
	c := newClient()
	return func(img *image.Gray, dpi, page int) (int, error) {
			if recycle > 0 && page > 1 && (page-1)%recycle == 0 {
				c.Close()
				c = newClient()
			}
			if err := c.SetVariable("user_defined_dpi", strconv.Itoa(dpi)); err != nil {
				return 0, err
			}
			if err := c.SetImageFromBytes(pgm(img)); err != nil {
				return 0, err
			}
			return read(c)
		}, func() {
			c.Close()
		}, nil
}

// pgm is tesseract's pgm encoder, repeated so the gosseract modes feed Leptonica the same bytes.
func pgm(img *image.Gray) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := fmt.Appendf(nil, "P5\n%d %d\n255\n", w, h)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		off := img.PixOffset(b.Min.X, y)
		out = append(out, img.Pix[off:off+w]...)
	}
	return out
}
