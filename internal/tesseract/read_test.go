package tesseract

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// samplePage is the first bundled sample page, decoded, and its text.
func samplePage(t testing.TB) (*image.Gray, int, string) {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := imageinfo.Decode(pages[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img, info.DPI, pages[0].Text
}

// rotateCW turns img clockwise by deg (a multiple of 90).
func rotateCW(img *image.Gray, deg int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var out *image.Gray
	if deg%180 == 0 {
		out = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		out = image.NewGray(image.Rect(0, 0, h, w))
	}
	for y := range h {
		for x := range w {
			v := img.GrayAt(b.Min.X+x, b.Min.Y+y)
			switch deg % 360 {
			case 0:
				out.SetGray(x, y, v)
			case 90:
				out.SetGray(h-1-y, x, v)
			case 180:
				out.SetGray(w-1-x, h-1-y, v)
			case 270:
				out.SetGray(y, w-1-x, v)
			}
		}
	}
	return out
}

func TestReadOutputs(t *testing.T) {
	img, dpi, truth := samplePage(t)
	e := New("eng")
	defer e.Close()
	created := time.Date(1984, 1, 2, 3, 4, 5, 0, time.FixedZone("BST", 3600))
	page := Page{Image: img, DPI: dpi, HOCR: true, ALTO: true, PDF: true, Title: "doc page 1", Created: created}
	r, err := e.Read(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if cer := textmetrics.CER(r.Text, truth); cer > 0.01 {
		t.Errorf("CER %.4f", cer)
	}
	// hOCR: well-formed XML with one word element per word read, carrying confidences.
	dec := xml.NewDecoder(bytes.NewReader(r.HOCR))
	dec.Strict = true
	words := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("hOCR is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && a.Value == "ocrx_word" {
					words++
				}
			}
		}
	}
	if words < r.Words || !bytes.Contains(r.HOCR, []byte("x_wconf")) {
		t.Errorf("hOCR has %d words (text has %d) or no confidences", words, r.Words)
	}
	// ALTO: well-formed, one String element per word, ids unique and numbered by page.
	if n, err := countElements(r.ALTO, "String"); err != nil || n != r.Words {
		t.Errorf("ALTO: %d words (text %d), %v", n, r.Words, err)
	}
	if !bytes.Contains(r.ALTO, []byte(`ID="p1_string_0"`)) {
		t.Error("ALTO ids not numbered by page")
	}
	// PDF: one page, the text layer in it (the glyphless font), the title.
	if !bytes.HasPrefix(r.PDF, []byte("%PDF-")) || !bytes.Contains(r.PDF, []byte("/Type /Page\n")) ||
		!bytes.Contains(r.PDF, []byte("GlyphLessFont")) || !bytes.HasSuffix(bytes.TrimSpace(r.PDF), []byte("%%EOF")) {
		t.Errorf("not a one-page PDF with a text layer (%d bytes)", len(r.PDF))
	}
	// Dated as asked, in UTC, and still sound: the cross-reference offsets hold.
	if !bytes.Contains(r.PDF, []byte("/CreationDate (D:19840102020405Z00'00')")) {
		t.Error("PDF not dated as asked")
	}
	if err := api.Validate(bytes.NewReader(r.PDF), model.NewDefaultConfiguration()); err != nil {
		t.Errorf("dated PDF does not validate: %v", err)
	}
	// The same page read again gives the same bytes in every format: a page read twice
	// after a lost ack must not leave objects that differ from the checksums recorded.
	again, err := e.Read(context.Background(), page)
	if err != nil {
		t.Fatal(err)
	}
	if again.Text != r.Text || !bytes.Equal(again.HOCR, r.HOCR) || !bytes.Equal(again.ALTO, r.ALTO) || !bytes.Equal(again.PDF, r.PDF) {
		t.Error("a second reading of the page gave different bytes")
	}
	// Asked for nothing more, nothing more is made.
	r2, err := e.Read(context.Background(), Page{Image: img, DPI: dpi})
	if err != nil || r2.HOCR != nil || r2.ALTO != nil || r2.PDF != nil || r2.Text != r.Text {
		t.Errorf("plain read: hOCR %d bytes, ALTO %d, PDF %d, same text %v, %v", len(r2.HOCR), len(r2.ALTO), len(r2.PDF), r2.Text == r.Text, err)
	}
}

func TestOrientation(t *testing.T) {
	img, dpi, _ := samplePage(t)
	e := New("eng")
	defer e.Close()
	for _, turned := range []int{0, 90, 180, 270} {
		o, err := e.Orientation(context.Background(), rotateCW(img, turned), dpi)
		if err != nil {
			t.Fatalf("page turned %d: %v", turned, err)
		}
		want := (360 - turned) % 360
		t.Logf("turned %d: rotate %d, confidence %.2f, script %s", turned, o.Rotate, o.Confidence, o.Script)
		if o.Rotate != want || o.Script != "Latin" || o.Confidence < 2 {
			t.Errorf("page turned %d clockwise: %+v, want rotate %d, Latin, confident", turned, o, want)
		}
	}
}

// TestReadCancel checks a context ending mid-page stops Tesseract, and the engine reads
// the next page as usual.
func TestReadCancel(t *testing.T) {
	// Heavy speckle makes recognition slow: many blobs taken for letters.
	pages, err := sample.Render(strings.Repeat("Speckled pages take plain Tesseract a long time. ", 40), sample.WithNoise(7, 0.04))
	if err != nil {
		t.Fatal(err)
	}
	noisy, info, err := imageinfo.Decode(pages[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e := New("eng")
	defer e.Close()
	if err := e.Load(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	full, err := e.Read(context.Background(), Page{Image: noisy, DPI: info.DPI})
	uncut := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), uncut/10)
	defer cancel()
	start = time.Now()
	_, err = e.Read(ctx, Page{Image: noisy, DPI: info.DPI})
	cut := time.Since(start)
	t.Logf("uncut %s (%d words), cancelled after %s: returned after %s", uncut, full.Words, uncut/10, cut)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled read: %v, want context.DeadlineExceeded", err)
	}
	// Layout analysis is not interruptible; word recognition, most of the time, is.
	if cut > uncut*3/4 {
		t.Errorf("cancelled read took %s of the uncut %s: Tesseract did not stop", cut, uncut)
	}
	img, dpi, truth := samplePage(t)
	r, err := e.Read(context.Background(), Page{Image: img, DPI: dpi})
	if err != nil || textmetrics.CER(r.Text, truth) > 0.01 {
		t.Fatalf("after a cancelled read: %v, CER %.4f", err, textmetrics.CER(r.Text, truth))
	}
}

// countElements counts the elements of a local name in a well-formed XML document.
func countElements(doc []byte, name string) (int, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == name {
			n++
		}
	}
}

// TestModels checks the model a reading used is named by the SHA-256 of its file.
func TestModels(t *testing.T) {
	e := New("eng")
	defer e.Close()
	ms, err := e.Models()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Name != "eng.traineddata" || len(ms[0].SHA256) != 64 || ms[0].Bytes < 1<<20 {
		t.Fatalf("models %+v", ms)
	}
	var dir string
	e.do(func() { dir = e.datapath() })
	data, err := os.ReadFile(filepath.Join(dir, "eng.traineddata"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ms[0].SHA256 || int64(len(data)) != ms[0].Bytes {
		t.Errorf("model hash %s (%d bytes), file hashes to %x (%d bytes)", ms[0].SHA256, ms[0].Bytes, sum, len(data))
	}
}
