package export

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ProvNamespace is the namespace of Colophon's identifiers and attributes in PROV-JSON.
const ProvNamespace = "https://github.com/colophon-archive/colophon#"

// provDoc is a PROV-JSON document (https://www.w3.org/Submission/prov-json/): each record
// kind a map from identifier to attributes. encoding/json sorts map keys, so the same bag
// gives the same bytes.
type provDoc struct {
	Prefix            map[string]string `json:"prefix"`
	Entity            provRecords       `json:"entity"`
	Activity          provRecords       `json:"activity"`
	Agent             provRecords       `json:"agent"`
	Used              provRecords       `json:"used"`
	WasGeneratedBy    provRecords       `json:"wasGeneratedBy"`
	WasDerivedFrom    provRecords       `json:"wasDerivedFrom"`
	WasAssociatedWith provRecords       `json:"wasAssociatedWith"`
	WasAttributedTo   provRecords       `json:"wasAttributedTo"`
}

type provRecords map[string]map[string]any

// relate adds a relation under a blank-node identifier ("_:used3") of its own.
func (r provRecords) relate(kind string, attrs map[string]any) {
	r[fmt.Sprintf("_:%s%d", kind, len(r)+1)] = attrs
}

// qname makes a qualified name in the colophon prefix. Characters PROV-N does not allow in
// a local name are percent-encoded.
func qname(local string) string {
	var b strings.Builder
	for i := 0; i < len(local); i++ {
		c := local[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-./:@~&+*?#$!", c) >= 0
		if c == '.' && i == len(local)-1 { // a local name cannot end with a dot
			ok = false
		}
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return "colophon:" + b.String()
}

// qualified is a value that is a qualified name, as PROV-JSON types it.
func qualified(name string) map[string]string {
	return map[string]string{"$": name, "type": "prov:QUALIFIED_NAME"}
}

func agentQName(id string) string { return qname("agent/" + id) }

// provTypes names each kind of file in prov:type.
var provTypes = map[string]string{
	kindScan: "colophon:Scan", kindRecord: "colophon:ProvenanceRecord",
	"text": "colophon:Text", "hocr": "colophon:HOCR", "alto": "colophon:ALTO", "pdf": "colophon:PDF",
}

// PROV describes the bag in W3C PROV-JSON: scans, outputs, records and models as entities
// with their SHA-256; per page an OCR activity that used the scan and the models and
// generated the outputs (each derived from the scan), and a record activity that used the
// outputs and generated the record; the export's check of every file; the agents.
func PROV(b Bag) ([]byte, error) {
	d := provDoc{
		Prefix: map[string]string{"colophon": ProvNamespace},
		Entity: provRecords{}, Activity: provRecords{}, Agent: provRecords{},
		Used: provRecords{}, WasGeneratedBy: provRecords{}, WasDerivedFrom: provRecords{},
		WasAssociatedWith: provRecords{}, WasAttributedTo: provRecords{},
	}
	files := b.files()
	for _, f := range files {
		attrs := map[string]any{
			"prov:type":         qualified(provTypes[f.Kind]),
			"colophon:sha256":   f.Ref.SHA256,
			"colophon:bytes":    f.Ref.Bytes,
			"colophon:format":   f.formatName(),
			"colophon:bag_path": f.bagPath(),
		}
		if f.Kind == kindScan {
			attrs["prov:label"] = f.Page.FileName
		} else {
			attrs["prov:label"] = fmt.Sprintf("page %d %s", f.Page.Page, f.Kind)
		}
		d.Entity[qname(f.id())] = attrs
	}

	var as agents
	attributed := map[string]bool{} // pages of one file share its scan
	for _, p := range b.Pages {
		rec := p.Record
		scan := qname(file{Ref: rec.Scan}.id())
		ocr := qname("ocr/" + pageID(rec))
		act := map[string]any{
			"prov:type":                qualified("colophon:Recognition"),
			"prov:label":               fmt.Sprintf("OCR of page %d", rec.Page),
			"prov:startTime":           timestamp(rec.OCR.Recognised),
			"colophon:languages":       strings.Join(rec.OCR.Languages, "+"),
			"colophon:words":           rec.OCR.Words,
			"colophon:mean_confidence": rec.OCR.MeanConfidence,
		}
		if !rec.OCR.Finished.IsZero() {
			act["prov:endTime"] = timestamp(rec.OCR.Finished)
		}
		d.Activity[ocr] = act
		d.Used.relate("used", map[string]any{"prov:activity": ocr, "prov:entity": scan, "prov:role": qualified("colophon:scan")})
		for _, m := range rec.OCR.Models {
			model := qname("model/" + m.SHA256)
			d.Entity[model] = map[string]any{"prov:type": qualified("colophon:Model"), "prov:label": m.Name, "colophon:sha256": m.SHA256, "colophon:bytes": m.Bytes}
			d.Used.relate("used", map[string]any{"prov:activity": ocr, "prov:entity": model, "prov:role": qualified("colophon:model")})
		}
		for _, a := range ocrAgents(&as, rec) {
			d.WasAssociatedWith.relate("assoc", map[string]any{"prov:activity": ocr, "prov:agent": agentQName(a[0]), "prov:role": a[1]})
		}
		if rec.Uploader != "" && !attributed[scan+" "+rec.Uploader] {
			attributed[scan+" "+rec.Uploader] = true
			d.WasAttributedTo.relate("attr", map[string]any{"prov:entity": scan, "prov:agent": agentQName(uploader(rec.Uploader).ID)})
		}

		record := qname("record/" + pageID(rec))
		d.Activity[record] = map[string]any{
			"prov:type": qualified("colophon:Recording"), "prov:label": fmt.Sprintf("provenance record of page %d", rec.Page),
			"prov:startTime": timestamp(rec.Created), "prov:endTime": timestamp(rec.Created),
		}
		d.WasAssociatedWith.relate("assoc", map[string]any{"prov:activity": record, "prov:agent": agentQName(as.add(metadataWorker))})
		for _, f := range pageOutputs(rec) {
			out := qname(f.id())
			gen := map[string]any{"prov:entity": out, "prov:activity": ocr}
			if !rec.OCR.Finished.IsZero() {
				gen["prov:time"] = timestamp(rec.OCR.Finished)
			}
			d.WasGeneratedBy.relate("gen", gen)
			d.WasDerivedFrom.relate("deriv", map[string]any{"prov:generatedEntity": out, "prov:usedEntity": scan, "prov:activity": ocr})
			d.Used.relate("used", map[string]any{"prov:activity": record, "prov:entity": out})
		}
		d.WasGeneratedBy.relate("gen", map[string]any{"prov:entity": qname(file{Ref: p.RecordFile}.id()), "prov:activity": record, "prov:time": timestamp(rec.Created)})
	}

	export := qname("export/" + b.Doc + "/" + timestamp(b.Checked))
	d.Activity[export] = map[string]any{
		"prov:type": qualified("colophon:FixityCheck"), "prov:label": "SHA-256 of every file checked against its record before bagging",
		"prov:startTime": timestamp(b.Checked), "prov:endTime": timestamp(b.Checked),
	}
	d.WasAssociatedWith.relate("assoc", map[string]any{"prov:activity": export, "prov:agent": agentQName(as.add(softwareColophon(b.Exporter)))})
	for _, f := range files {
		d.Used.relate("used", map[string]any{"prov:activity": export, "prov:entity": qname(f.id())})
	}

	for _, a := range as.list {
		typ := "prov:SoftwareAgent"
		if a.Type == "person" {
			typ = "prov:Person"
		}
		attrs := map[string]any{"prov:type": qualified(typ), "prov:label": a.Name}
		if a.Version != "" {
			attrs["colophon:version"] = a.Version
		}
		if len(a.Notes) > 0 {
			attrs["colophon:note"] = a.Notes
		}
		d.Agent[agentQName(a.ID)] = attrs
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode PROV-JSON for %s: %w", b.Doc, err)
	}
	return append(out, '\n'), nil
}
