// Package export describes a bagged document in the vocabularies archives read: PREMIS 3
// (premis.xml) and W3C PROV-JSON (prov.json), both built from the pages' provenance
// records alone, so they say what the records say and nothing the store could not prove.
package export

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// Page is one page as bagged: its current provenance record and the record's own file.
type Page struct {
	Record pipeline.Provenance
	// RecordFile is the stored record: its bucket and key, and the SHA-256 and size of the
	// bytes bagged.
	RecordFile pipeline.ObjectRef
}

// Bag is what the metadata describes.
type Bag struct {
	Doc   string
	Pages []Page
	// Checked is when the exporter re-hashed every file against its record, before bagging.
	Checked time.Time
	// Exporter is the version of Colophon that made the bag.
	Exporter string
}

// PayloadPath is where a stored object goes under a bag's data/: the store's layout, each
// bucket a directory named without its "colophon-" prefix ("scans/<doc>/0001/<sha>.png").
func PayloadPath(ref pipeline.ObjectRef) string {
	return path.Join(strings.TrimPrefix(ref.Bucket, "colophon-"), ref.Key)
}

// file kinds, as the metadata names them.
const (
	kindScan   = "scan"
	kindRecord = "record"
)

// file is one file of the bag as the metadata describes it.
type file struct {
	Kind string // kindScan, kindRecord or an output format (pipeline.FormatText, ...)
	Ref  pipeline.ObjectRef
	Page pipeline.Provenance // the first page that names it
}

// id is a file's identifier in both documents: its bucket and key, unique in a deployment.
func (f file) id() string { return f.Ref.Bucket + "/" + f.Ref.Key }

// bagPath is the file's path from the bag's root.
func (f file) bagPath() string { return "data/" + PayloadPath(f.Ref) }

// outputFormats is the order a page's outputs are listed in.
var outputFormats = []string{pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF}

// pageOutputs is a page's outputs in outputFormats order.
func pageOutputs(rec pipeline.Provenance) []file {
	outs := rec.Outputs()
	var files []file
	for _, format := range outputFormats {
		if ref, ok := outs[format]; ok {
			files = append(files, file{format, ref, rec})
		}
	}
	return files
}

// files lists every file of the bag once, page by page: scan, outputs, record. Pages of one
// multi-page scan file share its scan, listed with the first of them.
func (b Bag) files() []file {
	var files []file
	seen := map[string]bool{}
	add := func(f file) {
		if !seen[f.id()] {
			seen[f.id()] = true
			files = append(files, f)
		}
	}
	for _, p := range b.Pages {
		add(file{kindScan, p.Record.Scan, p.Record})
		for _, f := range pageOutputs(p.Record) {
			add(f)
		}
		add(file{kindRecord, p.RecordFile, p.Record})
	}
	return files
}

// formatName names a file's format for PREMIS and PROV.
func (f file) formatName() string {
	switch f.Kind {
	case pipeline.FormatText:
		return "Plain text (UTF-8)"
	case pipeline.FormatHOCR:
		return "hOCR (XHTML)"
	case pipeline.FormatALTO:
		return "ALTO XML"
	case pipeline.FormatPDF:
		return "PDF"
	case kindRecord:
		return "JSON (Colophon provenance record)"
	}
	switch ext := strings.ToLower(path.Ext(f.Ref.Key)); ext {
	case ".png":
		return "PNG"
	case ".jpg", ".jpeg":
		return "JPEG"
	case ".tif", ".tiff":
		return "TIFF"
	case ".pdf":
		return "PDF"
	case ".jp2":
		return "JPEG 2000 (JP2)"
	case ".webp":
		return "WebP"
	case ".gif":
		return "GIF"
	case ".bmp":
		return "BMP"
	default:
		return "unknown (" + strings.TrimPrefix(ext, ".") + ")"
	}
}

// agent is a software, person or organisation agent, the same in both documents.
type agent struct {
	ID      string // unique in the bag: "software/tesseract/5.3.0/...", "person/maria@archive-3"
	Name    string
	Type    string // "software" or "person", PREMIS's agentType words
	Version string
	Notes   []string
}

func softwareColophon(version string) agent {
	version = cmp.Or(version, "unknown")
	return agent{ID: "software/colophon/" + version, Name: "Colophon", Type: "software", Version: version}
}

// metadataWorker is the agent that hashed a page's outputs and wrote its record. Records
// do not say which build of it ran.
var metadataWorker = agent{ID: "software/colophon-metadata-worker", Name: "Colophon metadata worker", Type: "software",
	Notes: []string{"re-hashes each stored output and writes the page's provenance record; the record does not carry its version"}}

// engine is the OCR engine that read a page, with the model files it used.
func engine(o pipeline.OCRInfo) agent {
	version := cmp.Or(o.EngineVersion, "unknown")
	a := agent{ID: "software/" + o.Engine + "/" + version, Name: o.Engine, Type: "software", Version: version}
	if o.Engine == "tesseract" {
		a.Name = "Tesseract"
	}
	for _, m := range o.Models {
		a.ID += "/" + m.Name + "@" + m.SHA256[:min(16, len(m.SHA256))]
		a.Notes = append(a.Notes, fmt.Sprintf("model %s, SHA-256 %s, %d bytes", m.Name, m.SHA256, m.Bytes))
	}
	if o.GosseractVersion != "" {
		a.Notes = append(a.Notes, "called through gosseract "+o.GosseractVersion)
	}
	return a
}

func leptonica(version string) agent {
	return agent{ID: "software/leptonica/" + version, Name: "Leptonica", Type: "software", Version: version,
		Notes: []string{"image library: cleans the page before recognition"}}
}

func uploader(name string) agent {
	return agent{ID: "person/" + name, Name: name, Type: "person", Notes: []string{"queued the page for recognition (upload's --uploader)"}}
}

// agents collects distinct agents in the order they are first added.
type agents struct {
	list []agent
	seen map[string]bool
}

func (as *agents) add(a agent) string {
	if as.seen == nil {
		as.seen = map[string]bool{}
	}
	if !as.seen[a.ID] {
		as.seen[a.ID] = true
		as.list = append(as.list, a)
	}
	return a.ID
}

// ocrAgents are the agents of a page's recognition with their PREMIS roles.
func ocrAgents(as *agents, rec pipeline.Provenance) [][2]string {
	out := [][2]string{{as.add(engine(rec.OCR)), "executing program"}}
	if v := rec.OCR.LeptonicaVersion; v != "" {
		out = append(out, [2]string{as.add(leptonica(v)), "software library"})
	}
	if v := rec.OCR.ColophonVersion; v != "" {
		out = append(out, [2]string{as.add(softwareColophon(v)), "executing program"})
	}
	if rec.Uploader != "" {
		out = append(out, [2]string{as.add(uploader(rec.Uploader)), "submitter"})
	}
	return out
}

// pageID names a page's version in event and activity identifiers: "<doc>/0001/v1".
func pageID(rec pipeline.Provenance) string {
	return fmt.Sprintf("%s/%04d/v%d", rec.Doc, rec.Page, rec.Version)
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ocrDetails describes how a page was read, one line per aspect.
func ocrDetails(rec pipeline.Provenance) []string {
	o := rec.OCR
	d := []string{fmt.Sprintf("%s %s read page %d (file %s%s) in %s at %d dpi, page segmentation mode %d",
		o.Engine, cmp.Or(o.EngineVersion, "(version unknown)"), rec.Page, rec.FileName, filePage(rec), strings.Join(o.Languages, "+"), o.DPI, o.PSM)}
	for _, m := range o.Models {
		d = append(d, fmt.Sprintf("model %s, SHA-256 %s, %d bytes", m.Name, m.SHA256, m.Bytes))
	}
	var steps []string
	for _, s := range o.Preprocessing {
		keys := make([]string, 0, len(s.Params))
		for k := range s.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var params []string
		for _, k := range keys {
			params = append(params, k+"="+s.Params[k])
		}
		steps = append(steps, s.Name+"("+strings.Join(params, " ")+")")
	}
	if len(steps) > 0 {
		d = append(d, "image cleaned with Leptonica "+cmp.Or(o.LeptonicaVersion, "(version unknown)")+": "+strings.Join(steps, ", "))
	}
	if r := o.Orientation; r != nil && r.Rotated != 0 {
		d = append(d, fmt.Sprintf("orientation: turned %d degrees clockwise (detector confidence %.1f)", r.Rotated, r.Confidence))
	} else if r != nil {
		d = append(d, fmt.Sprintf("orientation: checked, left upright (detector confidence %.1f)", r.Confidence))
	}
	for _, a := range o.Attempts {
		kept := ""
		if a.Kept {
			kept = ", kept"
		}
		d = append(d, fmt.Sprintf("reading %q: %d words, mean confidence %.1f%s", a.Config, a.Words, a.MeanConfidence, kept))
	}
	if o.InputTextLayer {
		d = append(d, "the scan is a PDF page that already had a text layer; it was read from its image")
	}
	d = append(d, fmt.Sprintf("worker %s, Colophon %s", o.Worker, cmp.Or(o.ColophonVersion, "(version unknown)")))
	return d
}

func filePage(rec pipeline.Provenance) string {
	if rec.FilePage > 0 {
		return fmt.Sprintf(", page %d", rec.FilePage)
	}
	return ""
}
