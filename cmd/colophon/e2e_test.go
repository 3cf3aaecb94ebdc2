package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestEndToEnd is the user's whole loop on the real parts: upload a two-page document with
// source and date, wait, read back verified text, check its fidelity and provenance, then
// tamper with a stored text and see get refuse it.
func TestEndToEnd(t *testing.T) {
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

	up := e.mustRun(append([]string{"upload", "--source", "Harbor Court Tenants' Association, box 3", "--date", "1974-03", "--wait"}, files...)...)
	doc := strings.TrimSpace(up.stdout)
	if err := pipeline.ValidateDocID(doc); err != nil || strings.Contains(up.stdout, " ") {
		t.Fatalf("upload stdout = %q: want the document ID alone (%v)", up.stdout, err)
	}
	if !strings.Contains(up.stderr, "all 2 page(s) done") {
		t.Errorf("upload --wait stderr does not report completion:\n%s", up.stderr)
	}

	// get: pages in order, separated by a form feed, each within 1% CER of what was rendered.
	got := e.mustRun("get", doc)
	texts := strings.Split(got.stdout, "\f")
	if len(texts) != len(pages) {
		t.Fatalf("get returned %d pages, want %d", len(texts), len(pages))
	}
	for i, p := range pages {
		cer := textmetrics.CER(texts[i], p.Text)
		t.Logf("page %d: CER %.4f", i+1, cer)
		if cer >= 0.01 {
			t.Errorf("page %d: CER %.4f, want under 0.01\ngot:\n%s\nwant:\n%s", i+1, cer, texts[i], p.Text)
		}
	}
	one := e.mustRun("get", doc, "--page", "2")
	if one.stdout != texts[1] {
		t.Errorf("get --page 2 differs from page 2 of get")
	}
	outFile := filepath.Join(t.TempDir(), "doc.txt")
	e.mustRun("get", doc, "-o", outFile)
	if b, err := os.ReadFile(outFile); err != nil || string(b) != got.stdout {
		t.Errorf("get -o wrote %q (%v), want what get printed", b, err)
	}

	// provenance: every field, checksums equal to the bytes actually in the store.
	prov := e.mustRun("provenance", doc)
	recs := decodeJSON[[]map[string]any](t, prov.stdout)
	if len(recs) != 2 {
		t.Fatalf("provenance has %d records, want 2", len(recs))
	}
	ctx := context.Background()
	for i, rec := range recs {
		for _, field := range []string{"doc", "page", "source", "date", "created", "scan.bucket", "scan.key", "scan.sha256", "scan.bytes",
			"text.bucket", "text.key", "text.sha256", "text.bytes", "ocr.engine", "ocr.engine_version", "ocr.languages", "ocr.mean_confidence", "ocr.worker",
			"uploader", "uploaded", "hocr.sha256", "alto.sha256", "pdf.sha256", "ocr.host", "ocr.recognised", "ocr.finished", "ocr.models",
			"ocr.leptonica_version", "ocr.gosseract_version", "ocr.colophon_version", "ocr.words", "ocr.scale.declared_dpi", "ocr.scale.why", "ocr.quality.verdict", "ocr.quality.score"} {
			if _, ok := lookup(rec, field); !ok {
				t.Errorf("record %d lacks %s", i+1, field)
			}
		}
		// The model is named by its file's hash; the versions of what read the page are there.
		if ms, _ := lookup(rec, "ocr.models"); fmt.Sprint(ms) == "" || !regexp.MustCompile(`name:eng\.traineddata sha256:[0-9a-f]{64}`).MatchString(fmt.Sprint(ms)) {
			t.Errorf("record %d: models %v, want eng.traineddata by SHA-256", i+1, ms)
		}
		if v, _ := lookup(rec, "ocr.gosseract_version"); v != "v2.4.1" {
			t.Errorf("record %d: gosseract version %v", i+1, v)
		}
		if v, _ := lookup(rec, "uploader"); !strings.Contains(fmt.Sprint(v), "@") {
			t.Errorf("record %d: uploader %v, want user@host", i+1, v)
		}
		want := map[string]any{"doc": doc, "page": float64(i + 1), "source": "Harbor Court Tenants' Association, box 3", "date": "1974-03", "ocr.engine": "tesseract"}
		for f, w := range want {
			if v, _ := lookup(rec, f); v != w {
				t.Errorf("record %d: %s = %v, want %v", i+1, f, v, w)
			}
		}
		created, _ := lookup(rec, "created")
		if ts, err := time.Parse(time.RFC3339, fmt.Sprint(created)); err != nil || ts.Location() != time.UTC || !strings.HasSuffix(fmt.Sprint(created), "Z") {
			t.Errorf("record %d: created %v is not RFC 3339 UTC", i+1, created)
		}
		if conf, _ := lookup(rec, "ocr.mean_confidence"); conf.(float64) <= 0 || conf.(float64) > 100 {
			t.Errorf("record %d: mean confidence %v outside (0,100]", i+1, conf)
		}
		if v, _ := lookup(rec, "ocr.engine_version"); !regexp.MustCompile(`^\d+\.\d+`).MatchString(fmt.Sprint(v)) {
			t.Errorf("record %d: engine version %v", i+1, v)
		}
		for _, part := range []string{"scan", "text"} {
			bucket, _ := lookup(rec, part+".bucket")
			key, _ := lookup(rec, part+".key")
			sum, _ := lookup(rec, part+".sha256")
			size, _ := lookup(rec, part+".bytes")
			obj, err := e.store.Get(ctx, fmt.Sprint(bucket), fmt.Sprint(key))
			if err != nil {
				t.Fatalf("record %d: %s object: %v", i+1, part, err)
			}
			if objectstore.SHA256(obj.Data) != sum || float64(len(obj.Data)) != size {
				t.Errorf("record %d: %s sha256 %v / %v bytes, store has %s / %d", i+1, part, sum, size, objectstore.SHA256(obj.Data), len(obj.Data))
			}
		}
		scanBytes, _ := os.ReadFile(files[i])
		if sum, _ := lookup(rec, "scan.sha256"); sum != objectstore.SHA256(scanBytes) {
			t.Errorf("record %d: scan sha256 %v is not the uploaded file's", i+1, sum)
		}
	}

	st := decodeJSON[client.Report](t, e.mustRun("status", doc, "--json").stdout)
	if st.Doc != doc || st.Pages != 2 || st.Done != 2 || st.Failed != 0 || len(st.PageStates) != 2 || st.PageStates[1].State != pipeline.StateDone {
		t.Errorf("status --json = %+v", st)
	}
	statusText := e.mustRun("status", doc).stdout
	if !strings.Contains(statusText, "2 done") {
		t.Errorf("status: %s", statusText)
	}

	// The logs tell each page's story: grep doc=X.
	for _, want := range []string{"page=1 stage=ocr outcome=ok", "page=2 stage=metadata outcome=ok", "stage=document outcome=completed"} {
		if !strings.Contains(grepLines(e.logs.String(), "doc="+doc), want) {
			t.Errorf("logs for doc=%s lack %q", doc, want)
		}
	}

	// Tamper: overwrite page 2's text in the store behind the pipeline's back.
	textKey, _ := lookup(recs[1], "text.key")
	oldSum, _ := lookup(recs[1], "text.sha256")
	forged := []byte("This text was altered after recognition.\n")
	if err := e.store.Put(ctx, pipeline.BucketTexts, fmt.Sprint(textKey), forged, "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	bad := e.colophon("get", doc)
	if bad.code != 1 || bad.stdout != "" {
		t.Fatalf("get after tampering: exit %d, stdout %q; want exit 1 and nothing on stdout", bad.code, bad.stdout)
	}
	for _, want := range []string{"page 2", fmt.Sprint(oldSum), objectstore.SHA256(forged)} {
		if !strings.Contains(bad.stderr, want) {
			t.Errorf("get after tampering: stderr lacks %q:\n%s", want, bad.stderr)
		}
	}
	if strings.Contains(bad.stderr, "page 1:") {
		t.Errorf("get blames page 1, which is intact:\n%s", bad.stderr)
	}
	tamperedOut := filepath.Join(t.TempDir(), "tampered.txt")
	if r := e.colophon("get", doc, "-o", tamperedOut); r.code != 1 {
		t.Errorf("get -o after tampering: exit %d, want 1", r.code)
	}
	if _, err := os.Stat(tamperedOut); !os.IsNotExist(err) {
		t.Errorf("get -o after tampering wrote %s", tamperedOut)
	}
	// The intact page is still served on its own.
	if r := e.mustRun("get", doc, "--page", "1"); r.stdout != texts[0] {
		t.Errorf("get --page 1 after page 2 was tampered: %q", r.stdout)
	}
}

// TestUploadWaitNamesFailedPage: a page that cannot be read fails in the pipeline with a
// reason naming it and its file; the good page completes; upload --wait exits non-zero.
func TestUploadWaitNamesFailedPage(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := sample.WriteFiles(dir, pages[:1])
	if err != nil {
		t.Fatal(err)
	}
	// A PNG cut short: its header reads, so upload takes it; its pixels do not.
	truncated := filepath.Join(dir, "torn-scan.png")
	if err := os.WriteFile(truncated, pages[1].PNG[:len(pages[1].PNG)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.colophon("upload", "--source", "box 7", "--doc", "torn", "--wait", files[0], truncated)
	if r.code == 0 {
		t.Fatalf("upload --wait with an unreadable page exited 0\nstderr: %s", r.stderr)
	}
	if strings.TrimSpace(r.stdout) != "torn" {
		t.Errorf("stdout = %q, want the document ID", r.stdout)
	}
	if !regexp.MustCompile(`page 2 \(torn-scan\.png\): .*(corrupt|truncated)`).MatchString(r.stderr) {
		t.Errorf("stderr does not name page 2, its file and the reason:\n%s", r.stderr)
	}
	st := decodeJSON[client.Report](t, e.mustRun("status", "torn", "--json").stdout)
	if st.Done != 1 || st.Failed != 1 || st.PageStates[1].State != pipeline.StateFailed || !strings.Contains(st.PageStates[1].Error, "torn-scan.png") {
		t.Errorf("status = %+v", st)
	}
	if !strings.Contains(grepLines(e.logs.String(), "doc=torn"), "page=2 stage=ocr outcome=failed") {
		t.Errorf("logs lack the failure of page 2:\n%s", grepLines(e.logs.String(), "doc=torn"))
	}
	// get refuses the document as a whole but names the failed page.
	g := e.colophon("get", "torn")
	if g.code != 1 || g.stdout != "" || !strings.Contains(g.stderr, "page 2 (torn-scan.png)") {
		t.Errorf("get of a document with a failed page: exit %d, stdout %q, stderr %s", g.code, g.stdout, g.stderr)
	}
}

// TestUploadRefusesBeforeStoring: bad arguments are refused with a clear message, and
// nothing reaches the store or the queue.
func TestUploadRefusesBeforeStoring(t *testing.T) {
	e := newEnv(t)
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	files, err := sample.WriteFiles(t.TempDir(), pages[:1])
	if err != nil {
		t.Fatal(err)
	}
	good := files[0]
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad date", []string{"--source", "s", "--date", "March 1974", good}, "date"},
		{"impossible date", []string{"--source", "s", "--date", "1974-02-30", good}, "date"},
		{"doc with slash", []string{"--source", "s", "--doc", "a/b", good}, "document ID"},
		{"doc with dots", []string{"--source", "s", "--doc", "..", good}, "document ID"},
		{"doc too long", []string{"--source", "s", "--doc", strings.Repeat("x", 129), good}, "document ID"},
		{"doc with control character", []string{"--source", "s", "--doc", "box\x1b[2J", good}, "document ID"},
		{"doc with backslash", []string{"--source", "s", "--doc", `a\b`, good}, "document ID"},
		{"missing file", []string{"--source", "s", good, "/nonexistent/scan.png"}, "/nonexistent/scan.png"},
		{"directory", []string{"--source", "s", t.TempDir()}, "not a regular file"},
		{"no source", []string{good}, "--source"},
		{"source too long", []string{"--source", strings.Repeat("s", 1025), good}, "--source"},
		{"bad language", []string{"--source", "s", "--lang", "en;rm", good}, "language"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.colophon(append([]string{"upload"}, tt.args...)...)
			if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want non-zero, nothing on stdout, stderr naming %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
	keys, err := e.store.List(context.Background(), pipeline.BucketScans, "")
	if err != nil || len(keys) != 0 {
		t.Errorf("refused uploads stored %v (%v)", keys, err)
	}
}

// TestHealth: unhealthy without workers (and says why), healthy once they announce themselves.
func TestHealth(t *testing.T) {
	e := newEnv(t)
	r := e.colophon("health")
	if r.code == 0 || !strings.Contains(r.stdout, "ocr workers:") || !strings.Contains(r.stdout, "none alive") {
		t.Fatalf("health without workers: exit %d\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "nats:             ok") || !strings.Contains(r.stdout, "s3:               ok") {
		t.Errorf("health should report NATS and S3 up:\n%s", r.stdout)
	}
	e.startWorkers()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r = e.colophon("health")
		if r.code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never became ok:\n%s", r.stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Count(r.stdout, "ok") != 5 { // s3, nats and three kinds of worker
		t.Errorf("health output:\n%s", r.stdout)
	}
}

// TestCommandsNeedCredentials: commands other than dev have no built-in keys.
func TestCommandsNeedCredentials(t *testing.T) {
	t.Setenv(envAccessKey, "")
	t.Setenv(envSecretKey, "")
	e := &env{t: t}
	bag := filepath.Join(t.TempDir(), "bag")
	for _, args := range [][]string{{"health"}, {"status", "x"}, {"get", "x"}, {"provenance", "x"}, {"export", "x", "--bagit", bag}, {"worker", "metadata"}, {"watch", "x"}} {
		r := e.colophon(args...)
		if r.code == 0 || !strings.Contains(r.stderr, envAccessKey) {
			t.Errorf("colophon %v without keys: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestUnknownDocument(t *testing.T) {
	e := newEnv(t)
	for _, cmd := range []string{"status", "get", "provenance"} {
		r := e.colophon(cmd, "no-such-doc")
		if r.code == 0 || !strings.Contains(r.stderr, "no-such-doc") || !strings.Contains(r.stderr, "no such document") {
			t.Errorf("%s of an unknown document: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}

// lookup reads a dotted path ("scan.sha256") from decoded JSON.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
