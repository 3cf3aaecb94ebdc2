package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/imageinfo/imageinfotest"
	"github.com/colophon-archive/colophon/internal/preprocess"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// checkPages checks get returns one text per sample page, each close to what was rendered.
func checkPages(t *testing.T, e *env, doc string, pages []sample.Page, maxCER float64) {
	t.Helper()
	texts := strings.Split(e.mustRun("get", doc).stdout, "\f")
	if len(texts) != len(pages) {
		t.Fatalf("document %s: get returned %d pages, want %d", doc, len(texts), len(pages))
	}
	for i, p := range pages {
		cer := textmetrics.CER(texts[i], p.Text)
		t.Logf("%s page %d: CER %.4f", doc, i+1, cer)
		if cer > maxCER {
			t.Errorf("%s page %d: CER %.4f over %.2f\ngot:\n%s", doc, i+1, cer, maxCER, texts[i])
		}
	}
}

// decodedSamples is the bundled sample pages, decoded.
func decodedSamples(t *testing.T) ([]sample.Page, []*image.Gray) {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]*image.Gray, len(pages))
	for i, p := range pages {
		if imgs[i], _, err = imageinfo.Decode(p.PNG, imageinfo.Limits{}); err != nil {
			t.Fatal(err)
		}
	}
	return pages, imgs
}

// TestMultiPageFiles uploads the two sample pages as one image-only PDF, and as one TIFF:
// each file becomes two pages of its document, each read from its own page of the file,
// and both pages' records name the one stored file and the page's place in it.
func TestMultiPageFiles(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, imgs := decodedSamples(t)
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		make func([]*image.Gray, int) ([]byte, error)
	}{{"statement.pdf", imageinfotest.PDF}, {"statement.tif", imageinfotest.TIFF}} {
		data, err := f.make(imgs, 300)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		doc := strings.ReplaceAll(f.name, ".", "-")
		e.mustRun("upload", "--doc", doc, "--source", "test", "--wait", path)
		checkPages(t, e, doc, pages, 0.01)
		recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", doc).stdout)
		if len(recs) != 2 {
			t.Fatalf("%s: %d records, want 2", doc, len(recs))
		}
		for i, r := range recs {
			if r.FilePage != i+1 || r.FileName != f.name || r.Scan.Key != recs[0].Scan.Key || r.OCR.InputTextLayer {
				t.Errorf("%s page %d record: file %s page %d, scan %s, input text layer %v", doc, i+1, r.FileName, r.FilePage, r.Scan.Key, r.OCR.InputTextLayer)
			}
		}
	}

	// A PDF that already has a text layer (Colophon's own output) is read from its images
	// again, and says so.
	out := filepath.Join(dir, "searchable.pdf")
	e.mustRun("get", "statement-pdf", "--format", "pdf", "-o", out)
	e.mustRun("upload", "--doc", "again", "--source", "test", "--wait", out)
	checkPages(t, e, "again", pages, 0.01)
	for _, r := range decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "again").stdout) {
		if !r.OCR.InputTextLayer {
			t.Errorf("page %d of a PDF with a text layer: input_text_layer false", r.Page)
		}
	}
}

// TestUpsideDown uploads a page turned upside down and one turned sideways: both are
// turned upright and read as well as the upright page, and the record says so.
func TestUpsideDown(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, imgs := decodedSamples(t)
	img := imgs[0]
	dir := t.TempDir()
	var files []string
	for _, deg := range []int{180, 90} {
		turned, err := preprocess.RotateOrth(img, deg)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, turned); err != nil { // no resolution: the worker assumes 300 dpi, as rendered
			t.Fatal(err)
		}
		f := filepath.Join(dir, "turned.png")
		f = strings.Replace(f, "turned", "turned"+string(rune('0'+deg/90)), 1)
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	e.mustRun(append([]string{"upload", "--doc", "turned", "--source", "test", "--wait"}, files...)...)
	checkPages(t, e, "turned", []sample.Page{pages[0], pages[0]}, 0.01)
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "turned").stdout)
	// The letters' shapes say how each page lies before it is read: each is turned upright
	// first and read once.
	for i, want := range []int{180, 270} {
		if o := recs[i].OCR.Orientation; o == nil || o.Rotated != want || o.Detector != pipeline.DetectorLetterShapes || len(recs[i].OCR.Attempts) != 0 {
			t.Errorf("page %d: orientation %+v, attempts %+v; want turned %d by the letters' shapes, read once", i+1, o, recs[i].OCR.Attempts, want)
		}
	}
}

// TestOutputs reads a document back as hOCR, ALTO and a searchable PDF, each verified against
// the record, and sees a rewritten hOCR refused while the text still verifies.
func TestOutputs(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	files, err := sample.WriteFiles(t.TempDir(), pages)
	if err != nil {
		t.Fatal(err)
	}
	e.mustRun(append([]string{"upload", "--doc", "outs", "--source", "test", "--wait"}, files...)...)

	hocr := e.mustRun("get", "outs", "--format", "hocr").stdout
	dec := xml.NewDecoder(strings.NewReader(hocr))
	var pageIDs []string
	words := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("hOCR is not well-formed: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var class, id string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "class":
				class = a.Value
			case "id":
				id = a.Value
			}
		}
		switch class {
		case "ocr_page":
			pageIDs = append(pageIDs, id)
		case "ocrx_word":
			words++
		}
	}
	if strings.Join(pageIDs, ",") != "page_1,page_2" || words < 100 {
		t.Errorf("hOCR: pages %v, %d words", pageIDs, words)
	}

	// ALTO: one document, a Page element per page, ids unique across pages.
	alto := e.mustRun("get", "outs", "--format", "alto").stdout
	var doc struct {
		Pages []struct {
			ID string `xml:"ID,attr"`
		} `xml:"Layout>Page"`
	}
	if err := xml.Unmarshal([]byte(alto), &doc); err != nil || len(doc.Pages) != 2 || doc.Pages[0].ID == doc.Pages[1].ID {
		t.Errorf("ALTO: %+v, %v", doc.Pages, err)
	}

	pdf := e.mustRun("get", "outs", "--format", "pdf").stdout
	n, err := api.PageCount(strings.NewReader(pdf), nil)
	if err != nil || n != 2 {
		t.Errorf("PDF: %d pages, %v", n, err)
	}
	for i := range 2 {
		if _, info, err := imageinfo.DecodePage(context.Background(), []byte(pdf), i, imageinfo.Limits{}); err != nil || !info.TextLayer {
			t.Errorf("PDF output page %d: text layer %v, %v", i+1, info.TextLayer, err)
		}
	}

	// Rewrite page 1's hOCR in the store: hOCR is refused naming the page; text still verifies.
	var rec pipeline.Provenance
	for _, r := range decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "outs").stdout) {
		if r.Page == 1 {
			rec = r
		}
	}
	if rec.HOCR == nil || rec.ALTO == nil || rec.PDF == nil {
		t.Fatalf("page 1 record lacks outputs: hocr %v, alto %v, pdf %v", rec.HOCR, rec.ALTO, rec.PDF)
	}
	if err := e.store.Put(context.Background(), rec.HOCR.Bucket, rec.HOCR.Key, []byte("<html>forged</html>"), "text/html", nil); err != nil {
		t.Fatal(err)
	}
	r := e.colophon("get", "outs", "--format", "hocr")
	if r.code == 0 || !strings.Contains(r.stderr, "page 1: hocr checksum mismatch") || r.stdout != "" {
		t.Errorf("get --format hocr after a rewrite: exit %d, stdout %d bytes, stderr:\n%s", r.code, len(r.stdout), r.stderr)
	}
	e.mustRun("get", "outs")
	e.mustRun("get", "outs", "--format", "pdf")
}
