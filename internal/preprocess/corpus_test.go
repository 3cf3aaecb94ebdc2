package preprocess

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/textmetrics"
)

// corpusDir holds real scans with ground truth (see its README); it lives
// outside the repository and may be absent.
const corpusDir = "../../../shared/corpus"

// Real scans must not read worse after cleaning than plain Tesseract reads
// them: the old books are binarised already (cleaning must pass them through
// harmlessly), eurotext is a grey 300 dpi scan, phototest a clean control.
func TestCleanCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("recognises every scan twice")
	}
	var files []string
	for _, pat := range []string{"old-books/*.tif*", "tesseract-test/*.tif*"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skipf("no scans in %s", corpusDir)
	}
	var mu sync.Mutex
	var sumRaw, sumClean float64
	t.Run("pages", func(t *testing.T) {
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				raw, clean := corpusCER(t, f)
				mu.Lock()
				sumRaw += raw
				sumClean += clean
				mu.Unlock()
				// A single page may move a little either way; a large
				// loss on any page means a step misjudged it.
				if clean > raw+0.01 {
					t.Errorf("CER %.4f after cleaning, %.4f without", clean, raw)
				}
			})
		}
	})
	n := float64(len(files))
	t.Logf("corpus of %d pages: mean CER %.4f plain, %.4f cleaned", len(files), sumRaw/n, sumClean/n)
	if sumClean/n > sumRaw/n+0.002 {
		t.Errorf("cleaning made the corpus read worse: mean CER %.4f, plain %.4f", sumClean/n, sumRaw/n)
	}
}

// corpusCER reads one scan with and without Clean.
func corpusCER(t *testing.T, path string) (raw, clean float64) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := os.ReadFile(strings.TrimSuffix(path, filepath.Ext(path)) + ".gt.txt")
	if err != nil {
		t.Fatalf("ground truth: %v", err)
	}
	img, info, err := imageinfo.Decode(data, imageinfo.Limits{})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	// As the OCR worker does: the old books claim 1 dpi and are 300.
	dpi := info.DPI
	if dpi < 70 || dpi > 2400 {
		dpi = 300
	}
	out, steps, err := Clean(img, dpi)
	if err != nil {
		t.Fatalf("Clean: %v", err)
	}
	raw = textmetrics.CER(recognize(t, img, dpi).Text, string(gt))
	clean = textmetrics.CER(recognize(t, out, dpi).Text, string(gt))
	t.Logf("%dx%d at %d dpi: CER %.4f plain, %.4f cleaned; steps %v",
		img.Bounds().Dx(), img.Bounds().Dy(), dpi, raw, clean, steps)
	return raw, clean
}
