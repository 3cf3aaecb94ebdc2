package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
)

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		name               string
		full               bool
		w, h               int
		minWords, maxWords int
	}{
		{"full A4 pages", true, 2480, 3508, 350, 450},
		{"smoke pages", false, 1240, 1000, 30, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			set, err := Generate(dir, 3, tc.full, 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Pages) != 3 || !set.AllHaveTruth() || set.Source != "generated" {
				t.Fatalf("set: %+v", set)
			}
			seen := map[string]bool{}
			for i, p := range set.Pages {
				if words := len(strings.Fields(p.Truth)); words < tc.minWords || words > tc.maxWords {
					t.Errorf("page %d: %d words, want %d-%d", i+1, words, tc.minWords, tc.maxWords)
				}
				if seen[p.Truth] {
					t.Errorf("page %d repeats another page's text", i+1)
				}
				seen[p.Truth] = true
				if !strings.Contains(p.Truth, "Page "+string(rune('1'+i))+" of 3.") {
					t.Errorf("page %d does not name its number:\n%s", i+1, p.Truth)
				}
				data, err := os.ReadFile(p.Path)
				if err != nil {
					t.Fatal(err)
				}
				info, err := imageinfo.Inspect(data, imageinfo.Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if info.Width != tc.w || info.Height != tc.h || info.DPI != 300 || p.Width != tc.w || p.Height != tc.h {
					t.Errorf("page %d: %dx%d at %d dpi (recorded %dx%d), want %dx%d at 300", i+1, info.Width, info.Height, info.DPI, p.Width, p.Height, tc.w, tc.h)
				}
				// The ground truth is all on the page: rendering it again gives one page.
				again, err := sample.Render(p.Truth, sample.WithPageSize(tc.w, tc.h))
				if err != nil || len(again) != 1 {
					t.Errorf("page %d: ground truth renders to %d pages (%v)", i+1, len(again), err)
				}
			}
			// The same seed gives the same pages.
			again, err := Generate(t.TempDir(), 3, tc.full, 4)
			if err != nil || again.Pages[0].Truth != set.Pages[0].Truth {
				t.Errorf("same seed, different first page (%v)", err)
			}
		})
	}
	if _, err := Generate(t.TempDir(), 0, false, 1); err == nil {
		t.Error("0 pages: no error")
	}
}

func TestFromDir(t *testing.T) {
	dir := t.TempDir()
	pages, err := sample.Render("first page", sample.WithPageSize(800, 600))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.png", pages[0].PNG)
	write("b.gt.txt", []byte("first page\n"))
	write("a.png", pages[0].PNG) // no ground truth
	write("c.scan", pages[0].PNG)
	write("c.txt", []byte("third"))
	write("LICENSE", []byte("not an image"))
	write("notes.png", []byte("a text file named .png"))

	set, err := FromDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range set.Pages {
		names = append(names, filepath.Base(p.Path))
	}
	if got := strings.Join(names, " "); got != "a.png b.png c.scan" {
		t.Fatalf("pages %q, want the three images in name order", got)
	}
	if set.Pages[0].HasTruth || !set.Pages[1].HasTruth || set.Pages[1].Truth != "first page\n" || set.Pages[2].Truth != "third" {
		t.Errorf("ground truth: %+v", set.Pages)
	}
	if set.AllHaveTruth() || set.Source != dir || set.Pages[0].Width != 800 || set.Pages[0].Height != 600 {
		t.Errorf("set: %+v", set)
	}
	if DeclaredDPI(set.Pages[0].Path) != 300 {
		t.Errorf("declared dpi %d, want 300", DeclaredDPI(set.Pages[0].Path))
	}
	if set, err := FromDir(dir, 2); err != nil || len(set.Pages) != 2 {
		t.Errorf("FromDir(dir, 2): %d pages, %v", len(set.Pages), err)
	}
	if _, err := FromDir(t.TempDir(), 0); err == nil {
		t.Error("empty directory: no error")
	}
}

func TestRunBaseline(t *testing.T) {
	set, err := Generate(t.TempDir(), 2, false, 7)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := RunBaseline(ctx, "tesseract", set.Paths(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seconds <= 0 || res.CPUSeconds <= 0 || len(res.Texts) != 2 {
		t.Fatalf("result: %+v", res)
	}
	if cer := set.MeanCER(res.Texts); cer == nil || *cer > 0.05 {
		t.Errorf("mean CER %v, want at most 0.05", cer)
	}

	if _, err := RunBaseline(ctx, "colophon-no-such-tesseract", set.Paths(), 2); err == nil {
		t.Error("missing tesseract: no error")
	}
	bad := filepath.Join(t.TempDir(), "missing.png")
	if _, err := RunBaseline(ctx, "tesseract", []string{bad}, 1); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("unreadable page: %v, want an error naming it", err)
	}
}

func TestOCRmyPDFNotInstalled(t *testing.T) {
	for _, tool := range []OCRmyPDF{
		{Bin: "colophon-no-such-ocrmypdf", Img2PDF: "img2pdf"},
		{Bin: "true", Img2PDF: "colophon-no-such-img2pdf"},
	} {
		_, err := tool.Run(context.Background(), []string{"x.png"}, 2, t.TempDir())
		if !errors.Is(err, ErrNotInstalled) {
			t.Errorf("%+v: %v, want ErrNotInstalled", tool, err)
		}
		if err := tool.Installed(); !errors.Is(err, ErrNotInstalled) {
			t.Errorf("%+v: Installed() = %v, want ErrNotInstalled", tool, err)
		}
	}
	if err := (OCRmyPDF{Bin: "true", Img2PDF: "true"}).Installed(); err != nil {
		t.Errorf("both commands on PATH: Installed() = %v", err)
	}
}

func TestNewOverheadSample(t *testing.T) {
	start := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	r := DocRun{
		Start:  start,
		Upload: 20 * time.Millisecond, Wait: 2100 * time.Millisecond, Get: 10 * time.Millisecond,
		Pages: []client.PageText{{Page: 1, Record: pipeline.Provenance{OCR: pipeline.OCRInfo{
			DurationMS: 2000, Recognised: start.Add(50 * time.Millisecond),
		}}}},
	}
	s := NewOverheadSample(3, r)
	want := OverheadSample{Page: 3, EndToEndMS: 2130, RecognitionMS: 2000, OverheadMS: 130,
		UploadMS: 20, ToRecognitionMS: 30, AfterRecognitionMS: 70, GetMS: 10}
	if s != want {
		t.Fatalf("sample\n got %+v\nwant %+v", s, want)
	}
	if parts := s.UploadMS + s.ToRecognitionMS + s.RecognitionMS + s.AfterRecognitionMS + s.GetMS; parts != s.EndToEndMS {
		t.Errorf("parts add up to %v, end to end is %v", parts, s.EndToEndMS)
	}
}
