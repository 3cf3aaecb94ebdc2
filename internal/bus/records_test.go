package bus

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

func entry(doc string, page int, head ChainHead) pipeline.RecordEntry {
	e := pipeline.RecordEntry{Doc: doc, RecordRef: pipeline.RecordRef{Page: page, Version: 1, Key: pipeline.ProvenanceKey(doc, page, 1),
		SHA256: fmt.Sprintf("%064x", page)}, Seq: head.Entry.Seq + 1}
	if head.LogSeq != 0 {
		prev := head.Entry.RecordRef
		e.Prev = &prev
	}
	return e
}

func TestRecordLog(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)

	head, err := b.RecordHead(ctx, "doc-a")
	if err != nil || head.LogSeq != 0 {
		t.Fatalf("empty log: head %+v, %v", head, err)
	}
	// Two documents interleaved: each chain sees only its own entries.
	for page := 1; page <= 3; page++ {
		for _, doc := range []string{"doc-a", "doc-b"} {
			h, err := b.RecordHead(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.AppendRecord(ctx, entry(doc, page, h), h); err != nil {
				t.Fatalf("append %s page %d: %v", doc, page, err)
			}
		}
	}
	got, err := b.RecordEntries(ctx, "doc-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("doc-a has %d entries, want 3", len(got))
	}
	for i, e := range got {
		if e.Doc != "doc-a" || e.Page != i+1 || e.Seq != i+1 || (i > 0 && e.Prev.SHA256 != got[i-1].SHA256) {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if e, found, err := b.RecordEntry(ctx, "doc-b", 2, 1); err != nil || !found || e.Page != 2 || e.Doc != "doc-b" {
		t.Errorf("entry of doc-b page 2: %+v %v %v", e, found, err)
	}
	if _, found, err := b.RecordEntry(ctx, "doc-b", 9, 1); err != nil || found {
		t.Errorf("entry of a page never recorded: found %v, %v", found, err)
	}
	docs, err := b.RecordDocs(ctx)
	slices.Sort(docs)
	if err != nil || !slices.Equal(docs, []string{"doc-a", "doc-b"}) {
		t.Errorf("docs %v, %v", docs, err)
	}

	// An append from a stale head is refused, whether the chain is empty or not.
	stale := ChainHead{}
	if err := b.AppendRecord(ctx, entry("doc-a", 4, stale), stale); !errors.Is(err, ErrChainMoved) {
		t.Errorf("append on a stale (empty) head: %v, want ErrChainMoved", err)
	}
	h, _ := b.RecordHead(ctx, "doc-a")
	old := ChainHead{Entry: got[1], LogSeq: h.LogSeq - 2}
	if err := b.AppendRecord(ctx, entry("doc-a", 4, old), old); !errors.Is(err, ErrChainMoved) {
		t.Errorf("append on a stale head: %v, want ErrChainMoved", err)
	}

	// The log keeps what it was given: deleting or purging through the API is refused.
	s, err := b.JS.Stream(ctx, pipeline.StreamRecords)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMsg(ctx, 1); err == nil {
		t.Error("a record log entry was deleted")
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(pipeline.RecordsFilter("doc-a"))); err == nil {
		t.Error("the record log was purged")
	}
	if n, _ := b.RecordEntries(ctx, "doc-a"); len(n) != 3 {
		t.Errorf("doc-a has %d entries after the refused delete and purge, want 3", len(n))
	}
}

// Concurrent appenders to one document: each append that wins extends the chain by one; the
// losers are told, and retry from the new head. The chain ends with every page once, in a
// line.
func TestRecordLogConcurrentAppends(t *testing.T) {
	checkConcurrentAppends(t, startBus(t, true))
}

// checkConcurrentAppends appends a record for each of 12 pages of one document at once,
// each retrying from a new head when the chain moved, and checks the chain holds every
// page once, in one line.
func checkConcurrentAppends(t *testing.T, b *Bus) {
	t.Helper()
	ctx := testCtx(t)
	const pages = 12
	var wg sync.WaitGroup
	errs := make(chan error, pages)
	for page := 1; page <= pages; page++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				h, err := b.RecordHead(ctx, "doc")
				if err != nil {
					errs <- err
					return
				}
				err = b.AppendRecord(ctx, entry("doc", page, h), h)
				if errors.Is(err, ErrChainMoved) {
					continue
				}
				if err != nil {
					errs <- err
				}
				return
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := b.RecordEntries(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != pages {
		t.Fatalf("%d entries, want %d", len(got), pages)
	}
	seen := map[int]bool{}
	for i, e := range got {
		seen[e.Page] = true
		if e.Seq != i+1 || (i == 0) != (e.Prev == nil) || (i > 0 && e.Prev.Key != got[i-1].Key) {
			t.Errorf("entry %d breaks the line: seq %d, prev %+v", i, e.Seq, e.Prev)
		}
	}
	if len(seen) != pages {
		t.Errorf("pages %v: some twice", seen)
	}
	if !strings.HasPrefix(got[0].Key, "doc/") {
		t.Errorf("key %s", got[0].Key)
	}
}

func TestCheckServerVersion(t *testing.T) {
	tests := []struct {
		v  string
		ok bool
	}{{"2.15.2", true}, {"2.11.0", true}, {"3.0.0", true}, {"2.10.22", false}, {"1.4.1", false}, {"", false}, {"dev", false}}
	for _, tt := range tests {
		if err := checkServerVersion(tt.v); (err == nil) != tt.ok {
			t.Errorf("%q: %v, want ok %v", tt.v, err, tt.ok)
		}
	}
}
