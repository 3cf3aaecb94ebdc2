package imageinfo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// PDFDPI is the resolution PDF pages are rendered at.
const PDFDPI = 300

// A PDF is read by poppler's command-line tools (Debian's poppler-utils), each in its own
// process, so a hostile PDF can crash or hang only that process: pdfinfo counts the pages
// and gives their sizes, pdftotext tells whether a page has text, pdftoppm renders it.
// Each gets the file as a temporary file, since a PDF is read from its end.

// pdfPage is a page's visible size (its crop box), in points, turned as it is displayed.
type pdfPage struct {
	w, h float64
}

// pixels is the size pdftoppm renders the page at, at PDFDPI.
func (p pdfPage) pixels() (int, int) {
	px := func(pt float64) int {
		v := math.Ceil(pt * PDFDPI / 72)
		if v > math.MaxInt32 || v != v {
			return math.MaxInt32
		}
		return int(v)
	}
	return px(p.w), px(p.h)
}

func pdfCount(ctx context.Context, data []byte, lim Limits) (int, Info, error) {
	info := Info{Format: "pdf", DPI: PDFDPI}
	path, cleanup, err := pdfTemp(data)
	if err != nil {
		return 0, info, err
	}
	defer cleanup()
	n, pages, err := pdfInfo(ctx, path, 1, lim.maxPages()+1)
	if err != nil {
		return 0, info, err
	}
	if n > lim.maxPages() {
		return 0, info, fmt.Errorf("pdf holds %d pages, over the limit of %d: %w", n, lim.maxPages(), ErrTooLarge)
	}
	for i := 1; i <= n; i++ {
		p, ok := pages[i]
		if !ok {
			return 0, info, fmt.Errorf("%w: pdf: pdfinfo gave no size for page %d of %d", ErrCorrupt, i, n)
		}
		w, h := p.pixels()
		if i == 1 {
			info.Width, info.Height = w, h
		}
		if err := lim.checkPixels(fmt.Sprintf("pdf page %d (%gx%g pt at %d dpi)", i, p.w, p.h, PDFDPI), w, h); err != nil {
			return 0, info, err
		}
	}
	return n, info, nil
}

func pdfDecodePage(ctx context.Context, data []byte, i int, lim Limits) (*image.Gray, Info, error) {
	info := Info{Format: "pdf", DPI: PDFDPI}
	path, cleanup, err := pdfTemp(data)
	if err != nil {
		return nil, info, err
	}
	defer cleanup()
	n, pages, err := pdfInfo(ctx, path, i+1, i+1)
	if err != nil {
		// pdfinfo refuses a page range past the last page: is that why?
		if n, _, cerr := pdfInfo(ctx, path, 1, 1); cerr == nil && i >= n {
			return nil, info, fmt.Errorf("page index %d of a %d-page pdf: %w", i, n, ErrNoPage)
		}
		return nil, info, err
	}
	if n > lim.maxPages() {
		return nil, info, fmt.Errorf("pdf holds %d pages, over the limit of %d: %w", n, lim.maxPages(), ErrTooLarge)
	}
	if i >= n {
		return nil, info, fmt.Errorf("page index %d of a %d-page pdf: %w", i, n, ErrNoPage)
	}
	p, ok := pages[i+1]
	if !ok {
		return nil, info, fmt.Errorf("%w: pdf: pdfinfo gave no size for page %d", ErrCorrupt, i+1)
	}
	info.Width, info.Height = p.pixels()
	if err := lim.checkPixels(fmt.Sprintf("pdf page %d (%gx%g pt at %d dpi)", i+1, p.w, p.h, PDFDPI), info.Width, info.Height); err != nil {
		return nil, info, err
	}
	page := strconv.Itoa(i + 1)

	var text nonBlank
	if err := runTool(ctx, &text, "pdftotext", "-f", page, "-l", page, "-enc", "UTF-8", path, "-"); err != nil {
		return nil, info, err
	}
	info.TextLayer = bool(text)

	// A grey PGM on stdout, of the crop box (what a viewer shows), as the page is turned.
	// Bounded by the limit, not by the size computed: pdftoppm rounds its own way.
	out := &cappedBuffer{max: lim.maxPixels() + 64}
	if err := runTool(ctx, out, "pdftoppm", "-r", strconv.Itoa(PDFDPI), "-gray", "-cropbox", "-f", page, "-l", page, "-singlefile", path); err != nil {
		return nil, info, err
	}
	g, err := decodePGM(out.Bytes())
	if err != nil {
		return nil, info, fmt.Errorf("%w: pdf page %d: pdftoppm's output: %v", ErrCorrupt, i+1, err)
	}
	info.Width, info.Height = g.Rect.Dx(), g.Rect.Dy()
	if err := lim.checkPixels(fmt.Sprintf("pdf page %d", i+1), info.Width, info.Height); err != nil {
		return nil, info, err
	}
	return g, info, nil
}

// pdfTemp writes data to a temporary file for poppler's tools.
func pdfTemp(data []byte) (string, func(), error) {
	f, err := os.CreateTemp("", "colophon-*.pdf")
	if err != nil {
		return "", nil, fmt.Errorf("pdf: temporary file: %w", err)
	}
	cleanup := func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("pdf: temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("pdf: temporary file: %w", err)
	}
	return f.Name(), cleanup, nil
}

var (
	pdfPagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)\s*$`)
	pdfSizeLine  = regexp.MustCompile(`(?m)^Page\s+(\d+)\s+size:\s+([0-9.eE+-]+) x ([0-9.eE+-]+) pts`)
	pdfRotLine   = regexp.MustCompile(`(?m)^Page\s+(\d+)\s+rot:\s+(-?\d+)\s*$`)
)

// pdfInfo runs pdfinfo on the PDF at path: its page count, and the sizes of pages first to
// last (1-based; pdfinfo stops at the last page there is).
func pdfInfo(ctx context.Context, path string, first, last int) (int, map[int]pdfPage, error) {
	var out bytes.Buffer
	err := runTool(ctx, &out, "pdfinfo", "-f", strconv.Itoa(first), "-l", strconv.Itoa(last), path)
	if err != nil {
		return 0, nil, err
	}
	// The last "Pages:" line, and the last line for each page, are pdfinfo's own: the
	// document's title and other metadata, which a PDF may fill with lines of its choosing,
	// come before them.
	all := pdfPagesLine.FindAllSubmatch(out.Bytes(), -1)
	if all == nil {
		return 0, nil, fmt.Errorf("%w: pdf: pdfinfo gave no page count", ErrCorrupt)
	}
	n, err := strconv.Atoi(string(all[len(all)-1][1]))
	if err != nil || n <= 0 {
		return 0, nil, fmt.Errorf("%w: pdf has no pages", ErrCorrupt)
	}
	pages := map[int]pdfPage{}
	for _, m := range pdfSizeLine.FindAllSubmatch(out.Bytes(), -1) {
		i, _ := strconv.Atoi(string(m[1]))
		w, werr := strconv.ParseFloat(string(m[2]), 64)
		h, herr := strconv.ParseFloat(string(m[3]), 64)
		if werr != nil || herr != nil || !(w > 0) || !(h > 0) {
			return n, nil, fmt.Errorf("%w: pdf page %d has a size of %q x %q pt", ErrCorrupt, i, m[2], m[3])
		}
		pages[i] = pdfPage{w: w, h: h}
	}
	for _, m := range pdfRotLine.FindAllSubmatch(out.Bytes(), -1) {
		i, _ := strconv.Atoi(string(m[1]))
		rot, _ := strconv.Atoi(string(m[2]))
		if p, ok := pages[i]; ok && ((rot%360+360)%360 == 90 || (rot%360+360)%360 == 270) {
			pages[i] = pdfPage{w: p.h, h: p.w}
		}
	}
	return n, pages, nil
}

// runTool runs one of poppler's tools, its output to stdout. A missing tool is
// ErrMissingTool; a failure is ErrCorrupt, or ErrNotImage for an encrypted PDF, with
// what the tool said on stderr; cancelling ctx kills the tool and returns ctx's error.
func runTool(ctx context.Context, stdout io.Writer, name string, args ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pdf: %s: %w", name, err)
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("pdf: %s is not installed (Debian package poppler-utils; run scripts/install-deps): %w", name, ErrMissingTool)
	}
	stderr := &cappedBuffer{max: 2048, truncate: true}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("pdf: %s: %w", name, cerr)
	}
	if err == nil {
		return nil
	}
	said := strings.TrimSpace(stderr.String())
	if said == "" {
		said = "(nothing on stderr)"
	}
	said = strings.ReplaceAll(said, "\n", "; ")
	if out, ok := stdout.(*cappedBuffer); ok && out.over {
		return fmt.Errorf("%w: pdf: %s wrote more than the %d bytes a page may take", ErrTooLarge, name, out.max)
	}
	switch {
	case strings.Contains(said, "Incorrect password"):
		return fmt.Errorf("%w: pdf is encrypted (password-protected): %s: %s", ErrNotImage, name, said)
	}
	return fmt.Errorf("%w: pdf: %s: %v: %s", ErrCorrupt, name, err, said)
}

// cappedBuffer keeps at most max bytes: past that it fails the write (stdout of a renderer
// that writes more than the page may take), or with truncate, drops the rest (stderr).
type cappedBuffer struct {
	bytes.Buffer
	max      int64
	truncate bool
	over     bool // more was written than max
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - int64(b.Len())
	if int64(len(p)) <= room {
		return b.Buffer.Write(p)
	}
	b.over = true
	if room > 0 {
		b.Buffer.Write(p[:room])
	}
	if b.truncate {
		return len(p), nil
	}
	return 0, fmt.Errorf("output over %d bytes", b.max)
}

// nonBlank records whether anything but white space was written to it.
type nonBlank bool

func (t *nonBlank) Write(p []byte) (int, error) {
	if !*t && len(bytes.TrimFunc(p, unicode.IsSpace)) > 0 {
		*t = true
	}
	return len(p), nil
}

// decodePGM reads a binary 8-bit PGM (P5), as pdftoppm -gray writes.
func decodePGM(b []byte) (*image.Gray, error) {
	if !bytes.HasPrefix(b, []byte("P5")) {
		return nil, fmt.Errorf("not a PGM (starts with %q)", printable(b, 8))
	}
	p := 2
	var fields [3]int
	for k := range fields {
		for p < len(b) && (isPNMSpace(b[p]) || b[p] == '#') {
			if b[p] == '#' {
				for p < len(b) && b[p] != '\n' {
					p++
				}
				continue
			}
			p++
		}
		start := p
		for p < len(b) && b[p] >= '0' && b[p] <= '9' && p-start < 10 {
			p++
		}
		v, err := strconv.Atoi(string(b[start:p]))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad PGM header")
		}
		fields[k] = v
	}
	if p >= len(b) || !isPNMSpace(b[p]) {
		return nil, fmt.Errorf("bad PGM header")
	}
	p++
	w, h, maxval := fields[0], fields[1], fields[2]
	if maxval != 255 {
		return nil, fmt.Errorf("PGM of maxval %d, want 255", maxval)
	}
	if int64(len(b)-p) != int64(w)*int64(h) {
		return nil, fmt.Errorf("PGM of %dx%d with %d bytes of pixels", w, h, len(b)-p)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	copy(g.Pix, b[p:])
	return g, nil
}

func isPNMSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
