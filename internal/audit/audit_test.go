package audit

import (
	"context"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// storeOf is a store holding recs and the scan and text of each of their pages.
func storeOf(recs []StoredRecord) memStore {
	m := memStore{}
	for _, r := range recs {
		doc, _, _ := strings.Cut(r.Key, "/")
		page, _ := pageVersion(r.Key)
		m[pipeline.BucketProvenance+"/"+r.Key] = r.Data
		m[pipeline.BucketScans+"/"+scanKey(doc, page)] = scanOf(doc, page)
		m[pipeline.BucketTexts+"/"+pipeline.TextKey(doc, page, 1)] = textOf(doc, page)
	}
	return m
}

func testSigner(t *testing.T) *provenance.Signer {
	t.Helper()
	priv, err := provenance.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return provenance.NewSigner(priv)
}

// TestRunUnloggedRecords: a record in the store that the record log does not hold fails,
// named, unless its page is still in flight (its append was cut short and its job will make
// it); documents only in the store are audited too.
func TestRunUnloggedRecords(t *testing.T) {
	signer := testSigner(t)
	recs := chainOf(t, signer, "d", 2)
	entries, err := VerifyChain("d", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := func(p int, state pipeline.PageState, version int) pipeline.PageStatus {
		return pipeline.PageStatus{Doc: "d", Page: p, State: state, Version: version}
	}
	tests := []struct {
		name     string
		logged   int // the log holds the chain's first entries
		status   []pipeline.PageStatus
		failed   []int // pages whose rows fail
		unlogged int
		pending  int
	}{
		{"whole", 2, []pipeline.PageStatus{page(1, pipeline.StateDone, 1), page(2, pipeline.StateDone, 1)}, nil, 0, 0},
		{"log lost, pages done", 0, []pipeline.PageStatus{page(1, pipeline.StateDone, 1), page(2, pipeline.StateDone, 1)}, []int{1, 2}, 2, 0},
		{"log and status lost", 0, nil, []int{1, 2}, 2, 0},
		{"append cut short: page still in flight", 1, []pipeline.PageStatus{page(1, pipeline.StateDone, 1), page(2, pipeline.StateMetadata, 1)}, nil, 0, 1},
		{"first record's append cut short", 0, []pipeline.PageStatus{page(1, pipeline.StateMetadata, 1), page(2, pipeline.StateOCR, 1)}, nil, 0, 2},
		{"page failed after its record was stored", 1, []pipeline.PageStatus{page(1, pipeline.StateDone, 1), page(2, pipeline.StateFailed, 1)}, []int{2}, 1, 0},
		{"another version in flight", 1, []pipeline.PageStatus{page(1, pipeline.StateDone, 1), page(2, pipeline.StateOCR, 2)}, []int{2}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &memLog{chains: map[string][]pipeline.RecordEntry{"d": entries[:tt.logged]}}
			status := memStatus{}
			if tt.status != nil {
				status["d"] = tt.status
			}
			rep, err := Run(context.Background(), storeOf(recs), log, status, nil, Options{Trusted: []ed25519.PublicKey{signer.PublicKey()}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rep.Docs, []string{"d"}) {
				t.Errorf("audited %v, want [d]", rep.Docs)
			}
			var failed []int
			for _, row := range rep.Rows {
				if row.Failed() {
					failed = append(failed, row.Page)
					if tt.unlogged > 0 && !strings.Contains(strings.Join(row.Problems, "; "), "is in the store but not in the record log") {
						t.Errorf("page %d: %v", row.Page, row.Problems)
					}
				}
			}
			if !slices.Equal(failed, tt.failed) || rep.Unlogged != tt.unlogged || rep.Pending != tt.pending {
				t.Errorf("failed pages %v, unlogged %d, pending %d; want %v, %d, %d\n%+v", failed, rep.Unlogged, rep.Pending, tt.failed, tt.unlogged, tt.pending, rep.Rows)
			}
			if tt.unlogged > 0 && !strings.Contains(rep.Summary(), RebuildCommand) {
				t.Errorf("summary does not name %s: %s", RebuildCommand, rep.Summary())
			}
		})
	}
}

func TestDocs(t *testing.T) {
	signer := testSigner(t)
	store := storeOf(append(chainOf(t, signer, "both", 1), chainOf(t, signer, "stored", 1)...))
	store[pipeline.BucketProvenance+"/stray.json"] = []byte("{}") // not a record's key
	log := &memLog{chains: map[string][]pipeline.RecordEntry{"both": {{Doc: "both"}}, "logged": {{Doc: "logged"}}}}
	docs, err := Docs(context.Background(), store, log)
	if err != nil || !slices.Equal(docs, []string{"both", "logged", "stored"}) {
		t.Errorf("Docs: %v %v, want [both logged stored]", docs, err)
	}
}
