package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/colophon-archive/colophon/internal/bench"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// benchOptions are the flags of `colophon bench`.
type benchOptions struct {
	pages           int
	pagesFrom       string
	jobs            int
	rounds          int
	skipOCRmyPDF    bool
	overheadSamples int
	smoke           bool
	json            bool
	cpuProfile      string
	memory          bool
	memoryPages     int
	fidelity        bool
	corpus          string
}

// benchSeed makes the generated pages the same from run to run (4: the issue that asked).
const benchSeed = 4

func newBenchCmd(g *globals) *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench [--pages N | --pages-from DIR] [--jobs N] [--rounds R] [--skip-ocrmypdf] [--overhead-samples K] [--smoke] [--json] [--cpuprofile FILE] [--memory [--memory-pages N]] [--fidelity [--corpus DIR]]",
		Short: "Measure the pipeline against parallel tesseract and OCRmyPDF on the same pages",
		Long: `Measures, in one run on the same pages:
  (a) plain 'tesseract PAGE stdout' over every page, OMP_THREAD_LIMIT=1, --jobs processes at a time;
  (b) OCRmyPDF --jobs N --sidecar on the pages as one PDF (made by img2pdf, timed apart), when
      ocrmypdf and img2pdf are installed (scripts/install-deps --bench); otherwise reported as
      not installed;
  (c) the pipeline end to end, from the first upload byte to the last verified text: the pages
      uploaded as one document to a throwaway stack this command runs (NATS, a MinIO child,
      workers with --jobs recognitions at once), waited for and read back verified.
The three run in --rounds rounds (default 3), each contender once a round, one after another.
A machine's speed drifts between one run and the next, so the order rotates from round to
round (with 3 contenders and 3 rounds each runs once first, once second, once last) and the
ratios are the medians of the rounds' ratios. The stack starts, and reads a warm-up page,
before the first round; each round's pipeline run is a document of its own.
It prints pages a minute for each over all rounds and round by round, and the ratios; the
pipeline's overhead on single pages sent one by one to the idle pipeline (end-to-end time
minus the page's recognition time from its provenance record: p50, p95); the pipeline's CPU
time (this process and MinIO) beyond recognition, as a share of it; and the mean character
error rate of each against the pages' ground truth. Pages are generated (A4 at 300 dpi, about
400 words each) or read from --pages-from DIR (image files; X.gt.txt or X.txt beside X.png is
its ground truth).
--smoke: 2 small pages, 2 rounds and 2 overhead samples, to check the benchmark works (CI); it
says nothing about speed. A benchmark, not a test: it asserts no speed.

--memory measures memory instead: a separate 'colophon worker ocr --concurrency 1' process
reads --memory-pages pages (the --pages pages over and over) and its resident set
(/proc/PID/status VmRSS) is read when idle after 1, 50, 100, 200 and 500 pages; it prints the
curve and the ratio after 500 pages / after 50 (target: at most 1.2). With --smoke: 3 pages.

--fidelity measures reading instead: plain 'tesseract FILE stdout -l LANG' against the pipeline
(upload, OCR worker with its cleanup, orientation and second readings, verified get), page by
page, on the real scans in --corpus and on pages rendered from bundled texts, clean and degraded
(speckle, skew, blur, low contrast, turned 90 and 180 degrees, heavy JPEG, all at once). LANG,
also given to the pipeline at upload, is the page's entry in its folder's LANGS.tsv
(image<TAB>language, e.g. deu or eng+fra), else eng; a language without its Tesseract model is
an error naming the Debian package (scripts/install-deps installs those LANGS.tsv names). It
prints each page's character error rate and seconds for both and the pipeline's verdict on
it, totals per set and per degradation, the targets, and the real pages the pipeline read
worse than plain tesseract. With --smoke: 2 small pages, no corpus.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if o.smoke {
				if !f.Changed("pages") {
					o.pages = 2
				}
				if !f.Changed("rounds") {
					o.rounds = 2
				}
				if !f.Changed("overhead-samples") {
					o.overheadSamples = 2
				}
			}
			if o.pagesFrom != "" && !f.Changed("pages") && !o.smoke {
				o.pages = 0 // every image in DIR
			}
			if o.pages < 0 || (o.pages == 0 && o.pagesFrom == "") {
				return errors.New("--pages must be 1 or more")
			}
			if o.jobs < 1 {
				return errors.New("--jobs must be 1 or more")
			}
			if o.rounds < 1 {
				return errors.New("--rounds must be 1 or more")
			}
			if o.overheadSamples < 0 {
				return errors.New("--overhead-samples must be 0 or more")
			}
			// The workers' per-page log lines would drown the report: warnings only, unless
			// the log level was asked for.
			wg := g
			if fl := cmd.Flag("log-level"); fl == nil || !fl.Changed {
				l, err := newLogger(g.stderr, g.logFormat, "warn")
				if err != nil {
					return err
				}
				wg = &globals{stdout: g.stdout, stderr: g.stderr, logFormat: g.logFormat, logLevel: "warn", log: l}
			}
			if o.memory {
				return runMemoryBench(cmd.Context(), g, wg, o)
			}
			if o.fidelity {
				return runFidelityBench(cmd.Context(), g, wg, o, benchCommandLine(f))
			}
			rep, ocrErr, err := runBench(cmd.Context(), g, wg, o, benchCommandLine(f))
			if err != nil {
				return err
			}
			if o.json {
				if err := writeJSON(g.stdout, rep); err != nil {
					return err
				}
			} else if err := rep.WriteText(g.stdout); err != nil {
				return err
			}
			if ocrErr != nil {
				return fmt.Errorf("OCRmyPDF is installed but failed: %w", ocrErr)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.pages, "pages", 20, "pages to generate (with --pages-from: the first N files; default all)")
	fl.StringVar(&o.pagesFrom, "pages-from", "", "read the pages from the image files in DIR instead of generating them")
	fl.IntVar(&o.jobs, "jobs", runtime.NumCPU(), "tesseract processes, OCRmyPDF jobs and pipeline recognitions at once")
	fl.IntVar(&o.rounds, "rounds", 3, "rounds of the throughput comparison, each contender once a round in a rotated order (--smoke: 2)")
	fl.BoolVar(&o.skipOCRmyPDF, "skip-ocrmypdf", false, "do not run OCRmyPDF")
	fl.IntVar(&o.overheadSamples, "overhead-samples", 10, "single-page documents sent to the idle pipeline to measure its overhead")
	fl.BoolVar(&o.smoke, "smoke", false, "2 small pages, 2 rounds and 2 overhead samples: checks the benchmark works, says nothing about speed")
	fl.BoolVar(&o.json, "json", false, "print the report as JSON")
	fl.BoolVar(&o.memory, "memory", false, "instead: the resident memory of one OCR worker process over --memory-pages pages (the --pages pages, cycled)")
	fl.IntVar(&o.memoryPages, "memory-pages", 500, "with --memory: pages to push through the worker")
	fl.BoolVar(&o.fidelity, "fidelity", false, "instead: character error rate and seconds a page of plain tesseract against the pipeline, on real and degraded pages")
	fl.StringVar(&o.corpus, "corpus", filepath.Join("..", "shared", "corpus"), "with --fidelity: real scans with ground truth (X.gt.txt beside X; languages in each folder's LANGS.tsv); skipped when absent")
	fl.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of this process to FILE during the first round's pipeline run only (a profile can be started once per file)")
	return cmd
}

// benchCommandLine is the command as given, for the report.
func benchCommandLine(f *pflag.FlagSet) string {
	parts := []string{"colophon bench"}
	f.Visit(func(fl *pflag.Flag) {
		if fl.Value.Type() == "bool" {
			parts = append(parts, "--"+fl.Name)
			return
		}
		parts = append(parts, "--"+fl.Name+" "+fl.Value.String())
	})
	return strings.Join(parts, " ")
}

// runBench measures everything; ocrErr is set when OCRmyPDF is installed but failed (the
// rest is still measured and reported).
func runBench(ctx context.Context, g, workerG *globals, o benchOptions, command string) (rep *bench.Report, ocrErr error, err error) {
	const tesseractBin = "tesseract"
	work, err := os.MkdirTemp("", "colophon-bench-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(work)

	rep = &bench.Report{Date: time.Now().UTC(), Command: command, Smoke: o.smoke, Jobs: o.jobs, LoadBefore: bench.LoadAverage()}
	rep.Machine = bench.Machine(ctx, tesseractBin)

	var set bench.PageSet
	if o.pagesFrom != "" {
		set, err = bench.FromDir(o.pagesFrom, o.pages)
	} else {
		g.log.Info("bench: rendering pages", "pages", o.pages, "full", !o.smoke)
		set, err = bench.Generate(filepath.Join(work, "pages"), o.pages, !o.smoke, benchSeed)
	}
	if err != nil {
		return nil, nil, err
	}
	paths := set.Paths()
	rep.Pages = bench.PagesInfo{Count: len(paths), Source: set.Source, Width: set.Pages[0].Width, Height: set.Pages[0].Height, GroundTruth: set.AllHaveTruth()}
	imageDPI := 0
	for _, p := range set.Pages {
		rep.Pages.Bytes += p.Bytes
		rep.Pages.Words += len(strings.Fields(p.Truth))
		if !ocr.DeclaredPlausible(bench.DeclaredDPI(p.Path)) {
			imageDPI = 300 // OCRmyPDF needs one for such scans; the pipeline's default
		}
	}

	rep.Baseline.Command = fmt.Sprintf("tesseract PAGE stdout, OMP_THREAD_LIMIT=1, %d processes at a time", o.jobs)
	contenders := []string{bench.ContenderBaseline}
	ocrTool := bench.DefaultOCRmyPDF
	ocrTool.ImageDPI = imageDPI
	rep.OCRmyPDF = bench.OCRmyPDFRun{Status: bench.StatusSkipped, Reason: "--skip-ocrmypdf"}
	if !o.skipOCRmyPDF {
		if err := ocrTool.Installed(); err != nil {
			rep.OCRmyPDF = bench.OCRmyPDFRun{Status: bench.StatusNotInstalled, Reason: err.Error() + "; scripts/install-deps --bench installs it"}
		} else {
			rep.OCRmyPDF = bench.OCRmyPDFRun{Status: bench.StatusMeasured} // until a run fails
			contenders = append(contenders, bench.ContenderOCRmyPDF)
		}
	}
	contenders = append(contenders, bench.ContenderPipeline)

	// The stack is started and warmed up before the first round (engines loaded, every
	// connection made), so every round's pipeline run finds it the same.
	g.log.Info("bench: starting the pipeline", "recognitions_at_once", o.jobs)
	recogCPU := &bench.RecognitionCPU{}
	st, err := startInprocStack(ctx, workerG, inprocOptions{dataDir: filepath.Join(work, "stack"), concurrency: o.jobs,
		ocrOpts: []ocr.Option{ocr.WithRecognizer(recogCPU.Engines())}})
	if err != nil {
		return nil, nil, err
	}
	defer st.Stop()
	c, b, err := st.client(ctx, g, "colophon-bench")
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	run := "bench-" + time.Now().UTC().Format("20060102-150405")
	source := "colophon bench " + run
	if _, err := bench.RunDocument(ctx, c, run+"-warmup", source, paths[:1]); err != nil {
		return nil, nil, fmt.Errorf("warm-up: %w", err)
	}

	// Rounds: the machine's speed drifts between one contender's run and the next, so each
	// round runs every contender once, in an order rotated round by round, and the report
	// takes the median of the rounds' ratios.
	tb := &throughputBench{tesseract: tesseractBin, paths: paths, jobs: o.jobs, work: work, ocrTool: ocrTool, client: c, run: run, source: source,
		minioPID: st.MinIOPID(), recogCPU: recogCPU, cpuProfile: o.cpuProfile, texts: map[string][]string{}, textsDiffer: map[string]bool{}}
	for i := range o.rounds {
		order := bench.RoundOrder(contenders, i)
		g.log.Info("bench: round", "round", i+1, "of", o.rounds, "order", strings.Join(order, ", "), "pages", len(paths))
		var rd bench.Round
		for _, name := range order {
			switch name {
			case bench.ContenderBaseline:
				rd.Baseline, err = tb.baseline(ctx)
			case bench.ContenderOCRmyPDF:
				if rep.OCRmyPDF.Status != bench.StatusMeasured {
					continue // it failed in an earlier round: not run again
				}
				var res bench.OCRmyPDFResult
				rd.OCRmyPDF, res, err = tb.ocrmypdf(ctx, i)
				switch {
				case err == nil:
					rep.OCRmyPDF.Version, rep.OCRmyPDF.Command = res.Version, res.Command
				case ctx.Err() == nil:
					// Reported, and the command fails at the end; the rest is still measured.
					ocrErr, err = err, nil
					rep.OCRmyPDF = bench.OCRmyPDFRun{Status: bench.StatusFailed, Reason: ocrErr.Error(), Version: res.Version}
					continue
				}
			case bench.ContenderPipeline:
				rd.Pipeline, err = tb.pipeline(ctx, i)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("round %d, %s: %w", i+1, name, err)
			}
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			rd.Order = append(rd.Order, name)
		}
		rep.Rounds = append(rep.Rounds, rd)
	}
	// Every round reads the same pages the same way, so the last round's texts stand for all
	// of them; tb.keep noted any contender whose text changed.
	rep.Baseline.MeanCER = set.MeanCER(tb.texts[bench.ContenderBaseline])
	if rep.OCRmyPDF.Status == bench.StatusMeasured {
		rep.OCRmyPDF.MeanCER = set.MeanCER(tb.texts[bench.ContenderOCRmyPDF])
	}
	rep.Pipeline.MeanCER = set.MeanCER(tb.texts[bench.ContenderPipeline])
	rep.Pipeline.MeanCERVsBaseline = bench.MeanCERBetween(tb.texts[bench.ContenderPipeline], tb.texts[bench.ContenderBaseline])
	rep.Pipeline.CPUProfile = o.cpuProfile
	for _, name := range contenders {
		if tb.textsDiffer[name] {
			rep.TextsDiffer = append(rep.TextsDiffer, name)
		}
	}

	// Single pages on the idle pipeline.
	g.log.Info("bench: pipeline overhead", "samples", o.overheadSamples)
	rep.Overhead.Samples = []bench.OverheadSample{}
	for i := range o.overheadSamples {
		page := i % len(paths)
		r, err := bench.RunDocument(ctx, c, fmt.Sprintf("%s-single-%02d", run, i+1), source, paths[page:page+1])
		if err != nil {
			return nil, nil, err
		}
		rep.Overhead.Samples = append(rep.Overhead.Samples, bench.NewOverheadSample(page+1, r))
	}
	rep.LoadAfter = bench.LoadAverage()
	rep.Finish()
	return rep, ocrErr, nil
}

// throughputBench runs the contenders of the throughput comparison, one run at a time, and
// keeps each one's texts for the CERs.
type throughputBench struct {
	tesseract  string // the baseline's command
	paths      []string
	jobs       int
	work       string
	ocrTool    bench.OCRmyPDF
	client     bench.Client
	run        string // the start of the pipeline's document IDs
	source     string
	minioPID   int
	recogCPU   *bench.RecognitionCPU
	cpuProfile string
	profiled   bool // pprof can be started only once per file: the first pipeline run has it

	texts       map[string][]string // each contender's texts from its latest run
	textsDiffer map[string]bool     // contenders whose texts changed from one round to the next
}

// keep records a contender's texts, noting whether they differ from its previous run's.
func (tb *throughputBench) keep(name string, texts []string) {
	if prev, ok := tb.texts[name]; ok && !slices.Equal(prev, texts) {
		tb.textsDiffer[name] = true
	}
	tb.texts[name] = texts
}

// baseline is plain tesseract, --jobs processes at a time.
func (tb *throughputBench) baseline(ctx context.Context) (bench.RoundRun, error) {
	others := bench.StartOthers()
	res, err := bench.RunBaseline(ctx, tb.tesseract, tb.paths, tb.jobs)
	if err != nil {
		return bench.RoundRun{}, err
	}
	tb.keep(bench.ContenderBaseline, res.Texts)
	return bench.RoundRun{Seconds: res.Seconds, CPUSeconds: res.CPUSeconds, OtherCPUSeconds: others.Seconds(res.CPUSeconds)}, nil
}

// ocrmypdf is OCRmyPDF on the pages as one PDF, in a directory of the round's own.
func (tb *throughputBench) ocrmypdf(ctx context.Context, round int) (*bench.OCRmyPDFRound, bench.OCRmyPDFResult, error) {
	dir := filepath.Join(tb.work, fmt.Sprintf("ocrmypdf-%d", round+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, bench.OCRmyPDFResult{}, err
	}
	defer os.RemoveAll(dir) // a PDF/A of every page each round: no need to keep them
	others := bench.StartOthers()
	res, err := tb.ocrTool.Run(ctx, tb.paths, tb.jobs, dir)
	otherCPU := others.Seconds(res.CPUSeconds)
	if err != nil {
		return nil, res, err
	}
	tb.keep(bench.ContenderOCRmyPDF, res.Texts)
	return &bench.OCRmyPDFRound{
		RoundRun:       bench.RoundRun{Seconds: res.Seconds, CPUSeconds: res.CPUSeconds, OtherCPUSeconds: otherCPU},
		Img2PDFSeconds: res.Img2PDFSeconds,
	}, res, nil
}

// pipeline sends the pages as one document, a new one each round, through the running
// stack. Its CPU time is this process's (NATS, the workers, the client) and MinIO's.
func (tb *throughputBench) pipeline(ctx context.Context, round int) (bench.PipelineRound, error) {
	var pr bench.PipelineRound
	self0, err := bench.SelfCPUSeconds()
	if err != nil {
		return pr, err
	}
	minio0, err := bench.ProcessCPUSeconds(tb.minioPID)
	if err != nil {
		return pr, fmt.Errorf("MinIO's CPU time: %w", err)
	}
	recog0, _ := tb.recogCPU.Seconds()
	others := bench.StartOthers()
	stopProfile := func() {}
	if tb.cpuProfile != "" && !tb.profiled {
		tb.profiled = true
		pf, err := os.Create(tb.cpuProfile)
		if err != nil {
			return pr, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return pr, err
		}
		stopProfile = func() { pprof.StopCPUProfile(); pf.Close() }
	}
	all, err := bench.RunDocument(ctx, tb.client, fmt.Sprintf("%s-round-%d", tb.run, round+1), tb.source, tb.paths)
	stopProfile()
	if err != nil {
		return pr, err
	}
	self1, err := bench.SelfCPUSeconds()
	if err != nil {
		return pr, err
	}
	minio1, err := bench.ProcessCPUSeconds(tb.minioPID)
	if err != nil {
		return pr, fmt.Errorf("MinIO's CPU time: %w", err)
	}
	otherCPU := others.Seconds(self1 - self0 + minio1 - minio0)
	recog1, _ := tb.recogCPU.Seconds()
	texts := make([]string, len(all.Pages))
	for i, p := range all.Pages {
		texts[i] = string(p.Text)
	}
	tb.keep(bench.ContenderPipeline, texts)
	return bench.PipelineRound{
		RoundRun:              bench.RoundRun{Seconds: all.EndToEnd().Seconds(), OtherCPUSeconds: otherCPU},
		Doc:                   all.Doc,
		UploadSeconds:         all.Upload.Seconds(),
		RecognitionSeconds:    all.RecognitionSeconds,
		RecognitionCPUSeconds: recog1 - recog0,
		ProcessCPUSeconds:     self1 - self0,
		MinIOCPUSeconds:       minio1 - minio0,
	}, nil
}

// runMemoryBench measures one OCR worker process's resident memory as it reads page after
// page, against a throwaway stack that runs no OCR worker of its own.
func runMemoryBench(ctx context.Context, g, workerG *globals, o benchOptions) error {
	if o.smoke && o.memoryPages == 500 {
		o.memoryPages = 3
	}
	if o.memoryPages < 1 {
		return errors.New("--memory-pages must be 1 or more")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the colophon binary: %w", err)
	}
	work, err := os.MkdirTemp("", "colophon-bench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	var set bench.PageSet
	if o.pagesFrom != "" {
		set, err = bench.FromDir(o.pagesFrom, o.pages)
	} else {
		set, err = bench.Generate(filepath.Join(work, "pages"), o.pages, !o.smoke, benchSeed)
	}
	if err != nil {
		return err
	}
	st, err := startInprocStack(ctx, workerG, inprocOptions{dataDir: filepath.Join(work, "stack"), noOCR: true})
	if err != nil {
		return err
	}
	defer st.Stop()
	c, b, err := st.client(ctx, g, "colophon-bench-memory")
	if err != nil {
		return err
	}
	defer b.Close()
	g.log.Info("bench: OCR worker memory", "pages", o.memoryPages, "distinct_pages", len(set.Pages))
	var at []int
	if o.smoke {
		at = []int{1, 2}
	}
	rep, err := bench.MeasureWorkerRSS(ctx, bench.MemoryOptions{Binary: exe, Env: st.Env(), Client: c, Files: set.Paths(), Pages: o.memoryPages, At: at})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "OCR worker resident memory: %s, %d distinct pages (%dx%d px) cycled, one recognition at a time\n%s",
		set.Source, len(set.Pages), set.Pages[0].Width, set.Pages[0].Height, rep)
	return nil
}

// runFidelityBench has plain tesseract and the pipeline read the same real and degraded
// pages, and reports how well and how fast each did.
func runFidelityBench(ctx context.Context, g, workerG *globals, o benchOptions, command string) error {
	if o.jobs < 1 {
		return errors.New("--jobs must be 1 or more")
	}
	pages, err := bench.FidelityPages(o.corpus, bench.FidelityPagesOptions{Smoke: o.smoke})
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "colophon-bench-fidelity-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	st, err := startInprocStack(ctx, workerG, inprocOptions{dataDir: filepath.Join(work, "stack"), concurrency: o.jobs})
	if err != nil {
		return err
	}
	defer st.Stop()
	c, b, err := st.client(ctx, g, "colophon-bench-fidelity")
	if err != nil {
		return err
	}
	defer b.Close()
	run := "fid-" + time.Now().UTC().Format("20060102-150405")
	// Each page is a document of its own, uploaded from a file named as the page is, in the
	// page's languages (as plain tesseract reads it).
	read := func(ctx context.Context, p bench.FidelityPage) (bench.PipelineReading, error) {
		dir, err := os.MkdirTemp(work, "page-")
		if err != nil {
			return bench.PipelineReading{}, fmt.Errorf("page %s: %w", p.Name, err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, p.FileName)
		if err := os.WriteFile(path, p.File, 0o644); err != nil {
			return bench.PipelineReading{}, fmt.Errorf("page %s: %w", p.Name, err)
		}
		r, err := bench.RunUpload(ctx, c, client.UploadRequest{Doc: run + "-" + docSafe(p.Set+"-"+p.Name), Source: "colophon bench --fidelity",
			Files: []string{path}, Languages: p.Langs})
		if err != nil {
			return bench.PipelineReading{}, err
		}
		pg := r.Pages[0]
		// The record says what the page was read in: a comparison in other languages than
		// plain tesseract's would measure the languages, not the reading.
		if got := pg.Record.OCR.Languages; !slices.Equal(got, p.Langs) {
			return bench.PipelineReading{}, fmt.Errorf("page %s: the pipeline read it in %s, asked for %s", p.Name, bench.LangArg(got), bench.LangArg(p.Langs))
		}
		return bench.PipelineReading{Text: string(pg.Text), EngineSeconds: r.RecognitionSeconds, Quality: pg.Record.OCR.Quality}, nil
	}
	if err := os.MkdirAll(filepath.Join(work, "files"), 0o755); err != nil {
		return err
	}
	g.log.Info("bench: fidelity", "pages", len(pages), "jobs", o.jobs)
	rep, err := bench.RunFidelity(ctx, pages, read, bench.FidelityOptions{Jobs: o.jobs, Dir: filepath.Join(work, "files"), Smoke: o.smoke, Command: command})
	if err != nil && !errors.Is(err, bench.ErrFidelityFailed) {
		return err
	}
	if o.json {
		if werr := writeJSON(g.stdout, rep); werr != nil {
			return werr
		}
	} else if werr := rep.Write(g.stdout); werr != nil {
		return werr
	}
	return err
}

// docSafe turns a name into document ID characters.
func docSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}
