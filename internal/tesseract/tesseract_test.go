package tesseract

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/textmetrics"
)

func TestMain(m *testing.M) {
	if err := EnsureSingleThreaded(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func TestAssemble(t *testing.T) {
	w := func(text string, conf float64, block, par, line int) word {
		return word{text: text, conf: conf, block: block, par: par, line: line}
	}
	tests := []struct {
		name     string
		words    []word
		wantText string
		wantConf float64
		wantN    int
	}{
		{"empty page", nil, "", 0, 0},
		{"one line", []word{w("Hello", 90, 1, 1, 1), w("world", 80, 1, 1, 1)}, "Hello world\n", 85, 2},
		{"two lines", []word{w("a", 100, 1, 1, 1), w("b", 50, 1, 1, 2)}, "a\nb\n", 75, 2},
		{"two paragraphs", []word{w("a", 60, 1, 1, 1), w("b", 60, 1, 2, 1)}, "a\n\nb\n", 60, 2},
		{"two blocks", []word{w("a", 60, 1, 1, 1), w("b", 60, 2, 1, 1)}, "a\n\nb\n", 60, 2},
		{"blank words skipped", []word{w(" ", 0, 1, 1, 1), w("x", 70, 1, 1, 1)}, "x\n", 70, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := assemble(tt.words)
			if r.Text != tt.wantText || r.MeanConfidence != tt.wantConf || r.Words != tt.wantN {
				t.Errorf("assemble = %q, conf %v, words %d; want %q, %v, %d", r.Text, r.MeanConfidence, r.Words, tt.wantText, tt.wantConf, tt.wantN)
			}
		})
	}
}

func corpusPage(t *testing.T, rel string) *image.Gray {
	t.Helper()
	img, _, err := imageinfo.Decode(corpusFile(t, rel), imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", rel)
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		t.Skipf("corpus file %s absent (../shared/corpus not beside the repository)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecognizeCorpus reads real pages with the real engine and checks fidelity against
// their ground truth; the bounds sit just above what plain tesseract achieves on them.
func TestRecognizeCorpus(t *testing.T) {
	e := New("eng")
	defer e.Close()
	tests := []struct {
		page   string
		dpi    int
		maxCER float64
	}{
		{"tesseract-test/phototest.tif", 200, 0.01},
		{"old-books/c039.tiff", 300, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.page, func(t *testing.T) {
			img := corpusPage(t, tt.page)
			gt := string(corpusFile(t, tt.page[:len(tt.page)-len(filepath.Ext(tt.page))]+".gt.txt"))
			r, err := e.Recognize(img, tt.dpi, []string{"eng"})
			if err != nil {
				t.Fatal(err)
			}
			cer := textmetrics.CER(r.Text, gt)
			t.Logf("%s: CER %.4f, mean confidence %.1f, %d words", tt.page, cer, r.MeanConfidence, r.Words)
			if cer > tt.maxCER {
				t.Errorf("CER %.4f over %.4f; text:\n%s", cer, tt.maxCER, r.Text)
			}
			if r.MeanConfidence < 50 || r.MeanConfidence > 100 {
				t.Errorf("mean confidence %.1f outside 50..100", r.MeanConfidence)
			}
		})
	}
}

func TestRecognizeRejectsEmptyImage(t *testing.T) {
	e := New("eng")
	defer e.Close()
	for _, img := range []*image.Gray{nil, image.NewGray(image.Rect(0, 0, 0, 0))} {
		if _, err := e.Recognize(img, 300, nil); err == nil {
			t.Error("Recognize succeeded on an empty image")
		}
	}
}

// TestBlankPage checks a page with no text reads as no text, not as an error.
func TestBlankPage(t *testing.T) {
	e := New("eng")
	defer e.Close()
	img := image.NewGray(image.Rect(0, 0, 600, 800))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	r, err := e.Recognize(img, 300, nil)
	if err != nil || r.Text != "" || r.Words != 0 {
		t.Fatalf("blank page: %q, %d words, %v", r.Text, r.Words, err)
	}
}

func TestUnknownLanguage(t *testing.T) {
	e := New("eng")
	defer e.Close()
	img := corpusPage(t, "tesseract-test/phototest.tif")
	if _, err := e.Recognize(img, 200, []string{"xx_nonexistent"}); err == nil {
		t.Fatal("Recognize with a missing language model succeeded")
	}
	// The engine recovers when asked for a model that exists.
	if r, err := e.Recognize(img, 200, []string{"eng"}); err != nil || r.Words == 0 {
		t.Fatalf("after a missing model: %v, %d words", err, r.Words)
	}
}

// TestInstance checks the instance the boundary (gosseract.go) hands over is the one
// gosseract initialised; TestGosseractBoundary says why when there is none.
func TestInstance(t *testing.T) {
	e := New("eng")
	defer e.Close()
	if e.api == nil {
		t.Fatal("no Tesseract instance found in the gosseract client")
	}
	if err := e.Load(); err != nil {
		t.Fatal(err)
	}
	// The instance is the one gosseract initialised: it answers with the model it loaded.
	if langs := e.loadedLanguages(); langs != "eng" {
		t.Fatalf("instance reports languages %q, want eng", langs)
	}
}
