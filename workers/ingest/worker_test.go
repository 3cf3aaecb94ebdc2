package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// rig is a worker on a real NATS and MinIO with no OCR worker: pages stay queued, which is
// all these tests look at.
type rig struct {
	t     *testing.T
	ctx   context.Context
	w     *Worker
	store *objectstore.Store
	log   *slog.Logger
}

func newRig(t *testing.T) *rig {
	t.Helper()
	stack := devstacktest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	b, err := bus.Connect(ctx, stack.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.EnsureTopology(ctx); err != nil {
		t.Fatal(err)
	}
	store, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBuckets(ctx, pipeline.Buckets...); err != nil {
		t.Fatal(err)
	}
	log := devstacktest.Logger(t)
	w, err := New(ctx, b, store, WithLogger(log), WithBucketNotification(false))
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, ctx: ctx, w: w, store: store, log: log}
}

// drop stores a distinct small PNG under key and returns the event MinIO would publish.
func (r *rig) drop(key string, n int, meta map[string]string) pipeline.S3Event {
	r.t.Helper()
	img := image.NewGray(image.Rect(0, 0, 120, 80))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.SetGray(n%120, n/120, color.Gray{}) // a different image for each n
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		r.t.Fatal(err)
	}
	if err := r.store.Put(r.ctx, pipeline.BucketScans, key, buf.Bytes(), "image/png", meta); err != nil {
		r.t.Fatal(err)
	}
	var ev pipeline.S3Event
	ev.EventName = "s3:ObjectCreated:Put"
	ev.UserIdentity.PrincipalID = devstacktest.AccessKey
	ev.S3.Bucket.Name = pipeline.BucketScans
	ev.S3.Object.Key = url.QueryEscape(key)
	ev.S3.Object.ETag = fmt.Sprintf("etag-%d", n)
	return ev
}

// ingest handles ev as one delivery would.
func (r *rig) ingest(ev pipeline.S3Event) outcome {
	r.t.Helper()
	out, err := r.w.object(r.ctx, ev, "test/"+rand.Text(), r.log)
	if err != nil {
		r.t.Fatalf("object(%s): %v", ev.S3.Object.Key, err)
	}
	return out
}

func (r *rig) doc(doc string) (pipeline.DocumentStatus, uint64) {
	r.t.Helper()
	d, rev, err := r.w.status.DocumentRevision(r.ctx, doc)
	if err != nil {
		r.t.Fatal(err)
	}
	return d, rev
}

// TestConcurrentObjectsGetDistinctPages: objects of one document taken at once, and the
// same event taken twice at once, make one page each.
func TestConcurrentObjectsGetDistinctPages(t *testing.T) {
	r := newRig(t)
	const n = 6
	evs := make([]pipeline.S3Event, n)
	for i := range n {
		evs[i] = r.drop(fmt.Sprintf("burst/p%d.png", i), i, map[string]string{"source": "box 1"})
	}
	var wg sync.WaitGroup
	kinds := make([]string, 2*n)
	for i := range 2 * n { // every event twice, as two deliveries taken at once
		wg.Go(func() {
			owner := fmt.Sprintf("handler-%d", i)
			// A twin finds the other at work and waits, retrying as bus.Retry does.
			for try := 0; ; try++ {
				out, err := r.w.object(r.ctx, evs[i%n], owner, r.log)
				if err == nil {
					kinds[i] = out.kind
					return
				}
				if bus.IsPermanent(err) || try == 100 {
					t.Errorf("event %d: %v", i%n, err)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i := range n {
		got := []string{kinds[i], kinds[i+n]}
		slices.Sort(got)
		if !slices.Equal(got, []string{pipeline.OutcomeOK, pipeline.OutcomeSkipped}) {
			t.Errorf("event %d taken twice: %v, want one %s and one %s", i, got, pipeline.OutcomeOK, pipeline.OutcomeSkipped)
		}
	}
	d, _ := r.doc("burst")
	if d.Pages != n || d.Source != "box 1" {
		t.Fatalf("document %+v, want %d pages", d, n)
	}
	files := map[string]int{}
	for p := 1; p <= n; p++ {
		ps, found, err := r.w.status.Page(r.ctx, "burst", p)
		if err != nil || !found || ps.State != pipeline.StateQueued {
			t.Fatalf("page %d: %+v, %v, %v", p, ps, found, err)
		}
		files[ps.FileName]++
	}
	for i := range n {
		if f := fmt.Sprintf("p%d.png", i); files[f] != 1 {
			t.Errorf("%s is %d pages, want 1 (%v)", f, files[f], files)
		}
	}
}

// TestResumeAfterCrash: a worker that died between claiming pages on the document's entry
// and recording that it had leaves the claim in its ingest entry; the redelivery finishes it
// without claiming more pages. A claim the document's entry never took is made again.
func TestResumeAfterCrash(t *testing.T) {
	r := newRig(t)
	r.w.cfg.claimLease = 0 // the claims below are a dead worker's
	meta := map[string]string{"source": "box 2", "date": "1974"}
	first := r.ingest(r.drop("box2/a.png", 1, meta))
	if first.kind != pipeline.OutcomeOK || first.first != 1 {
		t.Fatalf("first object: %+v", first)
	}

	// Died after the document's entry took the claim (pages 2) and before anything else.
	ev := r.drop("box2/b.png", 2, meta)
	key := pipeline.IngestObjectKey(pipeline.BucketScans, "box2/b.png")
	obj, err := r.store.Get(r.ctx, pipeline.BucketScans, "box2/b.png")
	if err != nil {
		t.Fatal(err)
	}
	_, before := r.doc("box2")
	claim := pipeline.IngestEntry{Bucket: pipeline.BucketScans, Key: "box2/b.png", ETag: ev.S3.Object.ETag, SHA256: objectstore.SHA256(obj.Data),
		Doc: "box2", FirstPage: 2, Pages: 1, State: pipeline.IngestAllocating, DocRevision: before}
	if _, err := r.w.ingest.Write(r.ctx, key, claim, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.w.status.UpdateDocument(r.ctx, "box2", func(d *pipeline.DocumentStatus, _ uint64, _ bool) error { d.Pages = 2; return nil }); err != nil {
		t.Fatal(err)
	}
	out := r.ingest(ev)
	if d, _ := r.doc("box2"); out.kind != pipeline.OutcomeOK || out.first != 2 || d.Pages != 2 {
		t.Fatalf("resumed: %+v, document has %d pages; want page 2 and 2 pages", out, d.Pages)
	}
	if p, _, _ := r.w.status.Page(r.ctx, "box2", 2); p.FileName != "b.png" || p.State != pipeline.StateQueued {
		t.Errorf("page 2: %+v", p)
	}
	if again := r.ingest(ev); again.kind != pipeline.OutcomeSkipped {
		t.Errorf("the event once more: %+v", again)
	}

	// Died after writing its claim, before the document's entry took it.
	ev = r.drop("box2/c.png", 3, meta)
	obj, err = r.store.Get(r.ctx, pipeline.BucketScans, "box2/c.png")
	if err != nil {
		t.Fatal(err)
	}
	_, now := r.doc("box2")
	claim = pipeline.IngestEntry{Bucket: pipeline.BucketScans, Key: "box2/c.png", ETag: ev.S3.Object.ETag, SHA256: objectstore.SHA256(obj.Data),
		Doc: "box2", FirstPage: 3, Pages: 1, State: pipeline.IngestAllocating, DocRevision: now}
	if _, err := r.w.ingest.Write(r.ctx, pipeline.IngestObjectKey(pipeline.BucketScans, "box2/c.png"), claim, 0); err != nil {
		t.Fatal(err)
	}
	out = r.ingest(ev)
	if d, _ := r.doc("box2"); out.kind != pipeline.OutcomeOK || out.first != 3 || d.Pages != 3 {
		t.Fatalf("claim made again: %+v, document has %d pages; want page 3 and 3 pages", out, d.Pages)
	}
}

// TestRefusals: what cannot be taken is refused for good with a reason naming the object,
// and nothing is claimed; a corrected version of a refused object is taken.
func TestRefusals(t *testing.T) {
	r := newRig(t)
	r.ingest(r.drop("box3/a.png", 1, map[string]string{"source": "box 3"}))
	for _, tt := range []struct {
		key  string
		meta map[string]string
		says string
	}{
		{"box3/b.png", map[string]string{"source": "box 4"}, `exists with source "box 3"`},
		{"box3/c.png", map[string]string{"date": "March 1974"}, "x-amz-meta-date"},
		{"box3/d.png", map[string]string{"lang": "eng;fra"}, "x-amz-meta-lang"},
		{"box4/x.png", nil, "x-amz-meta-source"},
		{"loose.png", map[string]string{"source": "s"}, "no '/'"},
	} {
		_, err := r.w.object(r.ctx, r.drop(tt.key, 9, tt.meta), "test", r.log)
		if err == nil || !bus.IsPermanent(err) || !bytes.Contains([]byte(err.Error()), []byte(tt.says)) {
			t.Errorf("%s: %v, want a refusal saying %q", tt.key, err, tt.says)
		}
	}
	if d, _ := r.doc("box3"); d.Pages != 1 {
		t.Errorf("refused objects claimed pages: %d", d.Pages)
	}
	// The same key with what was missing: taken.
	ev := r.drop("box3/b.png", 10, map[string]string{"source": "box 3"})
	if out := r.ingest(ev); out.kind != pipeline.OutcomeOK || out.first != 2 {
		t.Errorf("corrected object: %+v", out)
	}
	// Other bytes under a key already taken: refused, the page keeps its scan.
	ev = r.drop("box3/b.png", 11, nil)
	if _, err := r.w.object(r.ctx, ev, "test", r.log); err == nil || !bus.IsPermanent(err) || !bytes.Contains([]byte(err.Error()), []byte("never replaced")) {
		t.Errorf("changed object: %v", err)
	}
	// A stored scan's key with no metadata, and events that create nothing: left alone.
	stored := r.drop(pipeline.ScanKey("box3", 1, objectstore.SHA256([]byte("x")), "png"), 12, nil)
	tagging := r.drop("box3/e.png", 13, map[string]string{"source": "box 3"})
	tagging.EventName = "s3:ObjectCreated:PutTagging"
	for _, ev := range []pipeline.S3Event{stored, tagging} {
		if out := r.ingest(ev); out.kind != "ignored" {
			t.Errorf("%s %s: %+v", ev.EventName, ev.S3.Object.Key, out)
		}
	}
	if d, _ := r.doc("box3"); d.Pages != 2 {
		t.Errorf("document has %d pages, want 2", d.Pages)
	}
}
