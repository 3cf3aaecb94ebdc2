package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
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
			Scan:    pipeline.ObjectRef{Bucket: pipeline.BucketScans, Key: doc + "/scan.png", SHA256: "ab"},
			Text:    pipeline.ObjectRef{Bucket: pipeline.BucketTexts, Key: pipeline.TextKey(doc, page, 1), SHA256: "cd"},
			Chain:   &pipeline.Chain{Seq: page, Prev: prev},
		}
		out = append(out, encodeSigned(t, signer, rec))
		prev = &pipeline.RecordRef{Page: page, Version: 1, Key: out[len(out)-1].Key, SHA256: objectstore.SHA256(out[len(out)-1].Data)}
	}
	return out
}

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
