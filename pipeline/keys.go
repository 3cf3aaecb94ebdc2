package pipeline

import (
	"fmt"
	"strings"
)

// Object keys. A page's objects live under "<doc>/<page>/" so one prefix lists a document
// and a page's history sorts together. Texts and records carry a version, bumped when a page
// is deliberately recognised again, so older readings are kept rather than overwritten.
//
//	colophon-scans/<doc>/0001/<sha256>.<ext>
//	colophon-texts/<doc>/0001/v1.txt        (and v1.hocr, v1.alto.xml, v1.pdf)
//	colophon-provenance/<doc>/0001/v1.json

// ScanKey names a stored scan by its content, so storing the same scan twice is harmless.
// A multi-page file is stored once, under its first page.
func ScanKey(doc string, page int, sha256Hex, ext string) string {
	ext = strings.TrimPrefix(strings.ToLower(ext), ".")
	if ext == "" {
		ext = "bin"
	}
	return fmt.Sprintf("%s/%04d/%s.%s", doc, page, sha256Hex, ext)
}

// TextKey names version v of a page's recognised text.
func TextKey(doc string, page, version int) string {
	return fmt.Sprintf("%s/%04d/v%d.txt", doc, page, version)
}

// HOCRKey names version v of a page's hOCR.
func HOCRKey(doc string, page, version int) string {
	return fmt.Sprintf("%s/%04d/v%d.hocr", doc, page, version)
}

// ALTOKey names version v of a page's ALTO XML.
func ALTOKey(doc string, page, version int) string {
	return fmt.Sprintf("%s/%04d/v%d.alto.xml", doc, page, version)
}

// PDFKey names version v of a page's one-page searchable PDF.
func PDFKey(doc string, page, version int) string {
	return fmt.Sprintf("%s/%04d/v%d.pdf", doc, page, version)
}

// ProvenanceKey names version v of a page's provenance record.
func ProvenanceKey(doc string, page, version int) string {
	return fmt.Sprintf("%s/%04d/v%d.json", doc, page, version)
}

// StatusPageKey is a page's key in KVStatus; the document's own entry is its ID.
func StatusPageKey(doc string, page int) string {
	return fmt.Sprintf("%s.%04d", doc, page)
}

// StatusPagesFilter matches every page key of a document in KVStatus.
func StatusPagesFilter(doc string) string { return doc + ".*" }

// OCRMsgID is the Nats-Msg-Id of a page's OCR job. It is built from what makes the job the
// same job (document, page, version, scan hash), so a retried publish is dropped by
// JetStream rather than recognised twice.
func OCRMsgID(doc string, page, version int, scanSHA256 string) string {
	return fmt.Sprintf("ocr.%s.%04d.v%d.%s", doc, page, version, scanSHA256)
}

// MetadataMsgID is the Nats-Msg-Id of a page's metadata job.
func MetadataMsgID(doc string, page, version int, textSHA256 string) string {
	return fmt.Sprintf("meta.%s.%04d.v%d.%s", doc, page, version, textSHA256)
}

// DeadSubject is the dead-letter subject for a stage's jobs.
func DeadSubject(stage Stage) string { return SubjectDead + "." + string(stage) }

// RecordSubject is the record log subject of version v of a page's provenance record.
func RecordSubject(doc string, page, version int) string {
	return fmt.Sprintf("%s.%s.%04d.v%d", SubjectRecords, doc, page, version)
}

// RecordsFilter matches every record log subject of a document.
func RecordsFilter(doc string) string { return SubjectRecords + "." + doc + ".>" }
