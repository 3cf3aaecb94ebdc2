package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
)

// sampleWithTorn writes the bundled sample pages, and the second cut to a third of its bytes
// (a torn scan, torn-scan.png), into a new directory.
func sampleWithTorn(t *testing.T) (files []string, torn string) {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if files, err = sample.WriteFiles(dir, pages); err != nil {
		t.Fatal(err)
	}
	torn = filepath.Join(dir, "torn-scan.png")
	if err := os.WriteFile(torn, pages[1].PNG[:len(pages[1].PNG)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	return files, torn
}

// samplePages writes n page images (the two bundled sample pages, alternately).
func samplePages(t *testing.T, n int) []string {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("scan-%02d.png", i+1))
		if err := os.WriteFile(p, pages[i%len(pages)].PNG, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	return files
}

// TestWorkerCrash: kill -9 of an OCR worker while it recognises a page. A worker started
// after it picks the page up once the job's ack wait runs out; every page ends done
// exactly once, and the new worker's log shows the redelivery.
func TestWorkerCrash(t *testing.T) {
	e := newEnv(t)
	meta := startProc(t, "metadata", "worker", "metadata")
	a := startProc(t, "ocr-a", "worker", "ocr", "--concurrency", "1")
	files := samplePages(t, 2)
	e.mustRun(append([]string{"upload", "--source", "crash box", "--doc", "crash"}, files...)...)

	// Kill A the moment it is recognising a page.
	var victim int
	waitFor(t, 60*time.Second, "a page in OCR", func() bool {
		for _, p := range pageStates(e, "crash") {
			if p.State == pipeline.StateOCR {
				victim = p.Page
				return true
			}
		}
		return false
	})
	a.signal(syscall.SIGKILL)
	if !a.waitExit(5 * time.Second) {
		t.Fatal("worker A survived kill -9")
	}
	if p := pageStates(e, "crash")[victim-1]; p.State == pipeline.StateDone {
		t.Fatalf("page %d finished before the kill; the test proves nothing", victim)
	}

	b := startProc(t, "ocr-b", "worker", "ocr", "--concurrency", "1")
	waitFor(t, 2*pipeline.AckWait+60*time.Second, "every page done", func() bool { return allDone(e, "crash", 2) })
	assertOneOfEach(t, e, "crash", 2)
	if want := fmt.Sprintf("doc=crash page=%d stage=ocr outcome=started attempt=2", victim); !strings.Contains(b.output(), want) {
		t.Errorf("worker B's log does not show the redelivery (%q)", want)
	}
	if !meta.running() || !b.running() {
		t.Error("a worker exited")
	}
}

// TestGracefulShutdown: SIGTERM to an OCR worker in the middle of a page; it finishes (or
// hands back) the page and exits within 10 s, and nothing is lost.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t)
	startProc(t, "metadata", "worker", "metadata")
	a := startProc(t, "ocr-a", "worker", "ocr", "--concurrency", "1")
	files := samplePages(t, 2)
	e.mustRun(append([]string{"upload", "--source", "shutdown box", "--doc", "term"}, files...)...)
	waitFor(t, 60*time.Second, "a page in OCR", func() bool {
		for _, p := range pageStates(e, "term") {
			if p.State == pipeline.StateOCR {
				return true
			}
		}
		return false
	})
	start := time.Now()
	a.signal(syscall.SIGTERM)
	if !a.waitExit(10 * time.Second) {
		t.Fatalf("worker still running 10 s after SIGTERM")
	}
	t.Logf("worker exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(a.output(), "OCR worker stopped") {
		t.Errorf("worker did not stop cleanly:\n%s", a.output())
	}
	// Another worker finishes the rest with no wait for an ack timeout: nothing was left hanging.
	startProc(t, "ocr-b", "worker", "ocr", "--concurrency", "1")
	waitFor(t, 60*time.Second, "every page done", func() bool { return allDone(e, "term", 2) })
	assertOneOfEach(t, e, "term", 2)
}

// TestInfrastructureCrash: kill -9 of `colophon dev --no-workers` (NATS and MinIO) during a
// run of 20 pages, then a restart on the same data directory. The worker processes reconnect
// by themselves; every page completes, none lost, none doubled.
func TestInfrastructureCrash(t *testing.T) {
	pe := newProcEnv(t, "")
	ocrW := startProc(t, "ocr", "worker", "ocr", "--concurrency", "2")
	metaW := startProc(t, "metadata", "worker", "metadata")
	files := samplePages(t, 20)
	pe.mustRun(append([]string{"upload", "--source", "infra box", "--doc", "infra"}, files...)...)

	waitFor(t, 120*time.Second, "three pages done", func() bool {
		n := 0
		for _, p := range pageStates(pe.env, "infra") {
			if p.State == pipeline.StateDone {
				n++
			}
		}
		return n >= 3
	})
	pe.dev.signal(syscall.SIGKILL)
	if !pe.dev.waitExit(5 * time.Second) {
		t.Fatal("dev survived kill -9")
	}
	time.Sleep(2 * time.Second) // the workers notice
	pe.startDev()

	waitFor(t, 4*time.Minute, "all 20 pages done", func() bool { return allDone(pe.env, "infra", 20) })
	assertOneOfEach(t, pe.env, "infra", 20)
	if !ocrW.running() || !metaW.running() {
		t.Fatal("a worker process exited; they must ride out the outage")
	}
	for _, w := range []*proc{ocrW, metaW} {
		if !strings.Contains(w.output(), "nats reconnected") {
			t.Errorf("%s log does not show the reconnection", w.name)
		}
	}
}

// TestStoreOutage: S3 unreachable for 30 s in the middle of a run. Workers back off and
// retry, logging each attempt, and the run completes once the store returns.
func TestStoreOutage(t *testing.T) {
	minio := startExternalMinIO(t)
	pe := newProcEnv(t, minio.endpoint) // dev reuses the S3 already answering there
	ocrW := startProc(t, "ocr", "worker", "ocr", "--concurrency", "2")
	metaW := startProc(t, "metadata", "worker", "metadata")
	files := samplePages(t, 8)
	pe.mustRun(append([]string{"upload", "--source", "outage box", "--doc", "outage"}, files...)...)

	waitFor(t, 120*time.Second, "a page done", func() bool {
		for _, p := range pageStates(pe.env, "outage") {
			if p.State == pipeline.StateDone {
				return true
			}
		}
		return false
	})
	minio.stop()
	time.Sleep(30 * time.Second)
	minio.start()

	waitFor(t, 4*time.Minute, "all 8 pages done", func() bool { return allDone(pe.env, "outage", 8) })
	assertOneOfEach(t, pe.env, "outage", 8)
	logs := ocrW.output() + metaW.output()
	if !strings.Contains(logs, "outcome=retry") || !strings.Contains(logs, "attempt=3") {
		t.Errorf("worker logs do not show retries with their attempt numbers")
	}
	if strings.Contains(logs, "outcome=failed") {
		t.Errorf("a page failed during the outage:\n%s", grepLines(logs, "outcome=failed"))
	}
}
