package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ObjectRef points at a stored object and says what its bytes must hash to.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (r ObjectRef) validate(what string) error {
	switch {
	case r.Bucket == "" || r.Key == "":
		return fmt.Errorf("%s: bucket and key are required", what)
	case !sha256Hex.MatchString(r.SHA256):
		return fmt.Errorf("%s: sha256 %q is not 64 lowercase hex digits", what, r.SHA256)
	case r.Bytes < 0:
		return fmt.Errorf("%s: negative size %d", what, r.Bytes)
	}
	return nil
}

// OCRJob asks for one page to be recognised. Published by upload (and reprocess) on SubjectOCR.
type OCRJob struct {
	Doc      string    `json:"doc"`
	Page     int       `json:"page"`
	Version  int       `json:"version"`
	Scan     ObjectRef `json:"scan"`
	FileName string    `json:"file_name"`
	// FilePage is the page's place in a multi-page scan file (PDF, TIFF), from 1; 0 for a
	// file that is one page. The pages of one file share its stored scan.
	FilePage  int       `json:"file_page,omitempty"`
	Source    string    `json:"source"`
	Date      string    `json:"date,omitempty"`
	Languages []string  `json:"languages"`
	Submitted time.Time `json:"submitted"`
	// Uploader is who queued the page (upload's --uploader; default user@host).
	Uploader string `json:"uploader,omitempty"`
}

// Validate checks a job from the wire before any work is done on it.
func (j OCRJob) Validate() error {
	if err := ValidateDocID(j.Doc); err != nil {
		return err
	}
	if err := ValidatePage(j.Page); err != nil {
		return err
	}
	if j.Version < 1 {
		return fmt.Errorf("version %d: want 1 or more", j.Version)
	}
	if err := j.Scan.validate("scan"); err != nil {
		return err
	}
	if j.FilePage < 0 || j.FilePage > MaxPages {
		return fmt.Errorf("file page %d: want 0 to %d", j.FilePage, MaxPages)
	}
	if j.Date != "" {
		if _, err := ParseDate(j.Date); err != nil {
			return err
		}
	}
	return ValidateLanguages(j.Languages)
}

// MsgID is the job's de-duplication ID.
func (j OCRJob) MsgID() string { return OCRMsgID(j.Doc, j.Page, j.Version, j.Scan.SHA256) }

// OCRInfo says which engine read a page, how, and how sure it was.
type OCRInfo struct {
	Engine         string   `json:"engine"`
	EngineVersion  string   `json:"engine_version"`
	Languages      []string `json:"languages"`
	MeanConfidence float64  `json:"mean_confidence"` // 0-100, mean of word confidences
	Words          int      `json:"words"`
	DPI            int      `json:"dpi"`            // resolution recognition assumed
	PSM            int      `json:"psm,omitempty"`  // Tesseract page segmentation mode of the kept reading
	Worker         string   `json:"worker"`         // worker ID, "<host>-<pid>"
	Host           string   `json:"host,omitempty"` // the worker's host name
	// DurationMS is the recognition time: cleanup, orientation and every reading.
	DurationMS int64     `json:"duration_ms"`
	Recognised time.Time `json:"recognised"` // when recognition started
	Finished   time.Time `json:"finished,omitzero"`
	// Models are the model files that read the page, by SHA-256.
	Models []Model `json:"models,omitempty"`
	// Versions of what read the page: Leptonica (the image library), gosseract, Colophon.
	LeptonicaVersion string `json:"leptonica_version,omitempty"`
	GosseractVersion string `json:"gosseract_version,omitempty"`
	ColophonVersion  string `json:"colophon_version,omitempty"`
	// Orientation is what orientation detection found, when it ran.
	Orientation *Orientation `json:"orientation,omitempty"`
	// Preprocessing lists what was done to the image before the kept reading, in order.
	Preprocessing []Step `json:"preprocessing,omitempty"`
	// Attempts are the readings made, in order, when more than one was: a page read with
	// low confidence is read again another way and the better reading kept.
	Attempts []Attempt `json:"attempts,omitempty"`
	// InputTextLayer is true when the scan is a PDF page that already carried text; the
	// page was recognised from its image all the same.
	InputTextLayer bool `json:"input_text_layer,omitempty"`
	// Scale is the resolution declared and measured, and the resizing done before reading.
	Scale *Scale `json:"scale,omitempty"`
	// Quality is the judge's verdict on the kept reading: ok, or review and why.
	Quality *Quality `json:"quality,omitempty"`
}

// Model is a model file, by content.
type Model struct {
	Name   string `json:"name"` // e.g. "eng.traineddata"
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Step is one thing done to a page image before recognition, with its parameters.
type Step struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params,omitempty"`
}

// Orientation is how the scan lay and what was done about it.
type Orientation struct {
	Rotated int `json:"rotated_deg"` // clockwise rotation applied: 0, 90, 180 or 270
	// Detector says what judged it: DetectorLetterShapes or DetectorOSD.
	Detector   string  `json:"detector,omitempty"`
	Confidence float64 `json:"confidence"` // the detector's confidence in the page's orientation
	Script     string  `json:"script,omitempty"`
	// UpConf and LeftConf are the letter-shape detector's two measures: upright (positive)
	// or upside down (negative), and the same across the page for a page on its side.
	UpConf   float64 `json:"up_conf,omitempty"`
	LeftConf float64 `json:"left_conf,omitempty"`
}

// Orientation detectors.
const (
	// DetectorLetterShapes is Leptonica's count of ascenders and descenders (Latin script).
	DetectorLetterShapes = "leptonica-letter-shapes"
	// DetectorOSD is Tesseract's orientation and script detection (osd.traineddata).
	DetectorOSD = "tesseract-osd"
)

// Attempt is one reading of a page.
type Attempt struct {
	Config         string  `json:"config"` // e.g. "binarize=sauvola psm=3"
	MeanConfidence float64 `json:"mean_confidence"`
	Words          int     `json:"words"`
	DurationMS     int64   `json:"duration_ms"`
	// Score is the judge's estimate for this reading (Quality.Score): readings are
	// ranked by it.
	Score float64 `json:"score,omitempty"`
	Kept  bool    `json:"kept"`
}

// MetadataJob asks for a recognised page's provenance to be recorded. Published by the OCR
// worker on SubjectMetadata after the text is stored.
type MetadataJob struct {
	OCRJob
	Text ObjectRef  `json:"text"`
	HOCR *ObjectRef `json:"hocr,omitempty"`
	ALTO *ObjectRef `json:"alto,omitempty"`
	PDF  *ObjectRef `json:"pdf,omitempty"`
	OCR  OCRInfo    `json:"ocr"`
}

// Validate checks a job from the wire before any work is done on it.
func (j MetadataJob) Validate() error {
	if err := j.OCRJob.Validate(); err != nil {
		return err
	}
	if err := j.Text.validate("text"); err != nil {
		return err
	}
	for what, r := range map[string]*ObjectRef{"hocr": j.HOCR, "alto": j.ALTO, "pdf": j.PDF} {
		if r != nil {
			if err := r.validate(what); err != nil {
				return err
			}
		}
	}
	if j.OCR.Engine == "" {
		return errors.New("ocr engine missing")
	}
	return nil
}

// MsgID is the job's de-duplication ID.
func (j MetadataJob) MsgID() string { return MetadataMsgID(j.Doc, j.Page, j.Version, j.Text.SHA256) }

// Provenance is a page's provenance record, stored as JSON in BucketProvenance: where the
// text came from and what its bytes hash to, so anyone can check it has not changed.
type Provenance struct {
	Doc      string    `json:"doc"`
	Page     int       `json:"page"`
	Version  int       `json:"version"`
	Source   string    `json:"source"`
	Date     string    `json:"date,omitempty"`
	FileName string    `json:"file_name"`
	FilePage int       `json:"file_page,omitempty"` // as in OCRJob
	Uploader string    `json:"uploader,omitempty"`  // as in OCRJob
	Uploaded time.Time `json:"uploaded,omitzero"`   // when the page was queued
	Created  time.Time `json:"created"`             // RFC 3339 UTC: when the record was written
	Scan     ObjectRef `json:"scan"`
	Text     ObjectRef `json:"text"`
	// HOCR, ALTO and PDF are the page's other outputs: hOCR and ALTO XML (word boxes and
	// confidences) and a one-page PDF of the image with the text as an invisible layer.
	HOCR *ObjectRef `json:"hocr,omitempty"`
	ALTO *ObjectRef `json:"alto,omitempty"`
	PDF  *ObjectRef `json:"pdf,omitempty"`
	OCR  OCRInfo    `json:"ocr"`
	// DatesFound are dates written in the page's text, found by the metadata worker: a
	// help to date undated material, recorded beside Date, never in its place.
	DatesFound []DateFound `json:"dates_found,omitempty"`
	// Chain places the record in its document's chain: a record rewritten or deleted in the
	// store breaks the chain the record log (StreamRecords) keeps.
	Chain *Chain `json:"chain,omitempty"`
	// Signature is the metadata worker's Ed25519 signature over the record without it.
	Signature *Signature `json:"signature,omitempty"`
}

// Chain is a record's place in its document's chain of records, in the order they were
// written.
type Chain struct {
	Seq  int        `json:"seq"`            // 1 for a document's first record
	Prev *RecordRef `json:"prev,omitempty"` // the document's record written before this one
}

// RecordRef names a stored provenance record and the SHA-256 of its bytes.
type RecordRef struct {
	Page    int    `json:"page"`
	Version int    `json:"version"`
	Key     string `json:"key"`
	SHA256  string `json:"sha256"`
}

// Signature is an Ed25519 signature over a record's signed bytes (the record encoded with
// no signature).
type Signature struct {
	Algorithm string `json:"algorithm"`  // SignatureEd25519
	PublicKey string `json:"public_key"` // base64 of the 32-byte public key, so anyone can check
	KeyID     string `json:"key_id"`     // the first 16 hex digits of the public key's SHA-256
	Value     string `json:"value"`      // base64 of the 64-byte signature
}

// SignatureEd25519 is the one signature algorithm records use.
const SignatureEd25519 = "ed25519"

// SignedBytes is what a record's signature covers: the record encoded without its
// signature. Encoding a decoded record gives back the same bytes, so anyone holding the
// record can recompute them.
func (p Provenance) SignedBytes() ([]byte, error) {
	p.Signature = nil
	return Encode(p)
}

// RecordEntry is a record's entry in the record log: appended once the record is stored,
// on RecordSubject, never deleted.
type RecordEntry struct {
	RecordRef
	Doc     string     `json:"doc"`
	Seq     int        `json:"seq"`
	Prev    *RecordRef `json:"prev,omitempty"`
	Created time.Time  `json:"created"`
}

// DateFound is a date written in a page's text.
type DateFound struct {
	Page       int     `json:"page"`
	Text       string  `json:"text"`       // the words as they stand in the text
	Date       string  `json:"date"`       // ISO 8601: YYYY-MM-DD or YYYY-MM
	Confidence float64 `json:"confidence"` // 0-1
}

// Outputs lists the record's stored outputs by format: "text", and "hocr", "alto" and "pdf"
// where the page has them.
func (p Provenance) Outputs() map[string]ObjectRef {
	out := map[string]ObjectRef{FormatText: p.Text}
	if p.HOCR != nil {
		out[FormatHOCR] = *p.HOCR
	}
	if p.ALTO != nil {
		out[FormatALTO] = *p.ALTO
	}
	if p.PDF != nil {
		out[FormatPDF] = *p.PDF
	}
	return out
}

// Output formats.
const (
	FormatText = "text"
	FormatHOCR = "hocr"
	FormatALTO = "alto"
	FormatPDF  = "pdf"
)

// DocumentStatus is a document's entry in KVStatus.
type DocumentStatus struct {
	Doc       string    `json:"doc"`
	Source    string    `json:"source"`
	Date      string    `json:"date,omitempty"`
	Pages     int       `json:"pages"`
	Languages []string  `json:"languages"`
	Created   time.Time `json:"created"`
}

// PageStatus is a page's entry in KVStatus.
type PageStatus struct {
	Doc        string    `json:"doc"`
	Page       int       `json:"page"`
	FileName   string    `json:"file_name"`
	State      PageState `json:"state"`
	Error      string    `json:"error,omitempty"`
	Version    int       `json:"version"`
	ScanSHA256 string    `json:"scan_sha256,omitempty"`
	// ScanKey and ScanBytes locate the page's stored scan (in BucketScans), so the page
	// can be recognised again (reprocess) even when no provenance record exists.
	ScanKey   string `json:"scan_key,omitempty"`
	ScanBytes int64  `json:"scan_bytes,omitempty"`
	FilePage  int    `json:"file_page,omitempty"` // as in OCRJob
	// Verdict is the quality of a read page's text (ok or review), from its reading;
	// empty until the page is read. Review is the reason when it is review.
	Verdict Verdict `json:"verdict,omitempty"`
	Review  string  `json:"review,omitempty"`
	// Served is the latest version that was done: the one `get` serves while a later version
	// is under way or after it failed, so reading a page again never takes its verified text
	// away. 0: no version of the page was ever done. Kept by Settle.
	Served int `json:"served,omitempty"`
	// Unqueued marks a page claimed by an upload whose OCR job is not yet published: set with
	// the claim, cleared once the job is in the queue. A page left queued and unqueued is one
	// whose upload stopped in between, and nothing will move it until it is uploaded again.
	Unqueued bool      `json:"unqueued,omitempty"`
	Updated  time.Time `json:"updated"`
}

// Encode marshals a message for the wire or the store.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// MaxMessageBytes bounds what Decode accepts: jobs are small, and a huge one is an attack or a bug.
const MaxMessageBytes = 64 << 10

// DecodeOCRJob parses and validates an OCR job from the wire.
func DecodeOCRJob(data []byte) (OCRJob, error) {
	var j OCRJob
	if err := decode(data, &j); err != nil {
		return j, err
	}
	if err := j.Validate(); err != nil {
		return j, fmt.Errorf("invalid OCR job: %w", err)
	}
	return j, nil
}

// DecodeMetadataJob parses and validates a metadata job from the wire.
func DecodeMetadataJob(data []byte) (MetadataJob, error) {
	var j MetadataJob
	if err := decode(data, &j); err != nil {
		return j, err
	}
	if err := j.Validate(); err != nil {
		return j, fmt.Errorf("invalid metadata job: %w", err)
	}
	return j, nil
}

func decode(data []byte, v any) error {
	if len(data) > MaxMessageBytes {
		return fmt.Errorf("decode %T: message is %d bytes, over the %d limit", v, len(data), MaxMessageBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// DeadLetter is published on DeadSubject(stage) when a job fails for good: the reason, and
// the job as it arrived, so a person can see what happened and replay it.
type DeadLetter struct {
	Stage      Stage     `json:"stage"`
	Doc        string    `json:"doc,omitempty"`
	Page       int       `json:"page,omitempty"`
	Reason     string    `json:"reason"`
	Deliveries uint64    `json:"deliveries"`
	Failed     time.Time `json:"failed"`
	Job        string    `json:"job,omitempty"` // the raw message, which may not be valid JSON
}
