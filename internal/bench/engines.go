package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Status of a contender that may not have run.
const (
	StatusMeasured     = "measured"
	StatusNotInstalled = "not installed"
	StatusSkipped      = "skipped"
	StatusFailed       = "failed"
)

// singleThreadEnv is this process's environment with OMP_THREAD_LIMIT=1: one thread per
// Tesseract, as many Tesseracts as cores, like the pipeline.
func singleThreadEnv() []string {
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMP_THREAD_LIMIT=") {
			env = append(env, kv)
		}
	}
	return append(env, "OMP_THREAD_LIMIT=1")
}

// EngineResult is one outside tool's run over all pages.
type EngineResult struct {
	Texts      []string // page order
	Seconds    float64  // wall time of the whole run
	CPUSeconds float64  // user + system time of the processes (and their children)
}

// RunBaseline runs `bin PAGE stdout` (plain tesseract: its defaults, eng) for every page,
// jobs processes at a time, each with OMP_THREAD_LIMIT=1, and times the whole run.
func RunBaseline(ctx context.Context, bin string, pages []string, jobs int) (EngineResult, error) {
	res := EngineResult{Texts: make([]string, len(pages))}
	if jobs < 1 {
		return res, errors.New("baseline: want 1 job or more")
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return res, fmt.Errorf("baseline: %w (install the Debian package tesseract-ocr)", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	env := singleThreadEnv()
	next := make(chan int)
	var (
		mu   sync.Mutex
		cpu  time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cmd := exec.CommandContext(ctx, path, pages[i], "stdout")
				cmd.Env = env
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				mu.Lock()
				if cmd.ProcessState != nil {
					cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("tesseract %s: %v: %s", filepath.Base(pages[i]), err, lastLines(stderr.String(), 3)))
					cancel()
				}
				res.Texts[i] = stdout.String()
				mu.Unlock()
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
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = cpu.Seconds()
	if len(errs) > 0 {
		return res, errors.Join(errs...)
	}
	return res, ctx.Err()
}

// OCRmyPDF is how to run OCRmyPDF on the pages: img2pdf packs them into one PDF (timed on
// its own), then `ocrmypdf --jobs N --sidecar TEXT in.pdf out.pdf` with its defaults.
type OCRmyPDF struct {
	Bin, Img2PDF string // names looked up on PATH, or paths
	// ImageDPI, when not 0, is given to img2pdf as the pages' resolution, for scans that
	// declare none or an absurd one (as the pipeline assumes 300 dpi for those).
	ImageDPI int
}

// DefaultOCRmyPDF uses the Debian packages' commands.
var DefaultOCRmyPDF = OCRmyPDF{Bin: "ocrmypdf", Img2PDF: "img2pdf"}

// ErrNotInstalled says a contender's command is not on this machine.
var ErrNotInstalled = errors.New("not installed")

// OCRmyPDFResult is an OCRmyPDF run.
type OCRmyPDFResult struct {
	EngineResult
	Version        string
	Command        string  // the ocrmypdf command line, with the file names it was given
	Img2PDFSeconds float64 // building the PDF, not part of Seconds
}

// Run packs the pages into dir/in.pdf and has OCRmyPDF read them with jobs workers. Texts
// come from the sidecar, one per page (split at form feeds); they are nil when the sidecar
// does not have one per page. An error wrapping ErrNotInstalled means either command is
// missing.
func (o OCRmyPDF) Run(ctx context.Context, pages []string, jobs int, dir string) (OCRmyPDFResult, error) {
	var res OCRmyPDFResult
	bin, img2pdf, err := o.lookPath()
	if err != nil {
		return res, err
	}
	if out, err := exec.CommandContext(ctx, bin, "--version").Output(); err == nil {
		res.Version = strings.TrimSpace(string(out))
	}
	in, out, sidecar := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf"), filepath.Join(dir, "sidecar.txt")

	args := []string{"-o", in}
	if o.ImageDPI > 0 {
		args = append(args, "--imgsize", strconv.Itoa(o.ImageDPI)+"dpi")
	}
	start := time.Now()
	if err := runQuiet(ctx, img2pdf, append(args, pages...), nil); err != nil {
		return res, fmt.Errorf("img2pdf: %w", err)
	}
	res.Img2PDFSeconds = time.Since(start).Seconds()

	args = []string{"--jobs", strconv.Itoa(jobs), "--sidecar", filepath.Base(sidecar), filepath.Base(in), filepath.Base(out)}
	res.Command = "ocrmypdf " + strings.Join(args, " ")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = singleThreadEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start = time.Now()
	err = cmd.Run()
	res.Seconds = time.Since(start).Seconds()
	if cmd.ProcessState != nil {
		// wait4 counts the children OCRmyPDF waited for: its Tesseracts and Ghostscript.
		res.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		return res, fmt.Errorf("%s: %v: %s", res.Command, err, lastLines(stderr.String(), 5))
	}
	text, err := os.ReadFile(sidecar)
	if err != nil {
		return res, err
	}
	if texts := strings.Split(string(text), "\f"); len(texts) == len(pages) {
		res.Texts = texts
	}
	return res, nil
}

// Installed returns nil when both commands are on this machine, otherwise an error wrapping
// ErrNotInstalled that names the missing one.
func (o OCRmyPDF) Installed() error {
	_, _, err := o.lookPath()
	return err
}

func (o OCRmyPDF) lookPath() (bin, img2pdf string, err error) {
	if bin, err = exec.LookPath(o.Bin); err != nil {
		return "", "", fmt.Errorf("%s: %w", o.Bin, ErrNotInstalled)
	}
	if img2pdf, err = exec.LookPath(o.Img2PDF); err != nil {
		return "", "", fmt.Errorf("%s: %w", o.Img2PDF, ErrNotInstalled)
	}
	return bin, img2pdf, nil
}

func runQuiet(ctx context.Context, bin string, args []string, env []string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, lastLines(out.String(), 5))
	}
	return nil
}

// lastLines is the last n non-empty lines of s, joined with " | ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
