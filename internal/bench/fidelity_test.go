package bench

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// These tests run the tesseract command (as TestRunBaseline does), never the engine in
// this process, so the package needs no TestMain for OMP_THREAD_LIMIT.

func TestFidelityPagesSmoke(t *testing.T) {
	pages, err := FidelityPages("/no/such/corpus", FidelityPagesOptions{Smoke: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2", len(pages))
	}
	want := []struct{ set, name, file, deg string }{
		{SetClean, "note-clean", "note-clean.png", "clean"},
		{SetDegraded, "note-rot90", "note-rot90.png", "rot90"},
	}
	for i, w := range want {
		p := pages[i]
		if p.Set != w.set || p.Name != w.name || p.FileName != w.file || p.Degradation != w.deg || p.Text != "note" || p.Truth == "" {
			t.Errorf("page %d: %+v", i, p)
		}
		info, err := imageinfo.Inspect(p.File, imageinfo.Limits{})
		if err != nil || info.DPI != 300 {
			t.Errorf("page %d: %+v, %v", i, info, err)
		}
	}
	if _, err := FidelityPages("", FidelityPagesOptions{Degradations: []string{"no-such"}}); err == nil {
		t.Error("unknown degradation: no error")
	}
}

// A corpus is read folder by folder; pages without ground truth are left out, and so is
// a missing corpus.
func TestFidelityPagesCorpus(t *testing.T) {
	dir := t.TempDir()
	pg, err := sample.Render("a real page", sample.WithPageSize(800, 600))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("books/b.png", pg[0].PNG)
	write("books/b.gt.txt", []byte("a real page\n"))
	write("books/a.png", pg[0].PNG) // no ground truth
	write("misc/x.png", pg[0].PNG)
	write("misc/x.txt", []byte("x"))
	write("books/LANGS.tsv", []byte("image\ttesseract_lang\tsource\nb.png\teng+fra\tx\n"))
	write("empty/README", []byte("no images here"))
	write("README.md", []byte("not a folder"))

	pages, err := FidelityPages(dir, FidelityPagesOptions{Degradations: []string{}}) // clean pages only
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pages {
		got = append(got, p.Set+"/"+p.Name)
	}
	if want := "books/b misc/x clean/letter-clean clean/newsletter-clean clean/report-clean"; strings.Join(got, " ") != want {
		t.Fatalf("pages %q, want %q", strings.Join(got, " "), want)
	}
	if p := pages[0]; p.FileName != "b.png" || p.Truth != "a real page\n" || !bytes.Equal(p.File, pg[0].PNG) || LangArg(p.Langs) != "eng+fra" {
		t.Errorf("real page: %+v", p)
	}
	for _, p := range pages[1:] { // misc has no LANGS.tsv; generated pages are English
		if LangArg(p.Langs) != DefaultFidelityLang {
			t.Errorf("%s/%s: languages %v, want eng", p.Set, p.Name, p.Langs)
		}
	}
	pages, err = FidelityPages(filepath.Join(dir, "missing"), FidelityPagesOptions{Smoke: true})
	if err != nil || len(pages) != 2 {
		t.Errorf("missing corpus: %d pages, %v", len(pages), err)
	}
}

// The shared corpus's eurotext.tif is cropped to its English lines (when the corpus is here).
func TestEurotextCrop(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "tesseract-test")
	if _, err := os.Stat(filepath.Join(dir, "eurotext.tif")); err != nil {
		t.Skip("no shared corpus:", err)
	}
	pages, err := corpusPages(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var euro *FidelityPage
	for i := range pages {
		if pages[i].Name == "eurotext-en" {
			euro = &pages[i]
		}
	}
	if euro == nil {
		t.Fatal("no eurotext-en page")
	}
	img, info, err := imageinfo.Decode(euro.File, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "png" || info.DPI != 300 || img.Rect.Dx() != 1024 || img.Rect.Dy() != eurotextRows {
		t.Errorf("crop: %+v", info)
	}
	// The last row is a gap between lines 4 and 5: the crop cuts no letter.
	for x := range img.Rect.Dx() {
		if img.GrayAt(x, eurotextRows-1).Y < 128 {
			t.Fatalf("ink at (%d, %d): the crop cuts through a line", x, eurotextRows-1)
		}
	}
	if lines := strings.Split(euro.Truth, "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "The (quick)") || !strings.HasSuffix(lines[3], "is spam.") {
		t.Errorf("truth %q", euro.Truth)
	}
	if euro.Note == "" || euro.FileName != "eurotext-en.png" {
		t.Errorf("page %+v", euro)
	}
}

// RunFidelity with real tesseract and a fake pipeline that reads every page perfectly.
func TestRunFidelity(t *testing.T) {
	pages, err := FidelityPages("", FidelityPagesOptions{Smoke: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	perfect := func(ctx context.Context, p FidelityPage) (PipelineReading, error) {
		time.Sleep(10 * time.Millisecond)
		q := &pipeline.Quality{Verdict: pipeline.VerdictOK, Score: 0.97}
		if p.Degradation != "clean" {
			q = nil // a record without a verdict
		}
		return PipelineReading{Text: p.Truth, EngineSeconds: 0.004, Quality: q}, nil
	}
	rep, err := RunFidelity(ctx, pages, perfect, FidelityOptions{Jobs: 2, Smoke: true, Command: "colophon bench --fidelity --smoke"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pages) != 2 || rep.Jobs != 2 || rep.WallSeconds <= 0 || rep.Machine.CPUs == 0 {
		t.Fatalf("report: %+v", rep)
	}
	for i, p := range rep.Pages {
		if p.Name != pages[i].Name || p.Chars != len([]rune(textmetrics.Normalize(pages[i].Truth))) {
			t.Errorf("page %d: %+v", i, p)
		}
		if p.Pipeline.CER != 0 || p.Pipeline.Edits != 0 || p.Pipeline.Seconds < 0.01 || p.Pipeline.EngineSeconds != 0.004 || p.Pipeline.Error != "" {
			t.Errorf("%s: pipeline %+v", p.Name, p.Pipeline)
		}
		tr := p.Tesseract
		if tr.Error != "" || tr.Seconds <= 0 || tr.CPUSeconds <= 0 || tr.CER != textmetrics.CER(tr.Text, pages[i].Truth) ||
			!near(tr.CER, float64(tr.Edits)/float64(p.Chars)) {
			t.Errorf("%s: tesseract %+v", p.Name, tr)
		}
	}
	// The verdict travels from the record; a record without one is reported as none.
	if c, r := rep.Pages[0].Pipeline, rep.Pages[1].Pipeline; c.Verdict != "ok" || c.Score == nil || *c.Score != 0.97 ||
		r.Verdict != NoVerdict || r.Score != nil || rep.Pages[0].Tesseract.Verdict != "" {
		t.Errorf("verdicts: clean %q (score %v), turned %q (score %v), tesseract %q", c.Verdict, c.Score, r.Verdict, r.Score, rep.Pages[0].Tesseract.Verdict)
	}
	// Upright, tesseract reads the small clean page nearly perfectly.
	if c := rep.Pages[0].Tesseract.CER; c > 0.05 {
		t.Errorf("tesseract on the clean page: CER %.4f", c)
	}
	checkTotals(t, rep)
	if got := rep.Sets[0].Pipeline.EngineSeconds + rep.Sets[1].Pipeline.EngineSeconds; !near(got, 0.008) || rep.Sets[0].Tesseract.EngineSeconds != 0 {
		t.Errorf("engine seconds over the sets: pipeline %.4f, want 0.008; tesseract %.4f, want 0", got, rep.Sets[0].Tesseract.EngineSeconds)
	}
	if len(rep.Sets) != 2 || rep.Sets[0].Name != SetClean || rep.Sets[1].Name != SetDegraded || rep.Real.Pages != 0 {
		t.Errorf("sets %+v, real %+v", rep.Sets, rep.Real)
	}
	if len(rep.Degradations) != 2 || rep.Degradations[1].Name != "rot90" {
		t.Errorf("degradations %+v", rep.Degradations)
	}
	// A perfect pipeline meets every target it can be measured on.
	var names []string
	for _, tg := range rep.Targets {
		names = append(names, tg.Name)
		if realTarget(tg.Name) {
			if tg.Met != nil {
				t.Errorf("%s: measured without real pages", tg.Name)
			}
		} else if tg.Met == nil || !*tg.Met {
			t.Errorf("%s: %s, want met", tg.Name, tg.Got)
		}
	}
	// 2 for each of the 3 real sets, cost, 2 of verdicts, degraded, rot90.
	if len(names) != 11 || !strings.HasPrefix(names[0], SetArchivalTypescript) || !strings.HasPrefix(names[10], "rot90") {
		t.Errorf("targets %q", names)
	}
	if rep.WorseThanPlain == nil || len(rep.WorseThanPlain) != 0 {
		t.Errorf("worse than plain %v, want [] (no real pages)", rep.WorseThanPlain)
	}

	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"colophon bench --fidelity", "note-clean", "note-rot90", "micro", "MET", "not measured",
		"smoke run", "no real pages", "rot90: turned 90 deg counter-clockwise", "s p. engine", "verdict", " 0.97\n",
		"real pages read worse than plain tesseract (pipeline CER > 1.1 x tesseract's + 0.005): 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

// Failed readings count as empty text, are named, and make the error; the report is whole.
func TestRunFidelityFailures(t *testing.T) {
	pages, err := FidelityPages("", FidelityPagesOptions{Smoke: true})
	if err != nil {
		t.Fatal(err)
	}
	// A stand-in tesseract: knows English, reads "The next" from any file, fails on the turned one.
	bin := fakeTesseract(t, "case \"$1\" in *rot90*) echo 'cannot read' >&2; exit 3;; esac\necho 'The next'\n")
	failClean := func(ctx context.Context, p FidelityPage) (PipelineReading, error) {
		if p.Degradation == "clean" {
			return PipelineReading{}, errors.New("worker refused the page")
		}
		return PipelineReading{Text: p.Truth, EngineSeconds: 0.5}, nil
	}
	rep, err := RunFidelity(context.Background(), pages, failClean, FidelityOptions{Jobs: 1, Tesseract: bin, Dir: t.TempDir()})
	if !errors.Is(err, ErrFidelityFailed) || !strings.Contains(err.Error(), "2, first") {
		t.Fatalf("error %v, want ErrFidelityFailed with 2 failures", err)
	}
	clean, turned := rep.Pages[0], rep.Pages[1]
	if clean.Pipeline.CER != 1 || clean.Pipeline.Error == "" || clean.Tesseract.Error != "" || clean.Tesseract.CER >= 1 || clean.Pipeline.Verdict != NoVerdict {
		t.Errorf("clean: %+v", clean)
	}
	if turned.Tesseract.CER != 1 || !strings.Contains(turned.Tesseract.Error, "cannot read") || turned.Pipeline.CER != 0 {
		t.Errorf("turned: %+v", turned)
	}
	checkTotals(t, rep)
	if rep.Sets[0].Pipeline.Failed != 1 || rep.Sets[1].Tesseract.Failed != 1 {
		t.Errorf("failures per set: %+v", rep.Sets)
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"note-clean, pipeline failed (counted as no text): worker refused the page",
		"note-rot90, tesseract failed", "1.0000*"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	if _, err := RunFidelity(context.Background(), pages, failClean, FidelityOptions{Tesseract: "colophon-no-such-tesseract"}); err == nil {
		t.Error("missing tesseract: no error")
	}
	if _, err := RunFidelity(context.Background(), nil, failClean, FidelityOptions{}); err == nil {
		t.Error("no pages: no error")
	}
	twice := []FidelityPage{pages[0], pages[0]}
	if _, err := RunFidelity(context.Background(), twice, failClean, FidelityOptions{Tesseract: bin}); err == nil {
		t.Error("a file name twice: no error")
	}
}

// The totals and targets from hand-made readings: micro and macro CER, ratios, targets.
func TestFidelityFinish(t *testing.T) {
	rd := func(edits int, secs float64) FidelityReading { return FidelityReading{Edits: edits, Seconds: secs} }
	page := func(set, name, text, deg string, chars int, tess, pipe FidelityReading) FidelityPageResult {
		tess.CER, pipe.CER = float64(tess.Edits)/float64(chars), float64(pipe.Edits)/float64(chars)
		return FidelityPageResult{Set: set, Name: name, Text: text, Degradation: deg, Chars: chars, Tesseract: tess, Pipeline: pipe}
	}
	r := FidelityReport{Pages: []FidelityPageResult{
		page(SetOldBooks, "a", "", "", 1000, rd(20, 1), rd(10, 2)),
		page(SetTesseractTest, "b", "", "", 100, rd(0, 1), rd(5, 1)),
		page(SetClean, "x-clean", "x", "clean", 500, rd(0, 2), rd(0, 2)),
		page(SetClean, "y-clean", "y", "clean", 500, rd(5, 2), rd(5, 2)),
		page(SetDegraded, "x-speckle", "x", "speckle", 500, rd(100, 10), rd(20, 5)),
		page(SetDegraded, "x-rot90", "x", "rot90", 500, rd(450, 2), rd(3, 3)),
		page(SetDegraded, "y-rot180", "y", "rot180", 500, rd(450, 2), rd(10, 3)),
	}}
	r.finish()
	checkTotals(t, r)

	real := r.Real
	if real.Pages != 2 || real.Chars != 1100 || real.Tesseract.Edits != 20 || real.Pipeline.Edits != 15 ||
		!near(real.Tesseract.CER, 20.0/1100) || !near(real.Pipeline.MeanPageCER, (0.01+0.05)/2) {
		t.Errorf("real: %+v", real)
	}
	deg := r.Sets[3]
	if deg.Name != SetDegraded || !near(deg.Tesseract.CER, 1000.0/1500) || !near(deg.Pipeline.CER, 33.0/1500) ||
		!near(*deg.CERRatio, 33.0/1000) || !near(*deg.SecondsRatio, 11.0/14) || !near(deg.Pipeline.SecondsPerPage, 11.0/3) {
		t.Errorf("degraded: %+v", deg)
	}
	if tt := r.Sets[1]; tt.CERRatio != nil || tt.Pipeline.CER != 0.05 {
		t.Errorf("tesseract-test (tesseract perfect): ratio %v, pipeline %v", tt.CERRatio, tt.Pipeline.CER)
	}
	var degs []string
	for _, d := range r.Degradations {
		degs = append(degs, d.Name)
	}
	if strings.Join(degs, " ") != "clean speckle rot90 rot180" {
		t.Errorf("degradations %q", degs)
	}

	if len(r.WorseThanPlain) != 1 || r.WorseThanPlain[0].Name != "b" {
		t.Errorf("worse than plain: %+v, want b", r.WorseThanPlain)
	}
	yes, no := met(true), met(false)
	want := []struct {
		name string
		met  *bool
	}{
		{"archival-typescript: pooled", nil}, // no such pages
		{"archival-typescript: pages worse", nil},
		{"old-books: pooled", yes},          // 10 edits against 20
		{"old-books: pages worse", yes},     // 0.01 against 0.02
		{"tesseract-test: pooled", no},      // 0.05 against a perfect 0
		{"tesseract-test: pages worse", no}, // b
		{"real pages: OCR worker", nil},     // no engine seconds
		{"real pages with pipeline CER > 0.10", nil},
		{"real pages with pipeline CER < 0.03", nil}, // a, without a verdict
		{"degraded pages: CER", yes},                 // 33 edits against 1000: 0.033x
		{"rot90", no},                                // 3/500 = 0.006 against 0 upright: more than 0.005 worse
		{"rot180", no},                               // 10/500 = 0.02 against 5/500 upright
	}
	if len(r.Targets) != len(want) {
		t.Fatalf("targets %+v", r.Targets)
	}
	for i, w := range want {
		tg := r.Targets[i]
		if !strings.HasPrefix(tg.Name, w.name) || deref(tg.Met) != deref(w.met) {
			t.Errorf("target %d: %+v (met %v), want %s met=%v", i, tg, deref(tg.Met), w.name, deref(w.met))
		}
	}
}

// fakeTesseract is a stand-in tesseract command: `--list-langs` lists eng (and the langs
// given), anything else runs body.
func fakeTesseract(t *testing.T, body string, langs ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fake-tesseract")
	list := strings.Join(append([]string{"eng"}, langs...), "\\n")
	script := "#!/bin/sh\nif [ \"$1\" = --list-langs ]; then printf 'List of available languages in \"/fake/\" (n):\\n" + list + "\\n'; exit 0; fi\n" + body
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// realTarget says whether a target is about the real pages.
func realTarget(name string) bool {
	for _, p := range []string{SetArchivalTypescript, SetOldBooks, SetTesseractTest, "real pages"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// checkTotals checks that each set's totals add up its pages.
func checkTotals(t *testing.T, r FidelityReport) {
	t.Helper()
	n := 0
	for _, s := range r.Sets {
		var pages, chars, te, pe int
		var ts, ps, tc float64
		for _, p := range r.Pages {
			if p.Set == s.Name {
				pages++
				chars += p.Chars
				te += p.Tesseract.Edits
				pe += p.Pipeline.Edits
				ts += p.Tesseract.Seconds
				ps += p.Pipeline.Seconds
				tc += p.Tesseract.CPUSeconds
			}
		}
		n += pages
		if s.Pages != pages || s.Chars != chars || s.Tesseract.Edits != te || s.Pipeline.Edits != pe ||
			!near(s.Tesseract.Seconds, ts) || !near(s.Pipeline.Seconds, ps) || !near(s.Tesseract.CPUSeconds, tc) ||
			!near(s.Tesseract.CER, float64(te)/float64(chars)) || !near(s.Pipeline.CER, float64(pe)/float64(chars)) {
			t.Errorf("set %s: %+v; pages add up to %d pages, %d chars, edits %d/%d, %.3f/%.3f s", s.Name, s, pages, chars, te, pe, ts, ps)
		}
	}
	if n != len(r.Pages) {
		t.Errorf("sets cover %d of %d pages", n, len(r.Pages))
	}
}
