package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestS3NativeIngest drops scans straight into the scans bucket, as mc or aws s3 cp would,
// on the real parts (MinIO publishing to the embedded NATS, the workers, Tesseract): a scan
// with source and date metadata becomes a done page whose verified text get returns and
// whose record has that source and date; the same event again, or the object PUT again
// unchanged, makes no second page; objects of one document dropped at once get distinct
// pages; bad keys are refused with a failure naming them and the worker goes on; and
// colophon upload works beside it, its own stored scans left alone.
func TestS3NativeIngest(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	ctx := context.Background()
	s3 := rawS3(t, e)
	in, err := e.bus.OpenIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The ingest worker turns the bucket's notification on before it announces itself.
	waitFor(t, 30*time.Second, "an ingest worker", func() bool {
		ws, _ := e.bus.LiveWorkers(ctx)
		return slices.ContainsFunc(ws, func(w bus.WorkerInfo) bool { return w.Kind == pipeline.WorkerIngest })
	})

	texts := []string{
		"HARBOR COURT TENANTS' ASSOCIATION\nMinutes of the general meeting, March 1974.",
		"The rent strike goes on until the landlord repairs the boilers.",
		"Members voted to print five hundred leaflets for the march.",
		"The treasurer reported forty dollars in the strike fund.",
		"Next meeting on Thursday at the community hall.",
	}
	pngs := make([][]byte, len(texts))
	for i, text := range texts {
		pages, err := sample.Render(text, sample.WithPageSize(1748, 600)) // small pages: a quick read
		if err != nil {
			t.Fatal(err)
		}
		pngs[i], texts[i] = pages[0].PNG, pages[0].Text // the text as drawn, lines wrapped
	}
	source, date := "Harbor Court Tenants' Association, box 3", "1974-03"
	meta := map[string]string{"source": source, "date": date}

	// 1. One scan, put with minio-go and metadata, becomes page 1 of "tenants".
	first := put(t, s3, "tenants/minutes 1.png", pngs[0], meta)
	st := waitPages(t, e, "tenants", 1)
	if st.Source != source || st.Date != date || st.PageStates[0].State != pipeline.StateDone || st.PageStates[0].File != "minutes 1.png" {
		t.Fatalf("status of the ingested document: %+v", st)
	}
	got := e.mustRun("get", "tenants").stdout
	if cer := textmetrics.CER(got, texts[0]); cer >= 0.02 {
		t.Errorf("get: CER %.4f\ngot:\n%s\nwant:\n%s", cer, got, texts[0])
	}
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "tenants").stdout)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.Source != source || rec.Date != date || rec.FileName != "minutes 1.png" || rec.Uploader != "s3:"+devstacktest.AccessKey {
		t.Errorf("record: source %q, date %q, file %q, uploader %q", rec.Source, rec.Date, rec.FileName, rec.Uploader)
	}
	// The record's scan is a copy in Colophon's own layout whose bytes hash to what it says:
	// the object dropped may be replaced, the record's scan may not.
	if rec.Scan.SHA256 != objectstore.SHA256(pngs[0]) || rec.Scan.Key != pipeline.ScanKey("tenants", 1, rec.Scan.SHA256, "png") {
		t.Errorf("record scan %+v: want the dropped bytes under ScanKey", rec.Scan)
	}
	if obj, err := e.store.Get(ctx, rec.Scan.Bucket, rec.Scan.Key); err != nil || objectstore.SHA256(obj.Data) != rec.Scan.SHA256 {
		t.Errorf("record's scan object: %v", err)
	}
	if r := e.colophon("verify", "tenants"); r.code != 0 {
		t.Errorf("verify tenants: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// 2. The same event delivered again, and the object PUT again unchanged: no second page.
	replayEvent(t, e, "tenants/minutes 1.png", first)
	waitLog(t, e, "already ingested as pages 1 to 1")
	put(t, s3, "tenants/minutes 1.png", pngs[0], meta)
	waitLog(t, e, "unchanged: the same bytes as version "+first.VersionID)

	// 3. Bad keys, and a new document without a source: refused, each failure naming its
	// key, and the worker goes on.
	put(t, s3, "loose-scan.png", pngs[1], meta)
	put(t, s3, "not a doc!/scan.png", pngs[1], meta)
	put(t, s3, "nosource/scan.png", pngs[1], nil)
	var fails []pipeline.IngestEntry
	waitFor(t, 60*time.Second, "three ingest failures", func() bool {
		fails, _ = in.Failures(ctx)
		return len(fails) == 3
	})
	for _, want := range []struct{ key, says string }{
		{"loose-scan.png", "no '/'"},
		{"not a doc!/scan.png", "document ID"},
		{"nosource/scan.png", "x-amz-meta-source"},
	} {
		i := slices.IndexFunc(fails, func(f pipeline.IngestEntry) bool { return f.Key == want.key })
		if i < 0 {
			t.Errorf("no failure for %q: %+v", want.key, fails)
			continue
		}
		if f := fails[i]; f.State != pipeline.IngestFailed || !strings.Contains(f.Error, "s3://colophon-scans/"+want.key) || !strings.Contains(f.Error, want.says) {
			t.Errorf("failure for %q: %+v", want.key, f)
		}
		if !strings.Contains(e.logs.String(), "s3://colophon-scans/"+want.key) {
			t.Errorf("no log line names %q", want.key)
		}
	}
	list := e.mustRun("ingest-failures").stdout
	for _, want := range []string{"loose-scan.png", "not a doc!/scan.png", "nosource/scan.png", "3 object(s) refused"} {
		if !strings.Contains(list, want) {
			t.Errorf("ingest-failures lacks %q:\n%s", want, list)
		}
	}
	if r := e.colophon("status", "nosource"); r.code == 0 {
		t.Errorf("a document was made without a source:\n%s", r.stdout)
	}

	// 4. Three scans of one document dropped at once (no metadata: they take the
	// document's) become pages 2 to 4, one each; and colophon upload runs beside them.
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Go(func() { put(t, s3, fmt.Sprintf("tenants/minutes %d.png", i+1), pngs[i], nil) })
	}
	upFile := filepath.Join(t.TempDir(), "uploaded.png")
	if err := os.WriteFile(upFile, pngs[4], 0o644); err != nil {
		t.Fatal(err)
	}
	up := e.mustRun("upload", "--doc", "uploaded", "--source", "box 9", "--wait", upFile)
	wg.Wait()
	if !strings.Contains(up.stderr, "all 1 page(s) done") {
		t.Errorf("upload beside ingest:\n%s", up.stderr)
	}
	st = waitPages(t, e, "tenants", 4)
	var files []string
	for _, p := range st.PageStates {
		files = append(files, p.File)
	}
	if st.Pages != 4 || st.Done != 4 || !slices.Equal(sortedCopy(files), []string{"minutes 1.png", "minutes 2.png", "minutes 3.png", "minutes 4.png"}) {
		t.Errorf("tenants after three at once: %+v", st)
	}
	got = e.mustRun("get", "tenants").stdout
	for i, page := range strings.Split(got, "\f") {
		var k int
		if _, err := fmt.Sscanf(files[i], "minutes %d.png", &k); err != nil || k < 1 || k > 4 {
			t.Errorf("page %d is file %q", i+1, files[i])
			continue
		}
		if cer := textmetrics.CER(page, texts[k-1]); cer >= 0.02 {
			t.Errorf("page %d (%s): CER %.4f\ngot:\n%s\nwant:\n%s", i+1, files[i], cer, page, texts[k-1])
		}
	}

	// Nothing Colophon stored was taken for a new scan: the upload is one page, ingest's
	// copies made no pages, no document came of a stored scan's key, and the only failures
	// are the three above.
	if st := decodeJSON[client.Report](t, e.mustRun("status", "uploaded", "--json").stdout); st.Pages != 1 || st.Done != 1 {
		t.Errorf("uploaded: %+v", st)
	}
	time.Sleep(4 * time.Second) // the last events of the copies and of the upload (MinIO sends queued events every 3 s)
	if fails, _ := in.Failures(ctx); len(fails) != 3 {
		t.Errorf("failures: %+v", fails)
	}
	if st := decodeJSON[client.Report](t, e.mustRun("status", "tenants", "--json").stdout); st.Pages != 4 {
		t.Errorf("tenants grew to %d pages", st.Pages)
	}
	if !strings.Contains(e.logs.String(), "reason=\"a scan Colophon stored\"") {
		t.Errorf("the ingest worker never saw a stored scan's event")
	}
}

// put writes an object straight into the scans bucket with minio-go, as mc or aws s3 cp would.
func put(t *testing.T, c *minio.Client, key string, data []byte, meta map[string]string) minio.UploadInfo {
	t.Helper()
	info, err := c.PutObject(context.Background(), pipeline.BucketScans, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "image/png", UserMetadata: meta})
	if err != nil {
		t.Errorf("put %s: %v", key, err)
	}
	return info
}

// replayEvent publishes again the event MinIO published for a PUT: the same bucket, key,
// version and ETag, as a redelivery would bring it.
func replayEvent(t *testing.T, e *env, key string, info minio.UploadInfo) {
	t.Helper()
	ev := fmt.Sprintf(`{"EventName":"s3:ObjectCreated:Put","Key":"%s/%s","Records":[{"eventVersion":"2.0","eventSource":"minio:s3",
"eventTime":"%s","eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"%s"},
"s3":{"bucket":{"name":"%s"},"object":{"key":"%s","size":%d,"eTag":"%s","versionId":"%s","userMetadata":{"X-Amz-Meta-Source":"x"}}}}]}`,
		pipeline.BucketScans, key, time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), devstacktest.AccessKey,
		pipeline.BucketScans, url.QueryEscape(key), info.Size, info.ETag, info.VersionID)
	if _, err := e.bus.JS.Publish(context.Background(), pipeline.SubjectS3Events, []byte(ev)); err != nil {
		t.Fatal(err)
	}
}

// waitPages waits until doc has n pages, all done or failed.
func waitPages(t *testing.T, e *env, doc string, n int) client.Report {
	t.Helper()
	var st client.Report
	waitFor(t, 3*time.Minute, fmt.Sprintf("%s to have %d finished pages", doc, n), func() bool {
		r := e.colophon("status", doc, "--json")
		if r.code != 0 {
			return false
		}
		st = decodeJSON[client.Report](t, r.stdout)
		return st.Pages >= n && st.Complete
	})
	return st
}

func waitLog(t *testing.T, e *env, s string) {
	t.Helper()
	waitFor(t, 60*time.Second, "a log line saying "+s, func() bool { return strings.Contains(e.logs.String(), s) })
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
