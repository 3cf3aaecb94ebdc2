package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/bagit"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/imageinfo/imageinfotest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestExport uploads a two-page document, exports it as a bag and checks the bag as an
// archivist would: it validates, it holds every scan and output with the record's
// checksums, its PREMIS and PROV describe them; a changed file in the bag is caught; an
// unknown document, a used directory, an incomplete document and a store that no longer
// matches its records are refused.
func TestExport(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	dir := t.TempDir()
	var files []string
	for i, text := range []string{
		"HARBOR COURT TENANTS' ASSOCIATION\nMinutes of the general meeting, March 1974.",
		"The rent strike goes on until the landlord repairs the boilers.",
	} {
		pages, err := sample.Render(text, sample.WithPageSize(1748, 600)) // small pages: a quick read
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, []string{"minutes 1.png", "minutes 2.png"}[i])
		if err := os.WriteFile(f, pages[0].PNG, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	source := "Harbor Court Tenants' Association, box 3"
	e.mustRun(append([]string{"upload", "--doc", "exp", "--source", source, "--date", "1974-03", "--uploader", "maria@archive-3", "--wait"}, files...)...)
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "exp").stdout)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}

	bag := filepath.Join(t.TempDir(), "exp-bag")
	r := e.mustRun("export", "exp", "--bagit", bag)
	if !strings.Contains(r.stderr, "msg=exported doc=exp pages=2") || !strings.Contains(r.stderr, "duration_ms=") || !strings.Contains(r.stderr, "bytes=") {
		t.Errorf("export log:\n%s", r.stderr)
	}
	if err := bagit.Validate(bag); err != nil {
		t.Fatalf("the exported bag does not validate:\n%v", err)
	}

	// The payload is the store's layout: every scan, output and record, with the record's checksums.
	want := map[string]string{} // bag path -> sha256
	for _, rec := range recs {
		want["data/scans/"+rec.Scan.Key] = rec.Scan.SHA256
		for _, ref := range rec.Outputs() {
			want["data/texts/"+ref.Key] = ref.SHA256
		}
		want["data/provenance/"+pipeline.ProvenanceKey("exp", rec.Page, rec.Version)] = ""
	}
	got := map[string]string{}
	err := filepath.WalkDir(filepath.Join(bag, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(bag, p)
		got[filepath.ToSlash(rel)] = objectstore.SHA256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) != 12 {
		t.Errorf("bag holds %d payload files, want %d (2 scans, 8 outputs, 2 records):\n%v", len(got), len(want), got)
	}
	for p, sum := range want {
		if g, ok := got[p]; !ok || (sum != "" && g != sum) {
			t.Errorf("%s: in bag %v, sha256 %s, record says %s", p, ok, g, sum)
		}
	}
	var rec1 pipeline.Provenance
	if err := json.Unmarshal(mustRead(t, bag, "data/provenance/exp/0001/v1.json"), &rec1); err != nil || rec1.Text != recs[0].Text {
		t.Errorf("bagged record of page 1: %+v, %v", rec1.Text, err)
	}

	info := string(mustRead(t, bag, "bag-info.txt"))
	for _, line := range []string{"Source-Organization: " + source + "\n", "External-Identifier: exp\n", "Bag-Software-Agent: Colophon ",
		"External-Description: Scans of " + source + ", dated 1974-03", "Bagging-Date: ", "Payload-Oxum: "} {
		if !strings.Contains(info, line) {
			t.Errorf("bag-info.txt lacks %q:\n%s", line, info)
		}
	}

	checkBagPREMIS(t, mustRead(t, bag, "metadata/premis.xml"), recs)
	var prov map[string]json.RawMessage
	if err := json.Unmarshal(mustRead(t, bag, "metadata/prov.json"), &prov); err != nil {
		t.Errorf("prov.json does not parse: %v", err)
	}
	for _, kind := range []string{"prefix", "entity", "activity", "agent", "used", "wasGeneratedBy", "wasDerivedFrom", "wasAssociatedWith", "wasAttributedTo"} {
		if len(prov[kind]) < 3 {
			t.Errorf("prov.json has no %s", kind)
		}
	}
	if !bytes.Contains(prov["entity"], []byte(recs[1].Scan.SHA256)) {
		t.Errorf("prov.json does not name page 2's scan by its SHA-256")
	}

	// A changed payload file is caught, by name.
	changed := "data/texts/exp/0001/v1.txt"
	if err := os.WriteFile(filepath.Join(bag, changed), []byte("Minutes of a meeting that never was."), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := bagit.Validate(bag); err == nil || !strings.Contains(err.Error(), changed+": sha256 checksum is") {
		t.Errorf("Validate after changing %s: %v", changed, err)
	}

	// An unknown document, and a directory already used, are refused; nothing is written.
	nowhere := filepath.Join(t.TempDir(), "nobag")
	if r := e.colophon("export", "no-such-doc", "--bagit", nowhere); r.code == 0 || !strings.Contains(r.stderr, "document no-such-doc: no such document") {
		t.Errorf("export of an unknown document: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(nowhere); err == nil {
		t.Errorf("export of an unknown document made %s", nowhere)
	}
	if r := e.colophon("export", "exp", "--bagit", bag); r.code == 0 || !strings.Contains(r.stderr, "is not empty") {
		t.Errorf("export into a used directory: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if r := e.colophon("export", "exp"); r.code == 0 || !strings.Contains(r.stderr, "--bagit DIR is required") {
		t.Errorf("export without --bagit: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	// A document with a failed page: refused, unless --allow-incomplete, which names it.
	junk := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(junk, []byte("not a scan at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.colophon("upload", "--doc", "part", "--source", source, "--wait", files[0], junk) // exits 1: page 2 is refused
	partBag := filepath.Join(t.TempDir(), "part-bag")
	if r := e.colophon("export", "part", "--bagit", partBag); r.code == 0 || !strings.Contains(r.stderr, "page 2 (notes.png): failed") ||
		!strings.Contains(r.stderr, "--allow-incomplete") {
		t.Errorf("export of a document with a failed page: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	e.mustRun("export", "part", "--bagit", partBag, "--allow-incomplete")
	if err := bagit.Validate(partBag); err != nil {
		t.Errorf("incomplete bag: %v", err)
	}
	if info := string(mustRead(t, partBag, "bag-info.txt")); !strings.Contains(info, "Colophon-Missing-Page: page 2 (notes.png): failed: ") ||
		!strings.Contains(info, "1 page(s) of 2; 1 missing") {
		t.Errorf("incomplete bag's bag-info.txt:\n%s", info)
	}

	// Two pages of one TIFF share its scan: bagged once, both records pointing at it.
	var imgs []*image.Gray
	for _, f := range files {
		img, _, err := imageinfo.Decode(mustRead(t, "", f), imageinfo.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	tiff, err := imageinfotest.TIFF(imgs, 300)
	if err != nil {
		t.Fatal(err)
	}
	tiffPath := filepath.Join(dir, "minutes.tif")
	if err := os.WriteFile(tiffPath, tiff, 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("upload", "--doc", "tiff", "--source", source, "--wait", tiffPath)
	tiffBag := filepath.Join(t.TempDir(), "tiff-bag")
	e.mustRun("export", "tiff", "--bagit", tiffBag)
	if err := bagit.Validate(tiffBag); err != nil {
		t.Errorf("bag of a two-page TIFF: %v", err)
	}
	scans, _ := filepath.Glob(filepath.Join(tiffBag, "data/scans/tiff/*/*"))
	if premis := string(mustRead(t, tiffBag, "metadata/premis.xml")); len(scans) != 1 || strings.Count(premis, "<originalName>minutes.tif<") != 1 {
		t.Errorf("bag of a two-page TIFF holds scans %v and describes %d", scans, strings.Count(premis, "<originalName>minutes.tif<"))
	}

	// A store that no longer matches its record: nothing exported, the page and object named.
	if err := e.store.Put(context.Background(), recs[1].HOCR.Bucket, recs[1].HOCR.Key, []byte("<html>forged</html>"), "text/html", nil); err != nil {
		t.Fatal(err)
	}
	forgedBag := filepath.Join(t.TempDir(), "forged-bag")
	r = e.colophon("export", "exp", "--bagit", forgedBag)
	if r.code == 0 || !strings.Contains(r.stderr, "document exp") || !strings.Contains(r.stderr, "page 2: hocr colophon-texts/exp/0002/v1.hocr checksum mismatch") {
		t.Errorf("export after a forged hOCR: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(forgedBag); err == nil {
		t.Errorf("export after a forged hOCR made %s", forgedBag)
	}
}

func mustRead(t *testing.T, bag, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bag, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkBagPREMIS checks premis.xml is well formed and holds what the records say: each file
// with its SHA-256, the transcription naming the model by its SHA-256, and the agents.
func checkBagPREMIS(t *testing.T, data []byte, recs []pipeline.Provenance) {
	t.Helper()
	var doc struct {
		Objects []struct {
			ID        string `xml:"objectIdentifier>objectIdentifierValue"`
			Algorithm string `xml:"objectCharacteristics>fixity>messageDigestAlgorithm"`
			Digest    string `xml:"objectCharacteristics>fixity>messageDigest"`
		} `xml:"object"`
		Events []struct {
			Type    string   `xml:"eventType"`
			Details []string `xml:"eventDetailInformation>eventDetail"`
			Agents  []string `xml:"linkingAgentIdentifier>linkingAgentIdentifierValue"`
			Objects []string `xml:"linkingObjectIdentifier>linkingObjectIdentifierValue"`
		} `xml:"event"`
		Agents []struct {
			ID      string `xml:"agentIdentifier>agentIdentifierValue"`
			Name    string `xml:"agentName"`
			Type    string `xml:"agentType"`
			Version string `xml:"agentVersion"`
		} `xml:"agent"`
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("premis.xml is not well formed: %v", err)
	}
	digests := map[string]string{}
	for _, o := range doc.Objects {
		if o.Algorithm != "SHA-256" {
			t.Errorf("object %s: fixity algorithm %q", o.ID, o.Algorithm)
		}
		digests[o.ID] = o.Digest
	}
	for _, rec := range recs {
		refs := []pipeline.ObjectRef{rec.Scan}
		for _, ref := range rec.Outputs() {
			refs = append(refs, ref)
		}
		for _, ref := range refs {
			if d := digests[ref.Bucket+"/"+ref.Key]; d != ref.SHA256 {
				t.Errorf("premis.xml object %s: SHA-256 %q, record says %s", ref.Key, d, ref.SHA256)
			}
		}
		if _, ok := digests[pipeline.BucketProvenance+"/"+pipeline.ProvenanceKey(rec.Doc, rec.Page, rec.Version)]; !ok {
			t.Errorf("premis.xml has no object for page %d's record", rec.Page)
		}
	}
	types := map[string]int{}
	agents := map[string]bool{}
	for _, a := range doc.Agents {
		agents[a.ID] = true
	}
	for _, ev := range doc.Events {
		types[ev.Type]++
		for _, a := range ev.Agents {
			if !agents[a] {
				t.Errorf("%s event links agent %s, which premis.xml does not describe", ev.Type, a)
			}
		}
		for _, o := range ev.Objects {
			if _, ok := digests[o]; !ok {
				t.Errorf("%s event links object %s, which premis.xml does not describe", ev.Type, o)
			}
		}
		if ev.Type == "transcription" {
			model := recs[0].OCR.Models[0]
			if details := strings.Join(ev.Details, "\n"); !strings.Contains(details, model.Name+", SHA-256 "+model.SHA256) {
				t.Errorf("transcription event does not name model %s by its SHA-256:\n%s", model.Name, details)
			}
		}
	}
	if types["transcription"] != 2 || types["message digest calculation"] != 2 || types["fixity check"] != 1 {
		t.Errorf("premis.xml event types: %v", types)
	}
	var names []string
	for _, a := range doc.Agents {
		names = append(names, a.Name+" "+a.Type+" "+a.Version)
	}
	for _, want := range []string{"Tesseract software " + recs[0].OCR.EngineVersion, "Leptonica software " + recs[0].OCR.LeptonicaVersion,
		"Colophon software " + recs[0].OCR.ColophonVersion, "maria@archive-3 person "} {
		if !slices.Contains(names, want) {
			t.Errorf("premis.xml lacks agent %q; has %q", want, names)
		}
	}
}
