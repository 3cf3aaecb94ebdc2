package export

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

func hex64(c byte) string { return strings.Repeat(string(c), 64) }

func ref(bucket, key string, c byte, n int64) pipeline.ObjectRef {
	return pipeline.ObjectRef{Bucket: bucket, Key: key, SHA256: hex64(c), Bytes: n}
}

// twoPages is a two-page document from one two-page TIFF: both pages share its scan.
func twoPages() Bag {
	t0 := time.Date(2026, 11, 27, 21, 34, 27, 600e6, time.UTC)
	var pages []Page
	for n := 1; n <= 2; n++ {
		hocr := ref(pipeline.BucketTexts, pipeline.HOCRKey("doc-1", n, 1), 'b', 400)
		alto := ref(pipeline.BucketTexts, pipeline.ALTOKey("doc-1", n, 1), 'c', 500)
		pdf := ref(pipeline.BucketTexts, pipeline.PDFKey("doc-1", n, 1), 'd', 600)
		rec := pipeline.Provenance{
			Doc: "doc-1", Page: n, Version: 1, Source: "Tenants' Union papers, box 12", Date: "1974-03",
			FileName: "minutes.tif", FilePage: n, Uploader: "maria@archive-3", Uploaded: t0.Add(-2 * time.Second),
			Created: t0.Add(2 * time.Second),
			Scan:    ref(pipeline.BucketScans, pipeline.ScanKey("doc-1", 1, hex64('a'), "tif"), 'a', 1000),
			Text:    ref(pipeline.BucketTexts, pipeline.TextKey("doc-1", n, 1), byte('0'+n), 300),
			HOCR:    &hocr, ALTO: &alto, PDF: &pdf,
			OCR: pipeline.OCRInfo{
				Engine: "tesseract", EngineVersion: "5.3.0", Languages: []string{"eng"}, MeanConfidence: 96.2, Words: 218, DPI: 300, PSM: 3,
				Worker: "host-1234", Host: "host", DurationMS: 1300, Recognised: t0, Finished: t0.Add(1300 * time.Millisecond),
				Models:           []pipeline.Model{{Name: "eng.traineddata", SHA256: hex64('e'), Bytes: 4113088}},
				LeptonicaVersion: "1.82.0", GosseractVersion: "v2.4.1", ColophonVersion: "9ce0742f3a1b",
				Preprocessing: []pipeline.Step{{Name: "binarize", Params: map[string]string{"method": "sauvola", "k": "0.34"}}},
			},
		}
		if n == 2 {
			rec.OCR.Orientation = &pipeline.Orientation{Rotated: 180, Confidence: 17.8}
			rec.OCR.Attempts = []pipeline.Attempt{{Config: "psm=3", MeanConfidence: 41, Words: 190}, {Config: "rotate=180 psm=3", MeanConfidence: 96, Words: 218, Kept: true}}
		}
		pages = append(pages, Page{Record: rec, RecordFile: ref(pipeline.BucketProvenance, pipeline.ProvenanceKey("doc-1", n, 1), byte('6'+n), 2000)})
	}
	return Bag{Doc: "doc-1", Pages: pages, Checked: t0.Add(time.Hour), Exporter: "v1.2.3"}
}

// premisOut is what the test reads back from PREMIS.
type premisOut struct {
	XMLName xml.Name `xml:"http://www.loc.gov/premis/v3 premis"`
	Version string   `xml:"version,attr"`
	Objects []struct {
		Type   string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
		ID     string `xml:"objectIdentifier>objectIdentifierValue"`
		Fixity struct {
			Algorithm string `xml:"messageDigestAlgorithm"`
			Digest    string `xml:"messageDigest"`
		} `xml:"objectCharacteristics>fixity"`
		Size     int64  `xml:"objectCharacteristics>size"`
		Format   string `xml:"objectCharacteristics>format>formatDesignation>formatName"`
		Location string `xml:"storage>contentLocation>contentLocationValue"`
	} `xml:"object"`
	Events []struct {
		ID       string `xml:"eventIdentifier>eventIdentifierValue"`
		Type     string `xml:"eventType"`
		DateTime string `xml:"eventDateTime"`
		Infos    []struct {
			Details []string `xml:"eventDetail"`
		} `xml:"eventDetailInformation"`
		Outcome string `xml:"eventOutcomeInformation>eventOutcome"`
		Agents  []struct {
			Value string `xml:"linkingAgentIdentifierValue"`
			Role  string `xml:"linkingAgentRole"`
		} `xml:"linkingAgentIdentifier"`
		Objects []struct {
			Value string `xml:"linkingObjectIdentifierValue"`
			Role  string `xml:"linkingObjectRole"`
		} `xml:"linkingObjectIdentifier"`
	} `xml:"event"`
	Agents []struct {
		ID      string   `xml:"agentIdentifier>agentIdentifierValue"`
		Name    string   `xml:"agentName"`
		Type    string   `xml:"agentType"`
		Version string   `xml:"agentVersion"`
		Notes   []string `xml:"agentNote"`
	} `xml:"agent"`
}

func TestPREMIS(t *testing.T) {
	b := twoPages()
	data, err := PREMIS(b)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var doc premisOut
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("PREMIS is not well formed: %v\n%s", err, data)
	}
	if bytes.Contains(data, []byte("></eventOutcomeDetail>")) {
		t.Error("an empty eventOutcomeDetail")
	}
	if doc.Version != "3.0" {
		t.Errorf("version %q", doc.Version)
	}

	// Objects: the shared scan once, 4 outputs and a record per page.
	objects := map[string]int{}
	for _, o := range doc.Objects {
		objects[o.ID]++
		if o.Type != "file" || o.Fixity.Algorithm != "SHA-256" || len(o.Fixity.Digest) != 64 || o.Size <= 0 || o.Format == "" || !strings.HasPrefix(o.Location, "data/") {
			t.Errorf("object %s: %+v", o.ID, o)
		}
	}
	var want []string
	for _, p := range b.Pages {
		want = append(want, p.Record.Scan.Bucket+"/"+p.Record.Scan.Key, p.RecordFile.Bucket+"/"+p.RecordFile.Key)
		for _, r := range p.Record.Outputs() {
			want = append(want, r.Bucket+"/"+r.Key)
		}
	}
	for _, id := range want {
		if objects[id] != 1 {
			t.Errorf("object %s appears %d times, want once", id, objects[id])
		}
	}
	if len(doc.Objects) != 11 {
		t.Errorf("%d objects, want 11 (one scan, 2 x 4 outputs, 2 records)", len(doc.Objects))
	}
	scan := doc.Objects[0]
	if scan.Fixity.Digest != hex64('a') || scan.Size != 1000 || scan.Format != "TIFF" || scan.Location != "data/scans/doc-1/0001/"+hex64('a')+".tif" {
		t.Errorf("scan object: %+v", scan)
	}

	agents := map[string]bool{}
	for _, a := range doc.Agents {
		agents[a.ID] = true
	}
	types := map[string]int{}
	for _, e := range doc.Events {
		types[e.Type]++
		if e.Outcome == "" || e.DateTime == "" {
			t.Errorf("event %s: no outcome or date", e.ID)
		}
		if len(e.Agents) == 0 || len(e.Objects) == 0 {
			t.Errorf("event %s links %d agents and %d objects", e.ID, len(e.Agents), len(e.Objects))
		}
		for _, a := range e.Agents {
			if !agents[a.Value] || a.Role == "" {
				t.Errorf("event %s links agent %q (role %q), which is not described", e.ID, a.Value, a.Role)
			}
		}
		for _, o := range e.Objects {
			if objects[o.Value] != 1 || o.Role == "" {
				t.Errorf("event %s links object %q (role %q), which is not described", e.ID, o.Value, o.Role)
			}
		}
	}
	if types["transcription"] != 2 || types["message digest calculation"] != 2 || types["fixity check"] != 1 {
		t.Errorf("event types %v, want transcription and message digest calculation per page, one fixity check", types)
	}
	tr := doc.Events[0]
	var lines []string
	for _, info := range tr.Infos {
		if len(info.Details) != 1 {
			t.Errorf("transcription: %d eventDetail in one eventDetailInformation; the schema allows one", len(info.Details))
		}
		lines = append(lines, info.Details...)
	}
	details := strings.Join(lines, "\n")
	if tr.Type != "transcription" || tr.DateTime != "2026-11-27T21:34:27.6Z/2026-11-27T21:34:28.9Z" ||
		!strings.Contains(details, "tesseract 5.3.0") || !strings.Contains(details, "eng.traineddata, SHA-256 "+hex64('e')) {
		t.Errorf("transcription event: %s at %s\n%s", tr.Type, tr.DateTime, details)
	}
	if len(tr.Objects) != 5 || tr.Objects[0].Role != "source" || tr.Objects[1].Role != "outcome" {
		t.Errorf("transcription links %+v; want the scan as source, 4 outputs as outcome", tr.Objects)
	}
	if fix := doc.Events[len(doc.Events)-1]; fix.Type != "fixity check" || len(fix.Objects) != 11 || fix.Outcome != "pass" {
		t.Errorf("fixity check: %s links %d objects, outcome %s", fix.Type, len(fix.Objects), fix.Outcome)
	}
	// Both pages were read by the same engine and model: one Tesseract agent.
	names := map[string]int{}
	for _, a := range doc.Agents {
		names[a.Name+" "+a.Version+" "+a.Type]++
	}
	for _, n := range []string{"Tesseract 5.3.0 software", "Leptonica 1.82.0 software", "Colophon 9ce0742f3a1b software",
		"Colophon v1.2.3 software", "Colophon metadata worker  software", "maria@archive-3  person"} {
		if names[n] != 1 {
			t.Errorf("agent %q appears %d times; agents: %v", n, names[n], names)
		}
	}
}

func TestPROV(t *testing.T) {
	b := twoPages()
	data, err := PROV(b)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("PROV-JSON does not parse: %v\n%s", err, data)
	}
	var prefix map[string]string
	if err := json.Unmarshal(top["prefix"], &prefix); err != nil || prefix["colophon"] != ProvNamespace {
		t.Errorf("prefix: %v, %v", prefix, err)
	}
	doc := map[string]map[string]map[string]any{}
	for kind, raw := range top {
		if kind == "prefix" {
			continue
		}
		var records map[string]map[string]any
		if err := json.Unmarshal(raw, &records); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		doc[kind] = records
	}
	// Every relation's ends exist.
	refs := map[string]string{
		"prov:activity": "activity", "prov:entity": "entity", "prov:agent": "agent",
		"prov:generatedEntity": "entity", "prov:usedEntity": "entity",
	}
	counts := map[string]int{}
	for _, rel := range []string{"used", "wasGeneratedBy", "wasDerivedFrom", "wasAssociatedWith", "wasAttributedTo"} {
		if len(doc[rel]) == 0 {
			t.Errorf("no %s relations", rel)
		}
		for id, attrs := range doc[rel] {
			if !strings.HasPrefix(id, "_:") {
				t.Errorf("%s %s: want a blank-node identifier", rel, id)
			}
			for attr, kind := range refs {
				v, ok := attrs[attr]
				if !ok {
					continue
				}
				if _, exists := doc[kind][v.(string)]; !exists {
					t.Errorf("%s %s: %s %v is no %s", rel, id, attr, v, kind)
				}
				counts[rel+" "+attr]++
			}
		}
	}
	for _, kind := range []string{"entity", "activity", "agent"} {
		for id := range doc[kind] {
			if !strings.HasPrefix(id, "colophon:") || strings.ContainsAny(id, " ()") {
				t.Errorf("%s id %q is not a qualified name", kind, id)
			}
		}
	}
	scan := "colophon:colophon-scans/doc-1/0001/" + hex64('a') + ".tif"
	if e := doc["entity"][scan]; e == nil || e["colophon:sha256"] != hex64('a') || e["colophon:bag_path"] != "data/scans/doc-1/0001/"+hex64('a')+".tif" {
		t.Errorf("scan entity: %v", e)
	}
	if n := len(doc["wasAttributedTo"]); n != 1 {
		t.Errorf("%d attributions, want the shared scan's one", n)
	}
	// 1 scan + 8 outputs + 2 records + 1 model.
	if n := len(doc["entity"]); n != 12 {
		t.Errorf("%d entities, want 12", n)
	}
	ocr := doc["activity"]["colophon:ocr/doc-1/0001/v1"]
	if ocr == nil || ocr["prov:startTime"] != "2026-11-27T21:34:27.6Z" || ocr["prov:endTime"] != "2026-11-27T21:34:28.9Z" {
		t.Errorf("OCR activity of page 1: %v", ocr)
	}
	// Each output derived from the scan by its page's OCR.
	derived := 0
	for _, d := range doc["wasDerivedFrom"] {
		if d["prov:usedEntity"] == scan && strings.HasPrefix(fmt.Sprint(d["prov:activity"]), "colophon:ocr/") {
			derived++
		}
	}
	if derived != 8 {
		t.Errorf("%d outputs derived from the scan, want 8", derived)
	}
	for _, id := range []string{"colophon:colophon-provenance/doc-1/0001/v1.json", "colophon:colophon-provenance/doc-1/0002/v1.json"} {
		found := false
		for _, g := range doc["wasGeneratedBy"] {
			if g["prov:entity"] == id && strings.HasPrefix(fmt.Sprint(g["prov:activity"]), "colophon:record/") {
				found = true
			}
		}
		if !found {
			t.Errorf("record %s not generated by a record activity", id)
		}
	}
	var agentLabels []string
	for _, a := range doc["agent"] {
		agentLabels = append(agentLabels, fmt.Sprint(a["prov:label"]))
	}
	slices.Sort(agentLabels)
	if got := strings.Join(agentLabels, ","); got != "Colophon,Colophon,Colophon metadata worker,Leptonica,Tesseract,maria@archive-3" {
		t.Errorf("agents: %s", got)
	}
}

func TestQName(t *testing.T) {
	for in, want := range map[string]string{
		"colophon-scans/doc-1/0001/ab.png": "colophon:colophon-scans/doc-1/0001/ab.png",
		"agent/person/Maria López":         "colophon:agent/person/Maria%20L%C3%B3pez",
		"agent/software/colophon/(devel)":  "colophon:agent/software/colophon/%28devel%29",
		"v1.":                              "colophon:v1%2E",
	} {
		if got := qname(in); got != want {
			t.Errorf("qname(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPayloadPath(t *testing.T) {
	if got := PayloadPath(ref(pipeline.BucketTexts, "doc-1/0001/v1.txt", 'a', 1)); got != "texts/doc-1/0001/v1.txt" {
		t.Errorf("PayloadPath = %q", got)
	}
}
