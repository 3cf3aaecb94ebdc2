package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// StoredRecord is a provenance record as the store holds it.
type StoredRecord struct {
	Key  string
	Data []byte
}

// ChainError is a document whose stored records do not form one signed, unbroken chain:
// each problem names the record (page, version, key) and what is wrong with it.
type ChainError struct {
	Doc      string
	Problems []string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("the stored records of %s do not check out: %s", e.Doc, strings.Join(e.Problems, "; "))
}

// ErrNoRecords is a document with no provenance record in the store.
var ErrNoRecords = errors.New("no provenance record in the store")

// VerifyChain checks that doc's stored records are one chain the record log could have
// written: each record intact as encoded and signed by a trusted key (none given: by the
// key it carries), for the page and version its key names, and their places Seq 1, 2, ...
// with no gap or double, each Prev naming the record before it with the SHA-256 of its
// stored bytes. It returns the record log entries of the chain, oldest first, or a
// *ChainError naming every problem found.
func VerifyChain(doc string, stored []StoredRecord, trusted []ed25519.PublicKey) ([]pipeline.RecordEntry, error) {
	if len(stored) == 0 {
		return nil, fmt.Errorf("%s: %w", doc, ErrNoRecords)
	}
	type link struct {
		rec pipeline.Provenance
		ref pipeline.RecordRef
	}
	var (
		problems []string
		links    []link
	)
	bad := func(key, format string, args ...any) {
		page, version := pageVersion(key)
		problems = append(problems, fmt.Sprintf("page %d version %d (%s): %s", page, version, key, fmt.Sprintf(format, args...)))
	}
	for _, s := range stored {
		var rec pipeline.Provenance
		if err := json.Unmarshal(s.Data, &rec); err != nil {
			bad(s.Key, "unreadable: %v", err)
			continue
		}
		// The signature covers the decoded record, so bytes changed where decoding does not
		// see them (spacing, unknown fields) would still pass it: the stored bytes must be
		// exactly the encoding the metadata worker stored, or their SHA-256 vouches for
		// nothing.
		if enc, err := pipeline.Encode(rec); err != nil || !bytes.Equal(enc, s.Data) {
			bad(s.Key, "its bytes are not the record as it was written (changed in the store)")
			continue
		}
		if err := provenance.Verify(rec, trusted...); err != nil {
			bad(s.Key, "%v", err)
			continue
		}
		if rec.Doc != doc || pipeline.ProvenanceKey(rec.Doc, rec.Page, rec.Version) != s.Key {
			bad(s.Key, "the record is for %s page %d version %d", rec.Doc, rec.Page, rec.Version)
			continue
		}
		if rec.Chain == nil || rec.Chain.Seq < 1 {
			bad(s.Key, "the record names no place in a chain")
			continue
		}
		links = append(links, link{rec, pipeline.RecordRef{Page: rec.Page, Version: rec.Version, Key: s.Key, SHA256: objectstore.SHA256(s.Data)}})
	}
	slices.SortStableFunc(links, func(a, b link) int { return a.rec.Chain.Seq - b.rec.Chain.Seq })

	entries := make([]pipeline.RecordEntry, 0, len(links))
	next := 1 // the place the next record should have
	for i, l := range links {
		seq, prev := l.rec.Chain.Seq, l.rec.Chain.Prev
		if i > 0 && seq == links[i-1].rec.Chain.Seq {
			bad(l.ref.Key, "place %d in the chain is claimed by %s too", seq, links[i-1].ref.Key)
			continue
		}
		switch {
		case seq != next:
			bad(l.ref.Key, "the record is at place %d in the chain, but no stored record checks out at place %d", seq, next)
		case seq == 1 && prev != nil:
			bad(l.ref.Key, "the chain's first record names a record before it (%s)", prev.Key)
		case seq > 1 && prev == nil:
			bad(l.ref.Key, "the record at place %d names no record before it", seq)
		case seq > 1 && *prev != entries[len(entries)-1].RecordRef:
			want := entries[len(entries)-1].RecordRef
			if prev.Key == want.Key {
				bad(l.ref.Key, "the record before it, %s, hashes to %s, but this record names it with SHA-256 %s (rewritten?)", want.Key, want.SHA256, prev.SHA256)
			} else {
				bad(l.ref.Key, "the record names %s before it, but place %d is %s", prev.Key, seq-1, want.Key)
			}
		}
		entries = append(entries, pipeline.RecordEntry{RecordRef: l.ref, Doc: doc, Seq: seq, Prev: prev, Created: l.rec.Created})
		next = seq + 1
	}
	if len(problems) > 0 {
		return nil, &ChainError{Doc: doc, Problems: problems}
	}
	return entries, nil
}

// RebuildLog is what a rebuild reads of and appends to the record log.
type RebuildLog interface {
	RecordEntries(ctx context.Context, doc string) ([]pipeline.RecordEntry, error)
	RecordHead(ctx context.Context, doc string) (bus.ChainHead, error)
	AppendRecord(ctx context.Context, e pipeline.RecordEntry, head bus.ChainHead) error
}

// Rebuilt is what a rebuild did for one document.
type Rebuilt struct {
	Doc     string `json:"doc"`
	Records int    `json:"records"` // stored records, all checked
	InLog   int    `json:"in_log"`  // of them, already in the record log as they are
	// Appended are the entries appended (with DryRun: that would be).
	Appended int `json:"appended"`
}

// RebuildOptions tune a rebuild.
type RebuildOptions struct {
	Trusted []ed25519.PublicKey // as Options.Trusted
	DryRun  bool                // check and compare, append nothing
}

// maxRebuildRaces bounds how often a rebuild starts again because a metadata worker
// appended to the same document's chain meanwhile.
const maxRebuildRaces = 5

// Rebuild appends doc's stored records to the record log, once all of them check out
// (VerifyChain). The log's entries for doc, if any, must be the chain's first entries, exactly:
// a rebuild cut short is resumed, a log that is already whole is left alone, and a log
// that says otherwise than the store is refused (a rebuild must never write a second
// history beside the first). Each append expects the chain's head it read, so it cannot
// race a metadata worker: on a race the rebuild reads everything again.
func Rebuild(ctx context.Context, store Store, log RebuildLog, doc string, o RebuildOptions) (Rebuilt, error) {
	for race := 1; ; race++ {
		r, err := rebuildOnce(ctx, store, log, doc, o)
		if !errors.Is(err, bus.ErrChainMoved) || race == maxRebuildRaces {
			return r, err
		}
	}
}

func rebuildOnce(ctx context.Context, store Store, log RebuildLog, doc string, o RebuildOptions) (Rebuilt, error) {
	r := Rebuilt{Doc: doc}
	keys, err := RecordKeys(ctx, store, doc)
	if err != nil {
		return r, err
	}
	stored := make([]StoredRecord, 0, len(keys))
	for _, key := range keys {
		obj, err := store.Get(ctx, pipeline.BucketProvenance, key)
		if err != nil {
			return r, fmt.Errorf("read record %s: %w", key, err)
		}
		stored = append(stored, StoredRecord{Key: key, Data: obj.Data})
	}
	r.Records = len(stored)
	chain, err := VerifyChain(doc, stored, o.Trusted)
	if err != nil {
		return r, err
	}
	logged, err := log.RecordEntries(ctx, doc)
	if err != nil {
		return r, fmt.Errorf("read the record log of %s: %w", doc, err)
	}
	if len(logged) > len(chain) {
		e := logged[len(chain)]
		return r, fmt.Errorf("the record log holds %d entries for %s, the store %d records: entry %d (page %d version %d, %s) has no stored record; not rebuilding",
			len(logged), doc, len(chain), e.Seq, e.Page, e.Version, e.Key)
	}
	for i, e := range logged {
		if !sameEntry(e, chain[i]) {
			return r, fmt.Errorf("the record log already holds entry %d for %s (page %d version %d, %s, SHA-256 %s), which is not the stored record at that place (page %d version %d, %s, SHA-256 %s); not rebuilding",
				e.Seq, doc, e.Page, e.Version, e.Key, e.SHA256, chain[i].Page, chain[i].Version, chain[i].Key, chain[i].SHA256)
		}
	}
	r.InLog = len(logged)
	if o.DryRun {
		r.Appended = len(chain) - len(logged)
		return r, nil
	}
	for _, e := range chain[len(logged):] {
		head, err := log.RecordHead(ctx, doc)
		if err != nil {
			return r, fmt.Errorf("read the record log's head for %s: %w", doc, err)
		}
		// The head moved since the entries were read: a worker appended. Start again.
		if head.Entry.Seq != e.Seq-1 {
			return r, bus.ErrChainMoved
		}
		if err := log.AppendRecord(ctx, e, head); err != nil {
			return r, err
		}
		r.Appended++
	}
	return r, nil
}

// sameEntry reports whether two record log entries say the same.
func sameEntry(a, b pipeline.RecordEntry) bool {
	return a.RecordRef == b.RecordRef && a.Doc == b.Doc && a.Seq == b.Seq && sameRef(a.Prev, b.Prev) && a.Created.Equal(b.Created)
}
