package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// rpSample writes the bundled sample's two page images into a fresh directory.
func rpSample(t *testing.T) ([]sample.Page, []string) {
	t.Helper()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	files, err := sample.WriteFiles(t.TempDir(), pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("the sample has %d pages; these tests expect 2", len(files))
	}
	return pages, files
}

// rpWithin runs a command with a deadline, so a command that would hang fails the
// test quickly instead of after the harness's minutes.
func (e *env) rpWithin(d time.Duration, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"--log-format", "text"}, args...), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// rpObjects reads every object of a document in bucket: key → bytes.
func (e *env) rpObjects(bucket, doc string) map[string][]byte {
	e.t.Helper()
	ctx := context.Background()
	keys, err := e.store.List(ctx, bucket, doc+"/")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		obj, err := e.store.Get(ctx, bucket, k)
		if err != nil {
			e.t.Fatal(err)
		}
		out[k] = obj.Data
	}
	return out
}

func rpKeys(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rpOCRRuns counts the OCR worker's successful recognitions of a page, from its logs.
func (e *env) rpOCRRuns(doc string, page int) int {
	return strings.Count(e.logs.String(), fmt.Sprintf("doc=%s page=%d stage=ocr outcome=ok", doc, page))
}

// rpBacklog is how many jobs wait in the OCR work queue.
func (e *env) rpBacklog() uint64 {
	e.t.Helper()
	ctx := context.Background()
	s, err := e.bus.JS.Stream(ctx, pipeline.StreamOCR)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Msgs
}

func (e *env) rpStatus(doc string) client.Report {
	e.t.Helper()
	return decodeJSON[client.Report](e.t, e.mustRun("status", doc, "--json").stdout)
}

// rpCheckOneReading: each page recognised once, with one set of outputs and one record, v1.
func (e *env) rpCheckOneReading(doc string, npages int) {
	e.t.Helper()
	for p := 1; p <= npages; p++ {
		if n := e.rpOCRRuns(doc, p); n != 1 {
			e.t.Errorf("doc %s page %d recognised %d times, want once:\n%s", doc, p, n, grepLines(e.logs.String(), "doc="+doc+" "))
		}
	}
	var wantTexts, wantRecs []string
	for p := 1; p <= npages; p++ {
		wantTexts = append(wantTexts, outputKeys(doc, p, 1)...)
		wantRecs = append(wantRecs, pipeline.ProvenanceKey(doc, p, 1))
	}
	if got := rpKeys(e.rpObjects(pipeline.BucketTexts, doc)); !slices.Equal(got, wantTexts) {
		e.t.Errorf("texts of %s: %v, want %v", doc, got, wantTexts)
	}
	if got := rpKeys(e.rpObjects(pipeline.BucketProvenance, doc)); !slices.Equal(got, wantRecs) {
		e.t.Errorf("provenance records of %s: %v, want %v", doc, got, wantRecs)
	}
	st := e.rpStatus(doc)
	if st.Done != npages {
		e.t.Errorf("status of %s: %+v", doc, st)
	}
	for _, p := range st.PageStates {
		if p.Version != 1 {
			e.t.Errorf("status of %s page %d: version %d, want 1", doc, p.Page, p.Version)
		}
	}
}

// TestUploadTwiceIsIdempotent: uploading the same files to the same document again recognises
// nothing again and records nothing again: same texts, same records (created unchanged).
func TestUploadTwiceIsIdempotent(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	_, files := rpSample(t)
	args := append([]string{"upload", "--source", "Harbor Court Tenants' Association, box 3", "--date", "1974-03", "--doc", "twice", "--wait"}, files...)

	start := time.Now()
	e.mustRun(args...)
	t.Logf("first upload --wait: %s", time.Since(start).Round(time.Millisecond))
	textsBefore := e.rpObjects(pipeline.BucketTexts, "twice")
	recsBefore := e.rpObjects(pipeline.BucketProvenance, "twice")

	start = time.Now()
	again := e.colophon(args...)
	t.Logf("second upload --wait: %s", time.Since(start).Round(time.Millisecond))
	if again.code != 0 || strings.TrimSpace(again.stdout) != "twice" || !strings.Contains(again.stderr, "all 2 page(s) done") {
		t.Fatalf("upload again: exit %d, stdout %q, stderr:\n%s", again.code, again.stdout, again.stderr)
	}
	if n := strings.Count(again.stderr, "stage=upload file="); n != 2 || strings.Count(again.stderr, "outcome=skipped") != 2 {
		t.Errorf("upload again should report both pages skipped (already hold this scan):\n%s", again.stderr)
	}
	e.rpCheckOneReading("twice", 2)
	if got := e.rpObjects(pipeline.BucketTexts, "twice"); !rpMapsEqual(got, textsBefore) {
		t.Errorf("texts changed by the second upload")
	}
	if got := e.rpObjects(pipeline.BucketProvenance, "twice"); !rpMapsEqual(got, recsBefore) {
		t.Errorf("provenance records changed by the second upload (created must stay)")
	}
	for k, data := range recsBefore {
		rec := decodeJSON[pipeline.Provenance](t, string(data))
		if rec.Created.IsZero() || rec.Version != 1 {
			t.Errorf("%s: created %v, version %d", k, rec.Created, rec.Version)
		}
	}
	if n := e.rpBacklog(); n != 0 {
		t.Errorf("OCR queue holds %d job(s) after the second upload, want 0", n)
	}
}

// TestUploadAgainWhileInFlight: an upload of the same files while the first is still queued
// or being recognised adds no second job and no second reading.
func TestUploadAgainWhileInFlight(t *testing.T) {
	e := newEnv(t)
	_, files := rpSample(t)
	up := func(doc string, wait bool) result {
		args := []string{"upload", "--source", "box 9", "--doc", doc}
		if wait {
			args = append(args, "--wait")
		}
		return e.colophon(append(args, files...)...)
	}

	// Queued, no worker yet: the second upload's jobs are dropped as duplicates.
	if r := up("inflight", false); r.code != 0 {
		t.Fatalf("first upload: exit %d: %s", r.code, r.stderr)
	}
	if n := e.rpBacklog(); n != 2 {
		t.Fatalf("OCR queue holds %d jobs after the first upload, want 2", n)
	}
	if r := up("inflight", false); r.code != 0 || strings.TrimSpace(r.stdout) != "inflight" {
		t.Fatalf("upload while queued: exit %d, stdout %q: %s", r.code, r.stdout, r.stderr)
	}
	if n := e.rpBacklog(); n != 2 {
		t.Errorf("OCR queue holds %d jobs after uploading the same files again, want 2 (one per page)", n)
	}
	st := e.rpStatus("inflight")
	for _, p := range st.PageStates {
		if p.State != pipeline.StateQueued || p.Version != 1 {
			t.Errorf("page %d after the second upload: %s, version %d; want queued, version 1", p.Page, p.State, p.Version)
		}
	}

	e.startWorkers()
	start := time.Now()
	if r := up("inflight", true); r.code != 0 {
		t.Fatalf("third upload --wait: exit %d: %s", r.code, r.stderr)
	}
	t.Logf("upload --wait once the workers run: %s", time.Since(start).Round(time.Millisecond))
	e.rpCheckOneReading("inflight", 2)

	// With the workers running: the same files again at once, while the pages are queued
	// or being recognised.
	if r := up("racing", false); r.code != 0 {
		t.Fatalf("first upload: exit %d: %s", r.code, r.stderr)
	}
	r := up("racing", true)
	if r.code != 0 || !strings.Contains(r.stderr, "all 2 page(s) done") {
		t.Fatalf("upload again while in flight: exit %d: %s", r.code, r.stderr)
	}
	t.Logf("second upload saw: %s", grepLines(r.stderr, "outcome=skipped"))
	e.rpCheckOneReading("racing", 2)
	if n := e.rpBacklog(); n != 0 {
		t.Errorf("OCR queue holds %d job(s) at the end, want 0", n)
	}
}

// TestUploadDifferentScanRefused: a different file for a page that already holds a scan is
// refused, naming the page and both files; the page keeps its scan, text and record.
func TestUploadDifferentScanRefused(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, files := rpSample(t)
	e.mustRun(append([]string{"upload", "--source", "box 4", "--doc", "clash", "--wait"}, files...)...)
	scansBefore := e.rpObjects(pipeline.BucketScans, "clash")
	recsBefore := e.rpObjects(pipeline.BucketProvenance, "clash")

	// Page 2's image as page 1.
	r := e.colophon("upload", "--source", "box 4", "--doc", "clash", "--wait", files[1], files[0])
	if r.code == 0 {
		t.Fatalf("upload of a different scan for a done page exited 0:\n%s", r.stderr)
	}
	for _, want := range []string{"page 1 (" + filepath.Base(files[1]) + ")", "different scan", filepath.Base(files[0]), "colophon reprocess clash --page 1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("refusal lacks %q:\n%s", want, r.stderr)
		}
	}

	// A file that is no scan at all, for a done page: refused, the page keeps its scan.
	junk := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(junk, []byte("not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.colophon("upload", "--source", "box 4", "--doc", "clash", junk)
	if r.code == 0 || !strings.Contains(r.stderr, "page 1 (notes.txt)") || !strings.Contains(r.stderr, "keeps its earlier scan") {
		t.Errorf("upload of a non-scan for a done page: exit %d:\n%s", r.code, r.stderr)
	}

	e.rpCheckOneReading("clash", 2)
	if got := e.rpObjects(pipeline.BucketScans, "clash"); !rpMapsEqual(got, scansBefore) {
		t.Errorf("scans changed: %v, want %v", rpKeys(got), rpKeys(scansBefore))
	}
	if got := e.rpObjects(pipeline.BucketProvenance, "clash"); !rpMapsEqual(got, recsBefore) {
		t.Errorf("records changed by refused uploads")
	}
	if got := e.mustRun("get", "clash", "--page", "1").stdout; !strings.Contains(got, rpFirstWords(pages[0].Text)) {
		t.Errorf("page 1 no longer reads as the first sample page: %q", got)
	}
}

// TestUploadRetryAfterFailure: uploading a failed page's scan again queues it again (a new
// version, so JetStream does not drop the job as a duplicate of the failed one) instead of
// leaving it queued for ever; a good file then completes it.
func TestUploadRetryAfterFailure(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, files := rpSample(t)
	torn := filepath.Join(t.TempDir(), "torn-scan.png")
	if err := os.WriteFile(torn, pages[1].PNG[:len(pages[1].PNG)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt, wantVersion := range []int{1, 2} {
		r := e.rpWithin(60*time.Second, "upload", "--source", "box 7", "--doc", "retry", "--wait", files[0], torn)
		if r.code == 0 || !strings.Contains(r.stderr, "page 2 (torn-scan.png)") || strings.Contains(r.stderr, "context deadline exceeded") {
			t.Fatalf("upload %d with a torn page 2: exit %d:\n%s", attempt+1, r.code, r.stderr)
		}
		st := e.rpStatus("retry")
		if p := st.PageStates[1]; p.State != pipeline.StateFailed || p.Version != wantVersion {
			t.Errorf("after upload %d: page 2 %s version %d, want failed version %d", attempt+1, p.State, p.Version, wantVersion)
		}
	}
	r := e.rpWithin(60*time.Second, "upload", "--source", "box 7", "--doc", "retry", "--wait", files[0], files[1])
	if r.code != 0 {
		t.Fatalf("upload with page 2 mended: exit %d:\n%s", r.code, r.stderr)
	}
	st := e.rpStatus("retry")
	if st.Done != 2 || st.PageStates[0].Version != 1 || st.PageStates[1].Version != 3 {
		t.Errorf("status: %+v", st)
	}
	if n := e.rpOCRRuns("retry", 1); n != 1 {
		t.Errorf("page 1 recognised %d times, want once", n)
	}
	e.mustRun("get", "retry")
}

// TestReprocess: reprocess reads every page again on purpose: new texts and records (v2)
// beside the old ones, listed by provenance --all-versions; get serves and verifies v2.
func TestReprocess(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, files := rpSample(t)
	ctx := context.Background()
	e.mustRun(append([]string{"upload", "--source", "Harbor Court Tenants' Association, box 3", "--date", "1974-03", "--doc", "again", "--wait"}, files...)...)
	v1Recs := e.rpObjects(pipeline.BucketProvenance, "again")
	v1Texts := e.rpObjects(pipeline.BucketTexts, "again")

	start := time.Now()
	r := e.mustRun("reprocess", "again", "--wait")
	t.Logf("reprocess --wait: %s", time.Since(start).Round(time.Millisecond))
	if r.stdout != "" {
		t.Errorf("reprocess stdout = %q, want nothing", r.stdout)
	}
	for _, want := range []string{"page 1 (page-01.png) queued as version 2", "page 2 (page-02.png) queued as version 2", "all 2 page(s) done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("reprocess stderr lacks %q:\n%s", want, r.stderr)
		}
	}

	// Both versions are stored; the first ones untouched.
	texts := e.rpObjects(pipeline.BucketTexts, "again")
	recsStored := e.rpObjects(pipeline.BucketProvenance, "again")
	var wantTexts, wantRecs []string
	for p := 1; p <= 2; p++ {
		for v := 1; v <= 2; v++ {
			wantTexts = append(wantTexts, outputKeys("again", p, v)...)
			wantRecs = append(wantRecs, pipeline.ProvenanceKey("again", p, v))
		}
		if n := e.rpOCRRuns("again", p); n != 2 {
			t.Errorf("page %d recognised %d times, want twice", p, n)
		}
	}
	if got := rpKeys(texts); !slices.Equal(got, wantTexts) {
		t.Errorf("texts: %v, want %v", got, wantTexts)
	}
	if got := rpKeys(recsStored); !slices.Equal(got, wantRecs) {
		t.Errorf("records: %v, want %v", got, wantRecs)
	}
	for k, v := range v1Recs {
		if !bytes.Equal(recsStored[k], v) {
			t.Errorf("%s changed by reprocess", k)
		}
	}
	for k, v := range v1Texts {
		if !bytes.Equal(texts[k], v) {
			t.Errorf("%s changed by reprocess", k)
		}
	}

	// provenance --all-versions: page order, then version order; each record vouches for its own text.
	all := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "again", "--all-versions").stdout)
	var order []string
	for _, rec := range all {
		order = append(order, fmt.Sprintf("%d/v%d", rec.Page, rec.Version))
		if rec.Text.Key != pipeline.TextKey("again", rec.Page, rec.Version) || rec.Text.SHA256 != objectstore.SHA256(texts[rec.Text.Key]) {
			t.Errorf("record page %d v%d: text %s sha256 %s; store has %s", rec.Page, rec.Version, rec.Text.Key, rec.Text.SHA256, objectstore.SHA256(texts[rec.Text.Key]))
		}
		if rec.Source != "Harbor Court Tenants' Association, box 3" || rec.Date != "1974-03" || rec.FileName != fmt.Sprintf("page-%02d.png", rec.Page) {
			t.Errorf("record page %d v%d: source %q, date %q, file %q", rec.Page, rec.Version, rec.Source, rec.Date, rec.FileName)
		}
	}
	if want := []string{"1/v1", "1/v2", "2/v1", "2/v2"}; !slices.Equal(order, want) {
		t.Errorf("provenance --all-versions: %v, want %v", order, want)
	}
	if all[0].Scan != all[1].Scan || all[1].Created.Before(all[0].Created) {
		t.Errorf("page 1: v2 should read the same scan as v1: %+v / %+v", all[0].Scan, all[1].Scan)
	}
	current := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "again").stdout)
	if len(current) != 2 || current[0].Version != 2 || current[1].Version != 2 {
		t.Errorf("provenance without --all-versions: %+v, want the two v2 records", current)
	}

	// status shows version 2; get serves v2's text.
	st := e.rpStatus("again")
	for _, p := range st.PageStates {
		if p.State != pipeline.StateDone || p.Version != 2 {
			t.Errorf("status page %d: %s version %d, want done version 2", p.Page, p.State, p.Version)
		}
	}
	if !strings.Contains(e.mustRun("status", "again").stdout, "2 done") {
		t.Errorf("status text")
	}
	got := e.mustRun("get", "again").stdout
	if want := string(texts[pipeline.TextKey("again", 1, 2)]) + "\f" + string(texts[pipeline.TextKey("again", 2, 2)]); got != want {
		t.Errorf("get returned %q, want the v2 texts %q", got, want)
	}

	// Tampering with an old version does not touch what get serves; tampering with the
	// current one is caught.
	if err := e.store.Put(ctx, pipeline.BucketTexts, pipeline.TextKey("again", 1, 1), []byte("forged v1\n"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	if r := e.mustRun("get", "again"); r.stdout != got {
		t.Errorf("get changed after tampering with v1")
	}
	forged := []byte("forged v2\n")
	if err := e.store.Put(ctx, pipeline.BucketTexts, pipeline.TextKey("again", 2, 2), forged, "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	bad := e.colophon("get", "again")
	if bad.code != 1 || bad.stdout != "" {
		t.Fatalf("get after tampering with v2: exit %d, stdout %q", bad.code, bad.stdout)
	}
	for _, want := range []string{"page 2", all[3].Text.SHA256, objectstore.SHA256(forged)} {
		if !strings.Contains(bad.stderr, want) {
			t.Errorf("get after tampering with v2: stderr lacks %q:\n%s", want, bad.stderr)
		}
	}
	if strings.Contains(bad.stderr, "page 1:") {
		t.Errorf("get blames page 1, whose current version is intact:\n%s", bad.stderr)
	}

	// One page, other languages: only that page moves on, to version 3, read with those languages.
	r = e.mustRun("reprocess", "again", "--page", "1", "--lang", "eng", "--wait")
	if !strings.Contains(r.stderr, "page 1 (page-01.png) queued as version 3") || strings.Contains(r.stderr, "page 2 (page-02.png) queued") {
		t.Errorf("reprocess --page 1:\n%s", r.stderr)
	}
	st = e.rpStatus("again")
	if st.PageStates[0].Version != 3 || st.PageStates[1].Version != 2 || st.Done != 2 {
		t.Errorf("status after reprocess --page 1: %+v", st)
	}
	if r := e.mustRun("get", "again", "--page", "1"); !strings.Contains(r.stdout, rpFirstWords(pages[0].Text)) {
		t.Errorf("get --page 1 after reprocess: %q", r.stdout)
	}
	all = decodeJSON[[]pipeline.Provenance](t, e.colophon("provenance", "again", "--all-versions").stdout)
	if len(all) != 5 || all[2].Page != 1 || all[2].Version != 3 || !slices.Equal(all[2].OCR.Languages, []string{"eng"}) {
		t.Errorf("provenance --all-versions after reprocess --page 1: %d records", len(all))
	}
}

// TestReprocessRefusals: what reprocess will not do, and says so.
func TestReprocessRefusals(t *testing.T) {
	e := newEnv(t)
	pages, files := rpSample(t)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"reprocess", "no-such-doc"}, "no such document"},
		{[]string{"reprocess", "../x"}, "document ID"},
		{[]string{"reprocess", "x", "--lang", "en;rm"}, "language"},
	} {
		if r := e.colophon(tt.args...); r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("colophon %v: exit %d, stderr %q; want non-zero naming %q", tt.args, r.code, r.stderr, tt.want)
		}
	}

	// Pages still queued (no worker runs yet) are not queued a second time.
	e.mustRun(append([]string{"upload", "--source", "box 2", "--doc", "busy"}, files...)...)
	r := e.colophon("reprocess", "busy")
	if r.code != 1 || !strings.Contains(r.stderr, "page 1 (page-01.png): not queued again: version 1 is still queued") ||
		!strings.Contains(r.stderr, "page 2 (page-02.png)") {
		t.Errorf("reprocess of queued pages: exit %d:\n%s", r.code, r.stderr)
	}
	if r := e.colophon("reprocess", "busy", "--page", "3"); r.code == 0 || !strings.Contains(r.stderr, "no page 3") {
		t.Errorf("reprocess --page 3 of a 2-page document: exit %d: %s", r.code, r.stderr)
	}
	if n := e.rpBacklog(); n != 2 {
		t.Errorf("OCR queue holds %d jobs, want the upload's 2", n)
	}

	e.startWorkers()
	e.mustRun(append([]string{"upload", "--source", "box 2", "--doc", "busy", "--wait"}, files...)...)
	e.rpCheckOneReading("busy", 2)

	// A page whose file was refused at upload has no scan to read again; a page that failed
	// in the pipeline is read again (and here fails again, with --wait saying so).
	dir := t.TempDir()
	junk := filepath.Join(dir, "notes.txt")
	torn := filepath.Join(dir, "torn-scan.png")
	if err := os.WriteFile(junk, []byte("not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(torn, pages[1].PNG[:len(pages[1].PNG)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.colophon("upload", "--source", "box 5", "--doc", "mixed", "--wait", files[0], junk, torn); r.code == 0 {
		t.Fatalf("upload with a junk and a torn page exited 0")
	}
	r = e.rpWithin(60*time.Second, "reprocess", "mixed", "--wait")
	if r.code != 1 {
		t.Errorf("reprocess mixed: exit %d, want 1", r.code)
	}
	for _, want := range []string{
		"page 1 (page-01.png) queued as version 2",
		"page 2 (notes.txt): not queued again: no stored scan",
		"page 3 (torn-scan.png) queued as version 2",
		"page 3 (torn-scan.png), version 2:",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("reprocess mixed: stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	st := e.rpStatus("mixed")
	if v := []int{st.PageStates[0].Version, st.PageStates[1].Version, st.PageStates[2].Version}; !slices.Equal(v, []int{2, 0, 2}) {
		t.Errorf("versions after reprocess: %v, want [2 0 2]", v)
	}
	all := e.colophon("provenance", "mixed", "--all-versions")
	if all.code != 1 || !strings.Contains(all.stderr, "page 2 (notes.txt): no provenance record") || !strings.Contains(all.stderr, "page 3 (torn-scan.png): no provenance record") {
		t.Errorf("provenance --all-versions of mixed: exit %d: %s", all.code, all.stderr)
	}
	if recs := decodeJSON[[]pipeline.Provenance](t, all.stdout); len(recs) != 2 || recs[0].Version != 1 || recs[1].Version != 2 {
		t.Errorf("provenance --all-versions of mixed: %d records", len(recs))
	}
}

func rpMapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// rpFirstWords is the first few words of a text, to recognise a page by.
func rpFirstWords(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(2, len(f))], " ")
}

// TestReprocessDamagedScan: reprocess reads and hashes each page's stored scan before it
// queues anything: a scan rotten on MinIO's drive, or replaced in the store by other bytes,
// refuses that page up front, naming it and what is wrong, and the page keeps serving its
// verified version 1. A scan that rots after the page was queued again fails the new
// version on its first delivery ("scan … unreadable in the store", no retries), and the page
// still serves version 1, which status says. Uploading the file again mends the scan.
func TestReprocessDamagedScan(t *testing.T) {
	e := newEnv(t)
	pages, files := rpSample(t)
	drive := devstacktest.MinIODataDir(t, e.stack)

	// Version 1 of both pages, with workers that are then stopped.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if err := startWorkers(ctx, &wg, e.globals(), e.bus, e.store, []metadata.Option{metadata.WithSigner(testSigner(t))}, ocr.WithConcurrency(2)); err != nil {
		t.Fatal(err)
	}
	e.mustRun(append([]string{"upload", "--source", "box 8", "--doc", "rotten", "--wait"}, files...)...)
	e.mustRun("upload", "--source", "box 8", "--doc", "later", "--wait", files[0])
	laterV1 := e.mustRun("get", "later").stdout
	stop()
	wg.Wait()
	scanKey := func(page int) string {
		return pageStates(e, "rotten")[page-1].ScanKey
	}
	v1 := map[int]string{}
	for p := 1; p <= 2; p++ {
		v1[p] = e.mustRun("get", "rotten", "--page", fmt.Sprint(p)).stdout
	}

	for _, tt := range []struct {
		name   string
		page   int
		damage func(key string)
		want   string
	}{
		{"rotten on the drive", 1, func(key string) { devstacktest.Rot(t, drive, pipeline.BucketScans, key) }, "is unreadable in the store"},
		{"other bytes in the store", 2, func(key string) {
			if err := e.store.Put(context.Background(), pipeline.BucketScans, key, pages[0].PNG, "image/png", nil); err != nil {
				t.Fatal(err)
			}
		}, "is corrupt in the store: it hashes to " + objectstore.SHA256(pages[0].PNG)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key := scanKey(tt.page)
			tt.damage(key)
			r := e.rpWithin(60*time.Second, "reprocess", "rotten", "--page", fmt.Sprint(tt.page))
			want := fmt.Sprintf("rotten: page %d (page-%02d.png): not queued again: its scan %s %s", tt.page, tt.page, key, tt.want)
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("reprocess of a damaged scan: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
			}
			if n := e.rpBacklog(); n != 0 {
				t.Errorf("OCR queue holds %d job(s) after a refused reprocess, want 0", n)
			}
			p := e.rpStatus("rotten").PageStates[tt.page-1]
			if p.State != pipeline.StateDone || p.Version != 1 || p.Served != 1 {
				t.Errorf("page %d after the refused reprocess: %+v; want done, version 1, served 1", tt.page, p)
			}
			if got := e.mustRun("get", "rotten", "--page", fmt.Sprint(tt.page)).stdout; got != v1[tt.page] {
				t.Errorf("get --page %d after the refused reprocess: %q, want version 1's %q", tt.page, got, v1[tt.page])
			}
		})
	}

	// The other document: queued as version 2 while no worker runs (its scan still good), then
	// its scan rots before a worker reads it.
	r := e.mustRun("reprocess", "later", "--page", "1")
	if !strings.Contains(r.stderr, "page 1 (page-01.png) queued as version 2") {
		t.Fatalf("reprocess later --page 1:\n%s", r.stderr)
	}
	key := pageStates(e, "later")[0].ScanKey
	devstacktest.Rot(t, drive, pipeline.BucketScans, key)
	e.startWorkers()
	waitFor(t, 2*time.Minute, "later page 1 failed", func() bool { return pageStates(e, "later")[0].State == pipeline.StateFailed })
	p := e.rpStatus("later").PageStates[0]
	want := fmt.Sprintf("version 2 failed: page 1 (page-01.png): scan %s: object unreadable in the store", key)
	if p.Version != 2 || p.Served != 1 || !strings.HasPrefix(p.Error, want) || !strings.HasSuffix(p.Error, "; version 1 served") {
		t.Errorf("status of later page 1: %+v; want failed version 2, served 1, error %q … %q", p, want, "; version 1 served")
	}
	if !strings.Contains(e.mustRun("status", "later").stdout, "; version 1 served") {
		t.Errorf("status does not say version 1 is served")
	}
	logs := grepLines(e.logs.String(), "doc=later page=1 stage=ocr")
	if failed := grepLines(logs, "outcome=failed"); strings.Contains(logs, "outcome=retry") || !strings.Contains(failed, "attempt=1") {
		t.Errorf("the rotten scan should fail the page on its first delivery, with no retries:\n%s", logs)
	}
	if got := e.mustRun("get", "later", "--page", "1").stdout; got != laterV1 {
		t.Errorf("get after version 2 failed: %q, want version 1's %q", got, laterV1)
	}
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "later").stdout)
	if len(recs) != 1 || recs[0].Version != 1 {
		t.Errorf("provenance of later page 1: %+v; want the version 1 record", recs)
	}
	// And now it is refused up front.
	r = e.rpWithin(60*time.Second, "reprocess", "later", "--page", "1")
	if r.code != 1 || !strings.Contains(r.stderr, "not queued again: its scan "+key+" is unreadable in the store") {
		t.Errorf("reprocess of the rotten scan: exit %d:\n%s", r.code, r.stderr)
	}
	// Uploading the file again mends the scan and reads the page again, as version 3.
	r = e.rpWithin(2*time.Minute, "upload", "--source", "box 8", "--doc", "later", "--wait", files[0])
	if r.code != 0 {
		t.Fatalf("upload of the file again: exit %d:\n%s", r.code, r.stderr)
	}
	if p := e.rpStatus("later").PageStates[0]; p.State != pipeline.StateDone || p.Version != 3 || p.Served != 3 {
		t.Errorf("later page 1 after uploading its file again: %+v; want done, version 3", p)
	}
	if got := e.mustRun("get", "later").stdout; got != laterV1 {
		t.Errorf("get of version 3: %q, want the same text as version 1's %q", got, laterV1)
	}
}
