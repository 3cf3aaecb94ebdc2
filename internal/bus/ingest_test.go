package bus

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

// TestUpdateDocumentClaimsDistinctPages: writers appending pages to one document at once,
// as ingest workers do, each get their own page numbers and none is lost.
func TestUpdateDocumentClaimsDistinctPages(t *testing.T) {
	s, ctx := openStatus(t)
	const writers, each = 8, 3
	firsts := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, _, err := s.UpdateDocument(ctx, "burst", func(d *pipeline.DocumentStatus, _ uint64, found bool) error {
				if !found {
					d.Source = "box 1"
				}
				firsts[i] = d.Pages + 1
				d.Pages += each
				return nil
			})
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	d, err := s.Document(ctx, "burst")
	if err != nil {
		t.Fatal(err)
	}
	if d.Pages != writers*each || d.Source != "box 1" {
		t.Fatalf("document = %+v, want %d pages", d, writers*each)
	}
	seen := map[int]bool{}
	for i, f := range firsts {
		if f < 1 || (f-1)%each != 0 || seen[f] {
			t.Errorf("writer %d claimed pages from %d (all: %v)", i, f, firsts)
		}
		seen[f] = true
	}
}

func TestUpdateDocumentUnchangedAndErrors(t *testing.T) {
	s, ctx := openStatus(t)
	if _, rev, err := s.UpdateDocument(ctx, "d", func(*pipeline.DocumentStatus, uint64, bool) error { return ErrUnchanged }); err != nil || rev != 0 {
		t.Fatalf("unchanged on a missing document: rev %d, %v", rev, err)
	}
	if _, err := s.Document(ctx, "d"); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("ErrUnchanged wrote the document: %v", err)
	}
	_, rev, err := s.UpdateDocument(ctx, "d", func(d *pipeline.DocumentStatus, _ uint64, _ bool) error { d.Pages = 2; return nil })
	if err != nil || rev == 0 {
		t.Fatalf("create: rev %d, %v", rev, err)
	}
	_, rev2, err := s.DocumentRevision(ctx, "d")
	if err != nil || rev2 != rev {
		t.Fatalf("DocumentRevision = %d, %v; UpdateDocument wrote %d", rev2, err, rev)
	}
	boom := errors.New("boom")
	if _, _, err := s.UpdateDocument(ctx, "d", func(*pipeline.DocumentStatus, uint64, bool) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("mutate's error: got %v", err)
	}
}

func TestIngestEntries(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)
	in, err := b.OpenIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := pipeline.IngestObjectKey(pipeline.BucketScans, "box/p1.png")
	e := pipeline.IngestEntry{Bucket: pipeline.BucketScans, Key: "box/p1.png", State: pipeline.IngestAllocating}
	rev, err := in.Write(ctx, key, e, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Write(ctx, key, e, 0); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	e.State = pipeline.IngestQueued
	if _, err := in.Write(ctx, key, e, rev+7); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
	if _, err := in.Write(ctx, key, e, rev); err != nil {
		t.Fatal(err)
	}
	got, _, found, err := in.Get(ctx, key)
	if err != nil || !found || got.State != pipeline.IngestQueued || got.Key != "box/p1.png" {
		t.Fatalf("Get = %+v, %v, %v", got, found, err)
	}
	for _, k := range []string{"loose.png", "bad id/x.png"} {
		f := pipeline.IngestEntry{Bucket: pipeline.BucketScans, Key: k, State: pipeline.IngestFailed, Error: "no"}
		if err := in.Put(context.Background(), pipeline.IngestFailureKey(f.Bucket, k, "v1", "e"), f); err != nil {
			t.Fatal(err)
		}
	}
	fails, err := in.Failures(ctx)
	if err != nil || len(fails) != 2 || fails[0].Key != "loose.png" || fails[1].Key != "bad id/x.png" {
		t.Fatalf("Failures = %+v, %v", fails, err)
	}
}
