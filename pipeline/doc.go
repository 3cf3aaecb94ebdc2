// Package pipeline is Colophon's contract: the subjects and streams that carry work, the
// messages on them, the object-store key layout, the page states and the provenance record.
// Every other package depends on it; it depends on nothing of Colophon's, and does no I/O.
//
// The flow, one page at a time:
//
//	upload ──OCRJob──▶ SubjectOCR ──▶ OCR worker ──MetadataJob──▶ SubjectMetadata ──▶ metadata worker
//	  │ scan → BucketScans              │ text → BucketTexts                          │ record → BucketProvenance
//	  └ page queued (status KV)          └ page ocr, then metadata                     └ page done
//
// S3-native ingest: an object put straight into BucketScans makes MinIO publish an S3Event on
// SubjectS3Events; the ingest worker claims the next pages of the document its key names
// (IngestEntry in KVIngest) and then stores and queues them as upload does.
package pipeline
