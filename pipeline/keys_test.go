package pipeline_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

const (
	shaA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	shaB = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	shaC = "0000000000000000000000000000000000000000000000000000000000000000"
)

func TestScanKey(t *testing.T) {
	tests := []struct {
		doc  string
		page int
		sha  string
		ext  string
		want string
	}{
		{"d", 3, shaA, ".PNG", "d/0003/" + shaA + ".png"},
		{"d", 3, shaA, "png", "d/0003/" + shaA + ".png"},
		{"d", 3, shaA, ".png", "d/0003/" + shaA + ".png"},
		{"d", 3, shaA, "Tif", "d/0003/" + shaA + ".tif"},
		{"d", 3, shaA, "jpg", "d/0003/" + shaA + ".jpg"},
		{"d", 3, shaA, "", "d/0003/" + shaA + ".bin"},
		{"d", 3, shaA, ".", "d/0003/" + shaA + ".bin"},
		{"doc-1", 1, shaB, "gif", "doc-1/0001/" + shaB + ".gif"},
		{"doc-1", 42, shaB, "bmp", "doc-1/0042/" + shaB + ".bmp"},
		{"doc-1", 999, shaB, "webp", "doc-1/0999/" + shaB + ".webp"},
		{"doc-1", 9999, shaB, "tif", "doc-1/9999/" + shaB + ".tif"},
	}
	for _, tt := range tests {
		if got := pipeline.ScanKey(tt.doc, tt.page, tt.sha, tt.ext); got != tt.want {
			t.Errorf("ScanKey(%q, %d, %q, %q) = %q, want %q", tt.doc, tt.page, tt.sha, tt.ext, got, tt.want)
		}
	}
}

func TestTextAndProvenanceKeys(t *testing.T) {
	tests := []struct {
		doc           string
		page, version int
		text, prov    string
	}{
		{"d", 1, 1, "d/0001/v1.txt", "d/0001/v1.json"},
		{"d", 3, 2, "d/0003/v2.txt", "d/0003/v2.json"},
		{"doc-x_Y", 9999, 10, "doc-x_Y/9999/v10.txt", "doc-x_Y/9999/v10.json"},
		{"doc", 120, 123, "doc/0120/v123.txt", "doc/0120/v123.json"},
	}
	for _, tt := range tests {
		if got := pipeline.TextKey(tt.doc, tt.page, tt.version); got != tt.text {
			t.Errorf("TextKey(%q, %d, %d) = %q, want %q", tt.doc, tt.page, tt.version, got, tt.text)
		}
		if got := pipeline.ProvenanceKey(tt.doc, tt.page, tt.version); got != tt.prov {
			t.Errorf("ProvenanceKey(%q, %d, %d) = %q, want %q", tt.doc, tt.page, tt.version, got, tt.prov)
		}
	}
}

func TestKeysShareThePagePrefix(t *testing.T) {
	// One prefix "<doc>/<page>/" lists everything stored for a page, and pages sort in order.
	prefix := "doc-7/0012/"
	for _, k := range []string{
		pipeline.ScanKey("doc-7", 12, shaA, "png"),
		pipeline.TextKey("doc-7", 12, 1),
		pipeline.ProvenanceKey("doc-7", 12, 3),
	} {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q does not start with %q", k, prefix)
		}
	}
	var prev string
	for p := 1; p <= pipeline.MaxPages; p++ {
		k := pipeline.TextKey("d", p, 1)
		if k <= prev {
			t.Fatalf("TextKey page %d = %q does not sort after %q", p, k, prev)
		}
		prev = k
	}
}

func TestStatusKeys(t *testing.T) {
	tests := []struct {
		doc  string
		page int
		want string
	}{
		{"d", 1, "d.0001"},
		{"d", 3, "d.0003"},
		{"doc-1_a", 9999, "doc-1_a.9999"},
		{"doc", 250, "doc.0250"},
	}
	for _, tt := range tests {
		if got := pipeline.StatusPageKey(tt.doc, tt.page); got != tt.want {
			t.Errorf("StatusPageKey(%q, %d) = %q, want %q", tt.doc, tt.page, got, tt.want)
		}
	}
	if got := pipeline.StatusPagesFilter("doc-1"); got != "doc-1.*" {
		t.Errorf("StatusPagesFilter = %q, want doc-1.*", got)
	}
}

func TestDeadSubject(t *testing.T) {
	tests := []struct {
		stage pipeline.Stage
		want  string
	}{
		{pipeline.StageOCR, "colophon.dead.ocr"},
		{pipeline.StageMetadata, "colophon.dead.metadata"},
		{pipeline.StageUpload, "colophon.dead.upload"},
	}
	for _, tt := range tests {
		if got := pipeline.DeadSubject(tt.stage); got != tt.want {
			t.Errorf("DeadSubject(%q) = %q, want %q", tt.stage, got, tt.want)
		}
	}
}

func TestMsgIDFormats(t *testing.T) {
	if got, want := pipeline.OCRMsgID("d", 3, 1, shaA), "ocr.d.0003.v1."+shaA; got != want {
		t.Errorf("OCRMsgID = %q, want %q", got, want)
	}
	if got, want := pipeline.OCRMsgID("doc-9", 9999, 12, shaB), "ocr.doc-9.9999.v12."+shaB; got != want {
		t.Errorf("OCRMsgID = %q, want %q", got, want)
	}
	if got, want := pipeline.MetadataMsgID("d", 3, 1, shaA), "meta.d.0003.v1."+shaA; got != want {
		t.Errorf("MetadataMsgID = %q, want %q", got, want)
	}
	if got, want := pipeline.MetadataMsgID("doc-9", 10, 2, shaB), "meta.doc-9.0010.v2."+shaB; got != want {
		t.Errorf("MetadataMsgID = %q, want %q", got, want)
	}
}

type msgIDInput struct {
	doc           string
	page, version int
	sha           string
}

func TestMsgIDDeterministicAndDistinct(t *testing.T) {
	// Inputs that all pass validation, each differing from the base in one field, plus
	// pairs chosen to collide if the ID were a naive concatenation.
	base := msgIDInput{"doc-1", 3, 1, shaA}
	inputs := []msgIDInput{
		base,
		{"doc-2", 3, 1, shaA},
		{"doc-1", 4, 1, shaA},
		{"doc-1", 3, 2, shaA},
		{"doc-1", 3, 1, shaB},
		{"doc-1", 31, 1, shaA},
		{"doc-1", 3, 11, shaA},
		{"doc-10", 3, 1, shaA},
		{"doc-1", 1, 31, shaA},
		{"doc-1", 13, 1, shaA},
		{"doc", 1, 1, shaA},
		{"doc-11", 1, 1, shaA},
		{"d", 1, 1, shaA},
		{"d0001", 1, 1, shaA},
		{"d", 1, 10, shaA},
		{"d", 10, 1, shaA},
	}
	type fn struct {
		name string
		f    func(string, int, int, string) string
	}
	for _, f := range []fn{{"OCRMsgID", pipeline.OCRMsgID}, {"MetadataMsgID", pipeline.MetadataMsgID}} {
		seen := map[string]msgIDInput{}
		for _, in := range inputs {
			id := f.f(in.doc, in.page, in.version, in.sha)
			if again := f.f(in.doc, in.page, in.version, in.sha); again != id {
				t.Errorf("%s(%v) not deterministic: %q then %q", f.name, in, id, again)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("%s: %v and %v share the ID %q", f.name, prev, in, id)
			}
			seen[id] = in
		}
	}
	// OCR and metadata IDs of the same page never collide: they share no stream, but they
	// share a Nats-Msg-Id namespace in logs.
	if pipeline.OCRMsgID("d", 1, 1, shaA) == pipeline.MetadataMsgID("d", 1, 1, shaA) {
		t.Error("OCRMsgID and MetadataMsgID agree for the same inputs")
	}
}

func TestMsgIDDistinctExhaustive(t *testing.T) {
	// Over a small grid of valid inputs, the ID is injective.
	docs := []string{"a", "a-1", "a_1", "a1", "A", "aa", "a-"}
	shas := []string{shaA, shaB}
	seen := map[string]string{}
	for _, d := range docs {
		for page := 1; page <= 12; page++ {
			for v := 1; v <= 12; v++ {
				for _, s := range shas {
					in := fmt.Sprint(d, page, v, s)
					id := pipeline.OCRMsgID(d, page, v, s)
					if prev, dup := seen[id]; dup {
						t.Fatalf("OCRMsgID collision for %s and %s: %q", prev, in, id)
					}
					seen[id] = in
				}
			}
		}
	}
}

func TestJobMsgIDs(t *testing.T) {
	j := validOCRJob()
	if got, want := j.MsgID(), pipeline.OCRMsgID(j.Doc, j.Page, j.Version, j.Scan.SHA256); got != want {
		t.Errorf("OCRJob.MsgID = %q, want %q", got, want)
	}
	m := validMetadataJob()
	if got, want := m.MsgID(), pipeline.MetadataMsgID(m.Doc, m.Page, m.Version, m.Text.SHA256); got != want {
		t.Errorf("MetadataJob.MsgID = %q, want %q", got, want)
	}
	// The same job submitted at another time, by another file name, is the same job.
	j2 := j
	j2.Submitted = j.Submitted.Add(1e9)
	j2.FileName = "other.png"
	if j2.MsgID() != j.MsgID() {
		t.Errorf("OCRJob.MsgID depends on Submitted or FileName: %q vs %q", j.MsgID(), j2.MsgID())
	}
	// A different scan of the page is a different job.
	j3 := j
	j3.Scan.SHA256 = shaB
	if j3.MsgID() == j.MsgID() {
		t.Errorf("OCRJob.MsgID ignores the scan hash")
	}
	// The metadata ID follows the text, not the scan.
	m2 := m
	m2.Text.SHA256 = shaC
	if m2.MsgID() == m.MsgID() {
		t.Errorf("MetadataJob.MsgID ignores the text hash")
	}
}
