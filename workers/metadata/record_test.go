package metadata

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// chainBus is a record log with the real one's rule: an append lands only while the chain's
// head is the one the appender read.
type chainBus struct {
	fakeBus
	mu      sync.Mutex
	entries []pipeline.RecordEntry
}

func (b *chainBus) RecordHead(context.Context, string) (bus.ChainHead, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.entries) == 0 {
		return bus.ChainHead{}, nil
	}
	return bus.ChainHead{Entry: b.entries[len(b.entries)-1], LogSeq: uint64(len(b.entries))}, nil
}

func (b *chainBus) RecordEntry(_ context.Context, _ string, page, version int) (pipeline.RecordEntry, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.entries {
		if e.Page == page && e.Version == version {
			return e, true, nil
		}
	}
	return pipeline.RecordEntry{}, false, nil
}

func (b *chainBus) AppendRecord(_ context.Context, e pipeline.RecordEntry, head bus.ChainHead) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if head.LogSeq != uint64(len(b.entries)) {
		return bus.ErrChainMoved
	}
	b.entries = append(b.entries, e)
	return nil
}

// lostAnswerStore stores the first record put and then answers as if the connection failed.
type lostAnswerStore struct {
	*fakeStore
	lost bool
}

func (s *lostAnswerStore) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, ct string, meta map[string]string) (bool, error) {
	created, err := s.fakeStore.PutIfAbsent(ctx, bucket, key, data, ct, meta)
	if !s.lost {
		s.lost = true
		return false, errors.New("connection reset by peer")
	}
	return created, err
}

// TestRecordNeverReplacesAChainedRecord: whatever a worker finds stored under the record's
// key (its own put whose answer was lost, a record another worker chained, another worker's
// record not yet chained, a stale one whose writer can no longer chain it), the page ends
// with one entry in the log naming exactly the bytes in the store, and a chained record is
// never replaced.
func TestRecordNeverReplacesAChainedRecord(t *testing.T) {
	priv, err := provenance.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := provenance.NewSigner(priv)
	const doc = "d1"
	key := pipeline.ProvenanceKey(doc, 2, 1)
	// another is page 2's record as another worker made it, on the chain as it was then.
	another := func(t *testing.T, seq int, prev *pipeline.RecordRef) []byte {
		rec := pipeline.Provenance{Doc: doc, Page: 2, Version: 1, Source: "box 1", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			Chain: &pipeline.Chain{Seq: seq, Prev: prev}}
		if err := signer.Sign(&rec); err != nil {
			t.Fatal(err)
		}
		data, err := pipeline.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	page1 := pipeline.RecordEntry{RecordRef: pipeline.RecordRef{Page: 1, Version: 1, Key: pipeline.ProvenanceKey(doc, 1, 1), SHA256: "aa"}, Doc: doc, Seq: 1}
	entryOf := func(data []byte, seq int, prev *pipeline.RecordRef) pipeline.RecordEntry {
		return pipeline.RecordEntry{RecordRef: pipeline.RecordRef{Page: 2, Version: 1, Key: key, SHA256: objectstore.SHA256(data)}, Doc: doc, Seq: seq, Prev: prev}
	}
	fresh := another(t, 2, &page1.RecordRef) // fits the head (page 1)
	stale := another(t, 1, nil)              // made before page 1 was chained

	tests := []struct {
		name     string
		log      []pipeline.RecordEntry
		stored   []byte // under the record's key before the worker writes
		lostPut  bool
		wantKept []byte // the stored bytes must stay these; nil: the worker's own record
		wantErr  string
	}{
		{name: "nothing stored", log: []pipeline.RecordEntry{page1}},
		{name: "own put, answer lost", log: []pipeline.RecordEntry{page1}, lostPut: true},
		{name: "chained by another worker", log: []pipeline.RecordEntry{page1, entryOf(fresh, 2, &page1.RecordRef)}, stored: fresh, wantKept: fresh},
		{name: "stored by another worker, fits the head", log: []pipeline.RecordEntry{page1}, stored: fresh, wantKept: fresh},
		{name: "stale: its writer can no longer chain it", log: []pipeline.RecordEntry{page1}, stored: stale},
		{name: "unreadable", log: []pipeline.RecordEntry{page1}, stored: []byte("{not json"), wantKept: []byte("{not json"), wantErr: "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeStore{objs: map[string][]byte{}}
			if tt.stored != nil {
				fs.objs[pipeline.BucketProvenance+"/"+key] = tt.stored
			}
			var store Store = fs
			if tt.lostPut {
				store = &lostAnswerStore{fakeStore: fs}
			}
			b := &chainBus{entries: append([]pipeline.RecordEntry(nil), tt.log...)}
			w := &Worker{store: store, bus: b, cfg: config{
				log: slog.New(slog.NewTextHandler(io.Discard, nil)), retry: bus.RetryPolicy{Budget: 5 * time.Second, AttemptTimeout: time.Second},
				now: time.Now, signer: signer, metrics: noMetrics{},
			}}
			rec := pipeline.Provenance{Doc: doc, Page: 2, Version: 1, Source: "box 1", Created: time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)}
			err := w.record(context.Background(), &rec, w.cfg.log)
			stored := fs.objs[pipeline.BucketProvenance+"/"+key]
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !bus.IsPermanent(err) {
					t.Fatalf("record() = %v; want a permanent error saying %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("record(): %v", err)
			}
			if tt.wantKept != nil && string(stored) != string(tt.wantKept) {
				t.Fatalf("the stored record was replaced:\n got %s\nwant %s", stored, tt.wantKept)
			}
			if tt.wantErr != "" {
				return
			}
			var mine []pipeline.RecordEntry
			for _, e := range b.entries {
				if e.Page == 2 {
					mine = append(mine, e)
				}
			}
			if len(mine) != 1 || mine[0].SHA256 != objectstore.SHA256(stored) || mine[0].Seq != 2 || mine[0].Prev == nil || *mine[0].Prev != page1.RecordRef {
				t.Fatalf("page 2 in the log: %+v; want one entry, seq 2 after page 1, naming the stored bytes (sha %s)", mine, objectstore.SHA256(stored))
			}
			if tt.wantKept == nil && !strings.Contains(string(stored), "2026-02-02") {
				t.Errorf("stored record is not the worker's own: %s", stored)
			}
		})
	}
}

// TestFirstRecordWaitsForStoredOnes: with the document's chain empty, a record of another
// of its pages already stored (a first record whose append was cut off, or a lost log)
// holds the job back, saying how to rebuild a lost log, instead of starting a second chain.
func TestFirstRecordWaitsForStoredOnes(t *testing.T) {
	priv, err := provenance.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		stored  map[string][]byte
		wantErr bool
	}{
		{name: "a new document", stored: map[string][]byte{}},
		{name: "another page's record stored", stored: map[string][]byte{pipeline.BucketProvenance + "/" + pipeline.ProvenanceKey("d1", 1, 1): []byte("{}")}, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeStore{objs: tt.stored}
			b := &chainBus{}
			w := &Worker{store: fs, bus: b, cfg: config{
				log: slog.New(slog.NewTextHandler(io.Discard, nil)), retry: bus.RetryPolicy{Budget: time.Second, AttemptTimeout: time.Second},
				now: time.Now, signer: provenance.NewSigner(priv), metrics: noMetrics{},
			}}
			rec := pipeline.Provenance{Doc: "d1", Page: 2, Version: 1}
			err := w.record(context.Background(), &rec, w.cfg.log)
			_, stored := fs.objs[pipeline.BucketProvenance+"/"+pipeline.ProvenanceKey("d1", 2, 1)]
			if tt.wantErr {
				if err == nil || bus.IsPermanent(err) || !strings.Contains(err.Error(), "colophon rebuild-log d1") {
					t.Fatalf("record() = %v; want a retryable error naming colophon rebuild-log d1", err)
				}
				if stored || len(b.entries) != 0 {
					t.Fatalf("stored %v, log %+v; want nothing written", stored, b.entries)
				}
				return
			}
			if err != nil || len(b.entries) != 1 || b.entries[0].Seq != 1 || b.entries[0].Prev != nil {
				t.Fatalf("record() = %v, log %+v; want the chain's first entry", err, b.entries)
			}
		})
	}
}
