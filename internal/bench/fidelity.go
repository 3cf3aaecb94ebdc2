package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/colophon-archive/colophon/internal/degrade"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// The fidelity benchmark (`colophon bench --fidelity`) asks whether the pipeline reads real
// archive scans better than plain Tesseract: character error rate (CER) and seconds a page
// of `tesseract FILE stdout -l LANG` against the pipeline, page by page, over the real pages
// of the shared corpus and over pages we render from our own text and then degrade. Each
// page is read in its languages (LANGS.tsv, see ReadLangs) by both.

// Sets of fidelity pages. Real pages take the name of their corpus folder.
const (
	SetOldBooks      = "old-books"      // corpus: 1820s-1920 book pages, binarised at 300 dpi
	SetTesseractTest = "tesseract-test" // corpus: Tesseract's own test pages
	SetClean         = "clean"          // generated, not degraded: the upright control
	SetDegraded      = "degraded"       // generated, degraded (internal/degrade)
)

// FidelityPage is one page both contenders read.
type FidelityPage struct {
	Set  string // SetOldBooks, SetTesseractTest (a corpus folder's name), SetClean, SetDegraded
	Name string // unique: "a023", "letter-rot90"
	// FileName is the name to give File on disk or in an upload: Name and the extension of
	// its format ("a023.tiff", "letter-rot90.png").
	FileName string
	File     []byte
	Truth    string
	// Text and Degradation name the bundled text and the degradation of a generated page
	// ("clean" for SetClean); empty for real pages.
	Text, Degradation string
	// Note says how a page differs from its corpus file, when it does.
	Note string
	// Langs are the Tesseract languages both contenders read the page in: its folder's
	// LANGS.tsv entry, or DefaultFidelityLang (also when empty).
	Langs []string
}

// FidelityPagesOptions choose the pages; the zero value is the full benchmark.
type FidelityPagesOptions struct {
	// Smoke is 2 small generated pages (one upright, one turned 90 degrees) and no corpus:
	// CI's check that the benchmark works, never that it is fast.
	Smoke bool
	// Seed for the degradations (0: internal/degrade's default).
	Seed int64
	// Degradations to render, by name (nil: all of degrade.Set()). The clean page of each
	// text is always rendered.
	Degradations []string
}

// The English part of the corpus's eurotext.tif: it is a 300 dpi scan of 12 lines of
// which only the first 4 are English, the rest German, French, Italian, Spanish and
// Portuguese. Read with -l eng, the rest would measure the language model, not the
// reading of the scan. Both contenders read the top eurotextRows rows (its first 4 lines;
// row 264 has no ink, measured on the file with this SHA-256) as a PNG at 300 dpi, and
// the ground truth is the first 4 lines of eurotext.gt.txt. A different file is left out.
const (
	eurotextName   = "eurotext"
	eurotextSHA256 = "7b9bd14aba7d5e30df686fbb6f71782a97f48f81b32dc201a1b75afe6de747d6"
	eurotextRows   = 265
	eurotextLines  = 4
)

// FidelityPages returns the real pages of corpusDir, when it is given and exists (each of its
// folders is a set; an image X has ground truth X.gt.txt or X.txt beside it; images without
// are left out; a smoke run reads none), followed by the generated pages: every bundled
// text of internal/degrade clean (SetClean), then with each degradation (SetDegraded).
// Real pages are in folder and name order.
func FidelityPages(corpusDir string, o FidelityPagesOptions) ([]FidelityPage, error) {
	gen, err := generatedPages(o)
	if err != nil {
		return nil, err
	}
	if o.Smoke || corpusDir == "" {
		return gen, nil
	}
	real, err := corpusPages(corpusDir)
	if err != nil {
		return nil, err
	}
	return append(real, gen...), nil
}

func generatedPages(o FidelityPagesOptions) ([]FidelityPage, error) {
	opts := degrade.Options{Seed: o.Seed}
	if o.Smoke {
		rot, _ := degrade.ByName("rot90")
		opts.Texts = []degrade.Text{degrade.SmokeText}
		opts.Degradations = []degrade.Degradation{degrade.Clean, rot}
		opts.Width, opts.Height = degrade.SmokeWidth, degrade.SmokeHeight
	} else if o.Degradations != nil {
		opts.Degradations = []degrade.Degradation{degrade.Clean}
		for _, name := range o.Degradations {
			d, ok := degrade.ByName(name)
			if !ok {
				return nil, fmt.Errorf("fidelity: no degradation %q", name)
			}
			if d.Name != degrade.Clean.Name {
				opts.Degradations = append(opts.Degradations, d)
			}
		}
	}
	pages, err := degrade.Pages(opts)
	if err != nil {
		return nil, fmt.Errorf("fidelity: %w", err)
	}
	out := make([]FidelityPage, 0, len(pages))
	for _, p := range pages {
		set := SetDegraded
		if p.Degradation.Name == degrade.Clean.Name {
			set = SetClean
		}
		out = append(out, FidelityPage{Set: set, Name: p.Name, FileName: p.Name + "." + p.Ext, File: p.File,
			Truth: p.Truth, Text: p.Text, Degradation: p.Degradation.Name, Langs: []string{DefaultFidelityLang}})
	}
	return out, nil
}

// corpusPages reads every folder of dir as a set, each page with its languages from the
// folder's LANGS.tsv; a missing dir is no pages.
func corpusPages(dir string) ([]FidelityPage, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fidelity corpus: %w", err)
	}
	var out []FidelityPage
	for _, e := range entries { // name order
		if !e.IsDir() {
			continue
		}
		folder := filepath.Join(dir, e.Name())
		set, err := FromDir(folder, 0)
		if err != nil {
			continue // a folder without images
		}
		langs, err := ReadLangs(folder)
		if err != nil {
			return nil, err
		}
		for _, p := range set.Pages {
			if !p.HasTruth {
				continue
			}
			data, err := os.ReadFile(p.Path)
			if err != nil {
				return nil, fmt.Errorf("fidelity corpus: %w", err)
			}
			base := filepath.Base(p.Path)
			fp := FidelityPage{Set: e.Name(), Name: strings.TrimSuffix(base, filepath.Ext(base)), FileName: base, File: data, Truth: p.Truth,
				Langs: langsOf(langs, base)}
			if fp.Name == eurotextName {
				var ok bool
				if fp, ok = eurotextPage(fp); !ok {
					continue
				}
			}
			out = append(out, fp)
		}
	}
	return out, nil
}

// eurotextPage crops eurotext.tif to its English lines (see eurotextSHA256); false for a
// file other than the one measured.
func eurotextPage(p FidelityPage) (FidelityPage, bool) {
	sum := sha256.Sum256(p.File)
	if hex.EncodeToString(sum[:]) != eurotextSHA256 {
		return p, false
	}
	img, info, err := imageinfo.Decode(p.File, imageinfo.Limits{})
	if err != nil || img.Rect.Dy() <= eurotextRows || info.DPI <= 0 {
		return p, false
	}
	w := img.Rect.Dx()
	top := image.NewGray(image.Rect(0, 0, w, eurotextRows))
	for y := range eurotextRows {
		copy(top.Pix[y*top.Stride:y*top.Stride+w], img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y):])
	}
	file, err := sample.EncodePNG(top, info.DPI)
	if err != nil {
		return p, false
	}
	lines := strings.Split(strings.ReplaceAll(p.Truth, "\r\n", "\n"), "\n")
	if len(lines) < eurotextLines {
		return p, false
	}
	p.Name += "-en"
	p.FileName = p.Name + ".png"
	p.File = file
	p.Truth = strings.Join(lines[:eurotextLines], "\n")
	p.Note = fmt.Sprintf("eurotext.tif cropped to its first %d lines (rows 0-%d), the English ones, as PNG at %d dpi; "+
		"the other 8 are in five other languages, which -l eng cannot be asked to read", eurotextLines, eurotextRows-1, info.DPI)
	return p, true
}

// Reader reads one page the pipeline's way (upload in the page's languages, OCR worker,
// verified get) and returns what its record says of the reading. RunFidelity calls it from
// as many goroutines at once as it has jobs.
type Reader func(ctx context.Context, p FidelityPage) (PipelineReading, error)

// PipelineReading is the pipeline's reading of one page, from its text and record.
type PipelineReading struct {
	Text string
	// EngineSeconds is the OCR worker's time on the page's image (cleanup, orientation,
	// every reading and its outputs); 0 when unknown.
	EngineSeconds float64
	// Quality is the record's verdict on the reading (ocr.quality); nil when the worker
	// gave none.
	Quality *pipeline.Quality
}

// NoVerdict is the verdict reported for a page whose record has none.
const NoVerdict = "-"

// FidelityOptions configure RunFidelity; zero fields take the defaults.
type FidelityOptions struct {
	Jobs      int    // pages read at once (default: the number of CPUs)
	Tesseract string // the tesseract command (default "tesseract")
	// Dir is where the page files are written for tesseract (default: a temporary
	// directory, removed afterwards).
	Dir string
	// Smoke marks the report as a smoke run: the targets are printed, not their conditions.
	Smoke   bool
	Command string // the command line, for the report
}

// FidelityReading is one contender's reading of one page.
type FidelityReading struct {
	CER   float64 `json:"cer"`
	Edits int     `json:"edits"` // edit distance to the ground truth, after textmetrics.Normalize
	// Seconds is the wall time of the reading: the whole tesseract process (start, model
	// load, recognition), or the Reader call.
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"` // tesseract's user + system time
	// EngineSeconds is, for the pipeline, the OCR worker's time on the page's image (its
	// record's duration): Seconds less the upload, queues, storage and verified get.
	EngineSeconds float64 `json:"engine_seconds,omitempty"`
	// Verdict, Reasons and Score are, for the pipeline, its record's quality verdict on
	// the page ("ok", "review"; NoVerdict when the record has none), why, and the judge's
	// score (null without a verdict); empty for tesseract, which gives none.
	Verdict string   `json:"verdict,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	Score   *float64 `json:"score,omitempty"`
	Error   string   `json:"error,omitempty"` // a failed reading counts as empty text
	Text    string   `json:"-"`
}

// FidelityPageResult is both readings of one page.
type FidelityPageResult struct {
	Set         string          `json:"set"`
	Name        string          `json:"name"`
	Text        string          `json:"text,omitempty"`
	Degradation string          `json:"degradation,omitempty"`
	Note        string          `json:"note,omitempty"`
	Langs       []string        `json:"langs"` // what both read the page in
	Chars       int             `json:"chars"` // characters of ground truth, after textmetrics.Normalize
	Tesseract   FidelityReading `json:"tesseract"`
	Pipeline    FidelityReading `json:"pipeline"`
}

// FidelitySum is one contender over a group of pages.
type FidelitySum struct {
	// CER is micro-averaged: all edits over all characters of ground truth, so a long page
	// weighs more than a short one. MeanPageCER is the mean of the pages' CERs (macro).
	CER            float64 `json:"cer"`
	MeanPageCER    float64 `json:"mean_page_cer"`
	Edits          int     `json:"edits"`
	Seconds        float64 `json:"seconds"` // the pages' seconds added up
	SecondsPerPage float64 `json:"seconds_per_page"`
	// CPUSeconds is the user + system time of tesseract's processes (0 for the pipeline,
	// whose Reader cannot tell): unlike wall time, it hardly grows on a shared machine.
	CPUSeconds float64 `json:"cpu_seconds"`
	// EngineSeconds is the pipeline's OCR worker time on the pages (0 for tesseract).
	EngineSeconds float64 `json:"engine_seconds,omitempty"`
	Failed        int     `json:"failed"`
}

// FidelityTotals compares the contenders over a group of pages.
type FidelityTotals struct {
	Name      string      `json:"name"`
	Pages     int         `json:"pages"`
	Chars     int         `json:"chars"`
	Tesseract FidelitySum `json:"tesseract"`
	Pipeline  FidelitySum `json:"pipeline"`
	// Ratios pipeline / tesseract; nil when tesseract's figure is 0.
	CERRatio     *float64 `json:"cer_ratio"`
	SecondsRatio *float64 `json:"seconds_ratio"`
}

// FidelityReport is one fidelity run.
type FidelityReport struct {
	Date             time.Time   `json:"date"`
	Command          string      `json:"command,omitempty"`
	Smoke            bool        `json:"smoke"`
	Machine          MachineInfo `json:"machine"`
	LoadBefore       [3]float64  `json:"load_average_before"`
	LoadAfter        [3]float64  `json:"load_average_after"`
	Jobs             int         `json:"jobs"`
	TesseractCommand string      `json:"tesseract_command"`
	// WallSeconds is the whole run; BusyCores the machine's busy CPU time over it (both
	// contenders and anything else), in cores on average.
	WallSeconds float64              `json:"wall_seconds"`
	BusyCores   float64              `json:"busy_cores"`
	Pages       []FidelityPageResult `json:"pages"`
	// Sets are the totals of each set, in page order; Real all real (corpus) pages
	// together; Degradations the generated pages of each degradation ("clean" included).
	Sets         []FidelityTotals `json:"sets"`
	Real         FidelityTotals   `json:"real"`
	Degradations []FidelityTotals `json:"degradations"`
	Targets      []Target         `json:"targets"`
	// WorseThanPlain is the real pages the pipeline read worse than plain tesseract by the
	// issue's per-page rule (WorseThanPlain); [] when none.
	WorseThanPlain []WorsePage `json:"worse_than_plain"`
}

// ErrFidelityFailed says some readings failed; the report is complete all the same.
var ErrFidelityFailed = errors.New("fidelity: readings failed")

// RunFidelity has plain tesseract and the pipeline read every page and measures each
// reading's CER (textmetrics.CER) and wall time. Plain tesseract is what a user would run:
// `tesseract FILE stdout -l LANG` (the page's languages), OMP_THREAD_LIMIT=1, one process a
// page, on the file as given. No --dpi: that is not what a user would run, and for the
// old-books TIFFs, which declare 1 dpi, Tesseract estimates the resolution from the glyphs
// ("Estimating resolution as 313") and reads them as well as at --dpi 300
// (docs/benchmarks.md, Figures behind the code's choices).
//
// Jobs workers take pages in turn and read each with both contenders, one after the other
// (which goes first alternates from page to page), so both see the same load on a shared
// machine. A failed reading counts as empty text (CER 1) and is named in the report; the
// error then wraps ErrFidelityFailed and comes with the whole report. A cancelled ctx
// returns at once with what was measured.
func RunFidelity(ctx context.Context, pages []FidelityPage, pipeline Reader, o FidelityOptions) (FidelityReport, error) {
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.Tesseract == "" {
		o.Tesseract = "tesseract"
	}
	rep := FidelityReport{Date: time.Now().UTC(), Command: o.Command, Smoke: o.Smoke, Jobs: o.Jobs, LoadBefore: LoadAverage(),
		TesseractCommand: "tesseract FILE stdout -l LANG, OMP_THREAD_LIMIT=1, one process a page, the file as given; " +
			"LANG is the page's languages (its folder's " + LangsFile + ", else " + DefaultFidelityLang + "), which the pipeline is given at upload too " +
			"(no --dpi: Tesseract estimates the resolution of files that declare an absurd one, as the old-books TIFFs' 1 dpi)"}
	if len(pages) == 0 {
		return rep, errors.New("fidelity: no pages")
	}
	if pipeline == nil {
		return rep, errors.New("fidelity: no pipeline reader")
	}
	pages = withLangs(pages)
	seen := map[string]bool{}
	for _, p := range pages {
		if p.FileName == "" || seen[p.FileName] || filepath.Base(p.FileName) != p.FileName {
			return rep, fmt.Errorf("fidelity: page %q: file name %q missing, repeated or not a base name", p.Name, p.FileName)
		}
		seen[p.FileName] = true
	}
	bin, err := exec.LookPath(o.Tesseract)
	if err != nil {
		return rep, fmt.Errorf("fidelity: %w (install the Debian package tesseract-ocr)", err)
	}
	if err := checkLangs(ctx, bin, pages); err != nil {
		return rep, err
	}
	rep.Machine = Machine(ctx, bin)
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "colophon-fidelity-"); err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
	}
	paths := make([]string, len(pages))
	for i, p := range pages {
		paths[i] = filepath.Join(dir, p.FileName)
		if err := os.WriteFile(paths[i], p.File, 0o644); err != nil {
			return rep, fmt.Errorf("fidelity: %w", err)
		}
	}

	rep.Pages = make([]FidelityPageResult, len(pages))
	env := singleThreadEnv()
	busy0, _ := MachineBusySeconds()
	start := time.Now()
	next := make(chan int)
	var wg sync.WaitGroup
	for range o.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				p := pages[i]
				r := FidelityPageResult{Set: p.Set, Name: p.Name, Text: p.Text, Degradation: p.Degradation, Note: p.Note, Langs: p.Langs}
				tess := func() { r.Tesseract = readTesseract(ctx, bin, paths[i], p.Langs, env) }
				pipe := func() { r.Pipeline = readPipeline(ctx, pipeline, p) }
				if i%2 == 0 {
					tess()
					pipe()
				} else {
					pipe()
					tess()
				}
				rep.Pages[i] = r // each worker writes its own elements
			}
		}()
	}
feed:
	for i := range pages {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	rep.WallSeconds = time.Since(start).Seconds()
	if busy1, err := MachineBusySeconds(); err == nil && busy0 > 0 && rep.WallSeconds > 0 {
		rep.BusyCores = (busy1 - busy0) / rep.WallSeconds
	}
	rep.LoadAfter = LoadAverage()
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	var failed []string
	for i, p := range pages {
		r := &rep.Pages[i]
		ref := textmetrics.Normalize(p.Truth)
		r.Chars = len([]rune(ref))
		for _, rd := range []*FidelityReading{&r.Tesseract, &r.Pipeline} {
			rd.Edits = textmetrics.Distance(textmetrics.Normalize(rd.Text), ref)
			rd.CER = textmetrics.CER(rd.Text, p.Truth)
		}
		if e := r.Tesseract.Error; e != "" {
			failed = append(failed, fmt.Sprintf("%s: tesseract: %s", p.Name, e))
		}
		if e := r.Pipeline.Error; e != "" {
			failed = append(failed, fmt.Sprintf("%s: pipeline: %s", p.Name, e))
		}
	}
	rep.finish()
	if len(failed) > 0 {
		return rep, fmt.Errorf("%w: %d, first: %s", ErrFidelityFailed, len(failed), failed[0])
	}
	return rep, nil
}

// withLangs is pages with DefaultFidelityLang where a page names no language (a copy: the
// caller's pages are left as they are).
func withLangs(pages []FidelityPage) []FidelityPage {
	out := slices.Clone(pages)
	for i := range out {
		if len(out[i].Langs) == 0 {
			out[i].Langs = []string{DefaultFidelityLang}
		}
	}
	return out
}

func readTesseract(ctx context.Context, bin, path string, langs []string, env []string) FidelityReading {
	cmd := exec.CommandContext(ctx, bin, path, "stdout", "-l", LangArg(langs))
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := FidelityReading{Seconds: time.Since(start).Seconds(), Text: stdout.String()}
	if cmd.ProcessState != nil {
		r.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		r.Text, r.Error = "", fmt.Sprintf("%v: %s", err, lastLines(stderr.String(), 3))
	}
	return r
}

func readPipeline(ctx context.Context, read Reader, p FidelityPage) FidelityReading {
	start := time.Now()
	pr, err := read(ctx, p)
	r := FidelityReading{Seconds: time.Since(start).Seconds(), EngineSeconds: pr.EngineSeconds, Text: pr.Text, Verdict: NoVerdict}
	if q := pr.Quality; q != nil && err == nil {
		score := q.Score
		r.Verdict, r.Reasons, r.Score = string(q.Verdict), q.Reasons, &score
	}
	if err != nil {
		r.Text, r.Error = "", err.Error()
	}
	return r
}

// isReal reports whether a set is corpus pages rather than generated ones.
func isReal(set string) bool { return set != SetClean && set != SetDegraded }

// totals adds up the pages for which keep is true.
func (r *FidelityReport) totals(name string, keep func(FidelityPageResult) bool) FidelityTotals {
	t := FidelityTotals{Name: name}
	var tCERs, pCERs []float64
	for _, p := range r.Pages {
		if !keep(p) {
			continue
		}
		t.Pages++
		t.Chars += p.Chars
		for _, s := range []struct {
			sum  *FidelitySum
			rd   FidelityReading
			cers *[]float64
		}{{&t.Tesseract, p.Tesseract, &tCERs}, {&t.Pipeline, p.Pipeline, &pCERs}} {
			s.sum.Edits += s.rd.Edits
			s.sum.Seconds += s.rd.Seconds
			s.sum.CPUSeconds += s.rd.CPUSeconds
			s.sum.EngineSeconds += s.rd.EngineSeconds
			if s.rd.Error != "" {
				s.sum.Failed++
			}
			*s.cers = append(*s.cers, s.rd.CER)
		}
	}
	for _, s := range []struct {
		sum  *FidelitySum
		cers []float64
	}{{&t.Tesseract, tCERs}, {&t.Pipeline, pCERs}} {
		if t.Chars > 0 {
			s.sum.CER = float64(s.sum.Edits) / float64(t.Chars)
		}
		s.sum.MeanPageCER = zeroNaN(Mean(s.cers))
		s.sum.SecondsPerPage = perPage(s.sum.Seconds, t.Pages)
	}
	t.CERRatio = ratio(t.Pipeline.CER, t.Tesseract.CER)
	t.SecondsRatio = ratio(t.Pipeline.Seconds, t.Tesseract.Seconds)
	return t
}

func ratio(a, b float64) *float64 {
	if b <= 0 {
		return nil
	}
	x := a / b
	return &x
}

// finish computes the totals and the targets from the pages' readings.
func (r *FidelityReport) finish() {
	r.Sets, r.Degradations = nil, nil
	var sets, degs []string
	for _, p := range r.Pages {
		if !slices.Contains(sets, p.Set) {
			sets = append(sets, p.Set)
		}
		if !isReal(p.Set) && !slices.Contains(degs, p.Degradation) {
			degs = append(degs, p.Degradation)
		}
	}
	for _, s := range sets {
		r.Sets = append(r.Sets, r.totals(s, func(p FidelityPageResult) bool { return p.Set == s }))
	}
	r.Real = r.totals("real pages", func(p FidelityPageResult) bool { return isReal(p.Set) })
	for _, d := range degs {
		r.Degradations = append(r.Degradations, r.totals(d, func(p FidelityPageResult) bool { return !isReal(p.Set) && p.Degradation == d }))
	}

	r.WorseThanPlain = r.worseThanPlain()
	r.Targets = r.targets()
}

func cerFmt(x float64) string { return fmt.Sprintf("%.4f", x) }

func ratioFmt(x *float64) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fx", *x)
}

// Write writes the report for people.
func (r FidelityReport) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "colophon bench --fidelity, %s\n", r.Date.UTC().Format(time.RFC3339))
	if r.Command != "" {
		fmt.Fprintf(&b, "command: %s\n", r.Command)
	}
	m := r.Machine
	fmt.Fprintf(&b, "machine: %d CPUs, %d MiB, %s, %s; %d jobs\n", m.CPUs, m.MemTotalMiB, orDash(m.OS), orDash(m.Tesseract), r.Jobs)
	fmt.Fprintf(&b, "load average: %s before, %s after; machine busy %.2f cores on average over the %.1f s run\n",
		loadString(r.LoadBefore), loadString(r.LoadAfter), r.BusyCores, r.WallSeconds)
	fmt.Fprintf(&b, "tesseract: %s\n", r.TesseractCommand)
	b.WriteString("pipeline: each page through the pipeline on its own (upload, OCR worker, verified get)\n" +
		"each job reads a page with both, one after the other (which goes first alternates), so both see the same load\n" +
		"CER: edit distance to the ground truth over its characters, after whitespace is folded and line-end hyphens joined;\n" +
		"  a set's CER is micro-averaged (all its edits over all its characters); \"mean page CER\" is the macro average\n" +
		"seconds: wall time of each reading (for tesseract the whole process, model load included), added up over a set;\n" +
		"  p. engine: of the pipeline's, the OCR worker's time on the page's image (cleanup, orientation, readings, outputs)\n\n")

	if err := r.writePages(&b); err != nil {
		return err
	}
	for _, p := range r.Pages {
		if p.Note != "" {
			fmt.Fprintf(&b, "  %s: %s\n", p.Name, p.Note)
		}
	}
	for _, p := range r.Pages {
		for _, c := range []struct {
			who string
			rd  FidelityReading
		}{{"tesseract", p.Tesseract}, {"pipeline", p.Pipeline}} {
			if c.rd.Error != "" {
				fmt.Fprintf(&b, "  * %s, %s failed (counted as no text): %s\n", p.Name, c.who, c.rd.Error)
			}
		}
	}

	group := func(title string, ts []FidelityTotals) error {
		fmt.Fprintf(&b, "\n%s\n", title)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\tpages\tchars\tCER tesseract\tCER pipeline\tratio\tmean page CER t.\tp.\ts tesseract\ts pipeline\tratio\ts p. engine\ts/page t.\tp.\tt. CPU s/page\t")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t\n", t.Name, t.Pages, t.Chars,
				cerFmt(t.Tesseract.CER), cerFmt(t.Pipeline.CER), ratioFmt(t.CERRatio),
				cerFmt(t.Tesseract.MeanPageCER), cerFmt(t.Pipeline.MeanPageCER),
				t.Tesseract.Seconds, t.Pipeline.Seconds, ratioFmt(t.SecondsRatio), t.Pipeline.EngineSeconds, t.Tesseract.SecondsPerPage, t.Pipeline.SecondsPerPage,
				perPage(t.Tesseract.CPUSeconds, t.Pages))
		}
		return tw.Flush()
	}
	sets := r.Sets
	if r.Real.Pages > 0 {
		sets = append(slices.Clone(sets), r.Real)
	}
	if err := group("by set (ratio: pipeline / tesseract):", sets); err != nil {
		return err
	}
	if r.Real.Pages == 0 {
		b.WriteString("  no real pages: the corpus (../shared/corpus) was not found or not asked for\n")
	}
	if len(r.Degradations) > 0 {
		if err := group("generated pages by degradation:", r.Degradations); err != nil {
			return err
		}
		for _, t := range r.Degradations {
			if d, ok := degrade.ByName(t.Name); ok {
				fmt.Fprintf(&b, "  %s\n", d)
			}
		}
	}

	b.WriteString("\ntargets")
	if r.Smoke {
		b.WriteString(" (smoke run: 2 small pages, not the targets' conditions)")
	}
	b.WriteString(":\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.Name, t.Want, t.Got, fidelityMet(t.Met))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := r.writeWorse(&b); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeWorse lists the real pages the pipeline read worse than plain tesseract.
func (r FidelityReport) writeWorse(b *strings.Builder) error {
	fmt.Fprintf(b, "\nreal pages read worse than plain tesseract (pipeline CER > %.1f x tesseract's + %.3f): %d\n",
		TargetPageCERFactor, TargetPageCERSlack, len(r.WorseThanPlain))
	if len(r.WorseThanPlain) == 0 {
		if r.Real.Pages == 0 {
			b.WriteString("  (no real pages in this run)\n")
		}
		return nil
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  set\tpage\tlang\tCER tesseract\tCER pipeline\tlimit\tverdict\t")
	for _, w := range r.WorseThanPlain {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", w.Set, w.Name, orDash(LangArg(w.Langs)),
			cerFmt(w.TesseractCER), cerFmt(w.PipelineCER), cerFmt(w.Limit), w.Verdict)
	}
	return tw.Flush()
}

// writePages is the table of pages: languages, both CERs and seconds, and the pipeline's
// verdict on the page with the judge's score and the reasons for a review.
func (r FidelityReport) writePages(b *strings.Builder) error {
	b.WriteString("pages (worse: a real page the pipeline read worse than plain tesseract, see the list at the end;\n" +
		"  verdict: the pipeline record's quality verdict, " + NoVerdict + " when it has none; score: the judge's estimate of the share read right):\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "set\tpage\tlang\tchars\tCER tesseract\tCER pipeline\tworse\ts tesseract\ts pipeline\ts p. engine\tverdict\tscore\t reasons")
	for _, p := range r.Pages {
		pr := p.Pipeline
		reasons := "" // after the last cell, unaligned: they are of any length
		if len(pr.Reasons) > 0 {
			reasons = " " + strings.Join(pr.Reasons, "; ")
		}
		worse := ""
		if isReal(p.Set) && WorseThanPlain(pr.CER, p.Tesseract.CER) {
			worse = "WORSE"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\n", p.Set, p.Name, orDash(LangArg(p.Langs)), p.Chars,
			cerFmt(p.Tesseract.CER)+failMark(p.Tesseract), cerFmt(pr.CER)+failMark(pr), worse, p.Tesseract.Seconds, pr.Seconds, pr.EngineSeconds,
			orDash(pr.Verdict), scoreFmt(pr.Score), reasons)
	}
	return tw.Flush()
}

func scoreFmt(x *float64) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *x)
}

func failMark(rd FidelityReading) string {
	if rd.Error != "" {
		return "*"
	}
	return ""
}

func fidelityMet(m *bool) string {
	switch {
	case m == nil:
		return "not measured"
	case *m:
		return "MET"
	}
	return "NOT MET"
}
