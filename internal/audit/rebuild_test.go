package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// chainOf signs and encodes records for pages 1..n of doc, chained in page order, as a
// metadata worker stores them.
func chainOf(t *testing.T, signer *provenance.Signer, doc string, n int) []StoredRecord {
	t.Helper()
	var (
		out  []StoredRecord
		prev *pipeline.RecordRef
	)
	for page := 1; page <= n; page++ {
		rec := pipeline.Provenance{
			Doc: doc, Page: page, Version: 1, Source: "box 7", FileName: "scan.png",
			Created: time.Date(2026, 12, 3, 10, 0, page, 0, time.UTC),
			Scan:    pipeline.ObjectRef{Bucket: pipeline.BucketScans, Key: scanKey(doc, page), SHA256: objectstore.SHA256(scanOf(doc, page))},
			Text:    pipeline.ObjectRef{Bucket: pipeline.BucketTexts, Key: pipeline.TextKey(doc, page, 1), SHA256: objectstore.SHA256(textOf(doc, page))},
			Chain:   &pipeline.Chain{Seq: page, Prev: prev},
		}
		out = append(out, encodeSigned(t, signer, rec))
		prev = &pipeline.RecordRef{Page: page, Version: 1, Key: out[len(out)-1].Key, SHA256: objectstore.SHA256(out[len(out)-1].Data)}
	}
	return out
}

// The scan and text of a page of chainOf, as a store holding them has them.
func scanKey(doc string, page int) string { return fmt.Sprintf("%s/%04d/scan.png", doc, page) }
func scanOf(doc string, page int) []byte  { return []byte(fmt.Sprintf("scan of %s page %d", doc, page)) }
func textOf(doc string, page int) []byte  { return []byte(fmt.Sprintf("text of %s page %d", doc, page)) }

func encodeSigned(t *testing.T, signer *provenance.Signer, rec pipeline.Provenance) StoredRecord {
	t.Helper()
	if signer != nil {
		if err := signer.Sign(&rec); err != nil {
			t.Fatal(err)
		}
	}
	data, err := pipeline.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	return StoredRecord{Key: pipeline.ProvenanceKey(rec.Doc, rec.Page, rec.Version), Data: data}
}

func decodeStored(t *testing.T, s StoredRecord) pipeline.Provenance {
	t.Helper()
	var rec pipeline.Provenance
	if err := json.Unmarshal(s.Data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestVerifyChain(t *testing.T) {
	newSigner := func() *provenance.Signer {
		priv, err := provenance.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		return provenance.NewSigner(priv)
	}
	signer, other := newSigner(), newSigner()
	trusted := []ed25519.PublicKey{signer.PublicKey()}

	tests := []struct {
		name    string
		tamper  func(recs []StoredRecord) []StoredRecord
		trusted []ed25519.PublicKey
		want    []string // each in the error; none: the chain checks out
	}{
		{"whole chain", func(r []StoredRecord) []StoredRecord { return r }, trusted, nil},
		{"whole chain, listed out of order", func(r []StoredRecord) []StoredRecord { return []StoredRecord{r[2], r[0], r[1]} }, trusted, nil},
		{"no trusted key: the key each record carries", func(r []StoredRecord) []StoredRecord { return r }, nil, nil},
		{"gap in Seq", func(r []StoredRecord) []StoredRecord { return []StoredRecord{r[0], r[2]} },
			trusted, []string{"page 3 version 1 (chain/0003/v1.json): the record is at place 3 in the chain, but no stored record checks out at place 2"}},
		{"first record missing", func(r []StoredRecord) []StoredRecord { return r[1:] },
			trusted, []string{"page 2 version 1 (chain/0002/v1.json): the record is at place 2 in the chain, but no stored record checks out at place 1"}},
		{"wrong Prev SHA-256", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[1])
			rec.Chain.Prev.SHA256 = strings.Repeat("0", 64)
			r[1] = encodeSigned(t, signer, rec)
			return r
		}, trusted, []string{"page 2 version 1 (chain/0002/v1.json): the record before it, chain/0001/v1.json, hashes to", "but this record names it with SHA-256 " + strings.Repeat("0", 64)}},
		{"Prev names another record", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[2])
			rec.Chain.Prev.Key = r[0].Key
			r[2] = encodeSigned(t, signer, rec)
			return r
		}, trusted, []string{"page 3 version 1 (chain/0003/v1.json): the record names chain/0001/v1.json before it, but place 2 is chain/0002/v1.json"}},
		{"first record names one before it", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[0])
			rec.Chain.Prev = &pipeline.RecordRef{Page: 9, Version: 1, Key: "chain/0009/v1.json"}
			r[0] = encodeSigned(t, signer, rec)
			return r
		}, trusted, []string{"page 1 version 1 (chain/0001/v1.json): the chain's first record names a record before it"}},
		{"bad signature: changed after signing", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[1])
			rec.Source = "box 8"
			r[1] = encodeSigned(t, nil, rec)
			return r
		}, trusted, []string{"page 2 version 1 (chain/0002/v1.json): signature by key", "does not match the record"}},
		{"tampered bytes the signature does not cover", func(r []StoredRecord) []StoredRecord {
			r[2].Data = append(append([]byte{}, r[2].Data...), ' ')
			return r
		}, trusted, []string{"page 3 version 1 (chain/0003/v1.json): its bytes are not the record as it was written"}},
		{"tampered bytes of a record a later one names", func(r []StoredRecord) []StoredRecord {
			r[0].Data = []byte(strings.Replace(string(r[0].Data), `"source":"box 7"`, `"source":"box 8"`, 1))
			return r
		}, trusted, []string{"page 1 version 1 (chain/0001/v1.json): signature by key", "page 2 version 1 (chain/0002/v1.json): the record is at place 2"}},
		{"untrusted key", func(r []StoredRecord) []StoredRecord {
			r[1] = encodeSigned(t, other, decodeStored(t, r[1]))
			return r
		}, trusted, []string{"page 2 version 1 (chain/0002/v1.json): signed by key " + provenance.KeyID(other.PublicKey()) + ", which is not a trusted key"}},
		{"unsigned", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[0])
			rec.Signature = nil
			r[0] = encodeSigned(t, nil, rec)
			return r
		}, trusted, []string{"page 1 version 1 (chain/0001/v1.json): " + provenance.ErrUnsigned.Error()}},
		{"two records at one place", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[2])
			rec.Chain = decodeStored(t, r[1]).Chain
			r[2] = encodeSigned(t, signer, rec)
			return r
		}, trusted, []string{"(chain/0003/v1.json): place 2 in the chain is claimed by chain/0002/v1.json too"}},
		{"record stored under another page's key", func(r []StoredRecord) []StoredRecord {
			r[1].Key = pipeline.ProvenanceKey("chain", 5, 1)
			return r
		}, trusted, []string{"page 5 version 1 (chain/0005/v1.json): the record is for chain page 2 version 1"}},
		{"record of another document", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[1])
			rec.Doc = "other"
			r[1] = encodeSigned(t, signer, rec)
			r[1].Key = pipeline.ProvenanceKey("chain", 2, 1)
			return r
		}, trusted, []string{"(chain/0002/v1.json): the record is for other page 2 version 1"}},
		{"no place in a chain", func(r []StoredRecord) []StoredRecord {
			rec := decodeStored(t, r[0])
			rec.Chain = nil
			r[0] = encodeSigned(t, signer, rec)
			return r[:1]
		}, trusted, []string{"page 1 version 1 (chain/0001/v1.json): the record names no place in a chain"}},
		{"unreadable", func(r []StoredRecord) []StoredRecord {
			r[2].Data = []byte("{not json")
			return r
		}, trusted, []string{"page 3 version 1 (chain/0003/v1.json): unreadable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := tt.tamper(chainOf(t, signer, "chain", 3))
			entries, err := VerifyChain("chain", stored, tt.trusted)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want the chain to check out: %v", err)
				}
				if len(entries) != 3 {
					t.Fatalf("%d entries, want 3", len(entries))
				}
				for i, e := range entries {
					s := stored[0]
					for _, c := range stored {
						if c.Key == pipeline.ProvenanceKey("chain", i+1, 1) {
							s = c
						}
					}
					if e.Seq != i+1 || e.Page != i+1 || e.Key != s.Key || e.SHA256 != objectstore.SHA256(s.Data) || e.Doc != "chain" ||
						(i == 0) != (e.Prev == nil) || (i > 0 && *e.Prev != entries[i-1].RecordRef) || e.Created.IsZero() {
						t.Errorf("entry %d: %+v", i+1, e)
					}
				}
				return
			}
			var cerr *ChainError
			if !errors.As(err, &cerr) || entries != nil {
				t.Fatalf("want a *ChainError and no entries, got %d entries and %v", len(entries), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}

	if _, err := VerifyChain("empty", nil, trusted); !errors.Is(err, ErrNoRecords) {
		t.Errorf("no records: %v, want ErrNoRecords", err)
	}
}

func TestRebuild(t *testing.T) {
	signer := testSigner(t)
	recs := chainOf(t, signer, "d", 3)
	chain, err := VerifyChain("d", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := chain[0]
	other.SHA256 = strings.Repeat("0", 64)
	extra := pipeline.RecordEntry{RecordRef: pipeline.RecordRef{Page: 4, Version: 1, Key: pipeline.ProvenanceKey("d", 4, 1)}, Doc: "d", Seq: 4, Prev: &chain[2].RecordRef}

	tests := []struct {
		name         string
		logged       []pipeline.RecordEntry
		dryRun       bool
		beforeAppend func(l *memLog)
		want         Rebuilt
		wantErr      string
		wantLog      int // entries in the log after
	}{
		{"log lost", nil, false, nil, Rebuilt{Records: 3, Appended: 3}, "", 3},
		{"dry run", nil, true, nil, Rebuilt{Records: 3, Appended: 3}, "", 0},
		{"log whole already", chain, false, nil, Rebuilt{Records: 3, InLog: 3}, "", 3},
		{"rebuild cut short", chain[:1], false, nil, Rebuilt{Records: 3, InLog: 1, Appended: 2}, "", 3},
		{"a worker appends the first entry meanwhile", nil, false, func(l *memLog) { l.chains["d"] = chain[:1] }, Rebuilt{Records: 3, InLog: 1, Appended: 2}, "", 3},
		{"the log holds another entry", []pipeline.RecordEntry{other}, false, nil, Rebuilt{Records: 3}, "the record log already holds entry 1 for d", 1},
		{"the log holds more than the store", append(slices.Clone(chain), extra), false, nil, Rebuilt{Records: 3}, "entry 4 (page 4 version 1, d/0004/v1.json) has no stored record", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &memLog{chains: map[string][]pipeline.RecordEntry{"d": slices.Clone(tt.logged)}, beforeAppend: tt.beforeAppend}
			got, err := Rebuild(context.Background(), storeOf(recs), log, "d", RebuildOptions{Trusted: []ed25519.PublicKey{signer.PublicKey()}, DryRun: tt.dryRun})
			tt.want.Doc = "d"
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want no error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if n := len(log.chains["d"]); n != tt.wantLog {
				t.Errorf("%d entries in the log, want %d", n, tt.wantLog)
			}
			if tt.wantErr == "" && !tt.dryRun {
				for i, e := range log.chains["d"] {
					if !sameEntry(e, chain[i]) {
						t.Errorf("entry %d: %+v, want %+v", i+1, e, chain[i])
					}
				}
			}
		})
	}

	// A document whose records do not check out gets nothing appended.
	bad := slices.Clone(recs)
	bad[1] = encodeSigned(t, testSigner(t), decodeStored(t, bad[1]))
	log := &memLog{chains: map[string][]pipeline.RecordEntry{}}
	_, err = Rebuild(context.Background(), storeOf(bad), log, "d", RebuildOptions{Trusted: []ed25519.PublicKey{signer.PublicKey()}})
	var cerr *ChainError
	if !errors.As(err, &cerr) || log.appends != 0 {
		t.Errorf("bad signature: %v, %d appended; want a *ChainError and none", err, log.appends)
	}
}
