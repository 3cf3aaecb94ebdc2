package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/colophon-archive/colophon/internal/degrade"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestHardPagesReadAsWellAsTesseract uploads pages rendered from text with the faults real
// archive scans showed the cleanup doing harm on: white type on black, faded low-contrast
// type, and a low-resolution JPEG whose header declares 72 dpi. Each is read through the
// whole pipeline at least as well as plain `tesseract FILE stdout` reads the same file, and
// its record says what was measured and done.
func TestHardPagesReadAsWellAsTesseract(t *testing.T) {
	if testing.Short() {
		t.Skip("reads pages with the pipeline and with tesseract")
	}
	bin, err := exec.LookPath("tesseract")
	if err != nil {
		t.Skip("no tesseract command (Debian tesseract-ocr) to compare with")
	}
	var letter degrade.Text
	for _, x := range degrade.Texts() {
		if x.Name == "letter" {
			letter = x
		}
	}
	var ds []degrade.Degradation
	for _, name := range []string{"inverted", "faded", "lowres-wrong-dpi"} {
		d, ok := degrade.ByName(name)
		if !ok {
			t.Fatalf("no degradation %q", name)
		}
		ds = append(ds, d)
	}
	pages, err := degrade.Pages(degrade.Options{Texts: []degrade.Text{letter}, Degradations: ds})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.startWorkers()
	dir := t.TempDir()
	for _, p := range pages {
		t.Run(p.Degradation.Name, func(t *testing.T) {
			path := filepath.Join(dir, p.Name+"."+p.Ext)
			if err := os.WriteFile(path, p.File, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(context.Background(), bin, path, "stdout", "-l", "eng")
			cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("tesseract: %v", err)
			}
			plain := textmetrics.CER(string(out), p.Truth)

			doc := "hard-" + p.Degradation.Name
			e.mustRun("upload", "--doc", doc, "--source", "test", "--wait", path)
			got := textmetrics.CER(e.mustRun("get", doc).stdout, p.Truth)
			t.Logf("%s: CER %.4f, plain tesseract %.4f", p.Name, got, plain)
			if got > plain+0.005 || got > 0.05 {
				t.Errorf("CER %.4f; plain tesseract %.4f (want no worse, and at most 0.05)", got, plain)
			}
			recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", doc).stdout)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			ocr := recs[0].OCR
			if q := ocr.Quality; q == nil || q.Verdict != pipeline.VerdictOK {
				t.Errorf("quality %+v, want ok", q)
			}
			sc := ocr.Scale
			if sc == nil {
				t.Fatal("no scale in the record")
			}
			var steps []string
			for _, st := range ocr.Preprocessing {
				steps = append(steps, st.Name)
			}
			switch p.Degradation.Name {
			case "inverted":
				if !slices.Contains(steps, "invert") {
					t.Errorf("steps %v: the negative was not inverted", steps)
				}
			case "lowres-wrong-dpi":
				// Scanned at 120 dpi, declared 72: read at the text's size, not the header's.
				if sc.DeclaredDPI != 72 || sc.MeasuredDPI < 90 || sc.MeasuredDPI > 160 || ocr.DPI != sc.MeasuredDPI {
					t.Errorf("scale %+v, read at %d dpi; want 72 declared, about 120 measured and taken", sc, ocr.DPI)
				}
			}
		})
	}
}
