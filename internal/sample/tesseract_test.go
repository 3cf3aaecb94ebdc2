package sample

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/textmetrics"
)

// maxCER is the acceptance bound for OCR of the bundled pages. The layout was
// tuned so that Tesseract 5.3 (eng) reads them with no errors at all; 1% is
// the contract other packages' integration tests rely on.
const maxCER = 0.01

// TestTesseractReadsBundledPages OCRs every bundled page with the tesseract
// command line and checks the character error rate against Page.Text. It
// deliberately fails rather than skips without tesseract: the sample exists
// to be OCRed, and a silent skip would hide a broken environment.
func TestTesseractReadsBundledPages(t *testing.T) {
	bin, err := exec.LookPath("tesseract")
	if err != nil {
		t.Fatalf("tesseract not found on PATH (install the Debian package tesseract-ocr): %v", err)
	}
	pages, err := Pages()
	if err != nil {
		t.Fatalf("Pages: %v", err)
	}
	paths, err := WriteFiles(t.TempDir(), pages)
	if err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}
	for i, path := range paths {
		t.Run(fmt.Sprintf("page-%02d", i+1), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, path, "stdout", "-l", "eng")
			// One thread per process: OpenMP oversubscription makes
			// tesseract much slower when pages run in parallel.
			cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			out, err := cmd.Output()
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("tesseract %s: %v\n%s", filepath.Base(path), err, stderr.Bytes())
			}
			cer := textmetrics.CER(string(out), pages[i].Text)
			t.Logf("CER %.4f (%d edits / %d chars), %.2fs", cer,
				textmetrics.Distance(textmetrics.Normalize(string(out)), textmetrics.Normalize(pages[i].Text)),
				len([]rune(textmetrics.Normalize(pages[i].Text))), elapsed.Seconds())
			if cer >= maxCER {
				t.Errorf("CER %.4f >= %.2f\n--- tesseract:\n%s\n--- ground truth:\n%s", cer, maxCER, out, pages[i].Text)
			}
		})
	}
}
