package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// S3EventLog is what MinIO's NATS target publishes on SubjectS3Events for each event: the
// event's name, "<bucket>/<key>", and the event itself in AWS's notification format
// (MinIO's event.Log). Only the fields ingest reads are here.
type S3EventLog struct {
	EventName string    `json:"EventName"`
	Key       string    `json:"Key"`
	Records   []S3Event `json:"Records"`
}

// S3Event is one S3 event notification record.
type S3Event struct {
	EventName    string `json:"eventName"` // e.g. "s3:ObjectCreated:Put"
	EventTime    string `json:"eventTime"` // e.g. "2026-11-27T21:34:25.123Z"
	UserIdentity struct {
		PrincipalID string `json:"principalId"` // the access key that wrote the object
	} `json:"userIdentity"`
	S3 struct {
		Bucket struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key          string            `json:"key"` // URL-encoded (query escaping: a space is '+')
			Size         int64             `json:"size"`
			ETag         string            `json:"eTag"`
			VersionID    string            `json:"versionId"`
			ContentType  string            `json:"contentType"`
			UserMetadata map[string]string `json:"userMetadata"` // "X-Amz-Meta-Source": "…"
		} `json:"object"`
	} `json:"s3"`
}

// DecodeS3EventLog parses a message from SubjectS3Events.
func DecodeS3EventLog(data []byte) (S3EventLog, error) {
	var l S3EventLog
	if err := decode(data, &l); err != nil {
		return l, err
	}
	if len(l.Records) == 0 {
		return l, errors.New("S3 event without a record")
	}
	return l, nil
}

// ObjectKey is the record's object key, decoded.
func (e S3Event) ObjectKey() (string, error) {
	k, err := url.QueryUnescape(e.S3.Object.Key)
	if err != nil {
		return "", fmt.Errorf("object key %q: %w", e.S3.Object.Key, err)
	}
	return k, nil
}

// CreatesObject reports whether the event is a new object (or a new version of one): a PUT,
// POST, copy or completed multipart upload. s3:ObjectCreated:* also covers setting tags,
// retention and legal holds on an object that exists, which bring no new bytes.
func (e S3Event) CreatesObject() bool {
	switch e.EventName {
	case "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload":
		return true
	}
	return false
}

// Time is when the object was created, or the zero time if the event does not say.
func (e S3Event) Time() time.Time {
	t, err := time.Parse(time.RFC3339Nano, e.EventTime)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// UserMeta looks up an object's user metadata by name (e.g. MetaSource), whatever case and
// X-Amz-Meta- prefix the map's keys carry.
func UserMeta(m map[string]string, name string) (string, bool) {
	for k, v := range m {
		k = strings.TrimPrefix(strings.ToLower(k), "x-amz-meta-")
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// IngestState is how far ingest got with an S3 object.
type IngestState string

const (
	// IngestAllocating: the document's page numbers are being claimed (FirstPage is the
	// claim being tried); a worker that finds this after a crash finishes the claim.
	IngestAllocating IngestState = "allocating"
	// IngestAllocated: the pages are the object's; they are being stored and queued.
	IngestAllocated IngestState = "allocated"
	// IngestQueued: the object is pages FirstPage..FirstPage+Pages-1, queued as upload
	// queues pages (their own states are in KVStatus).
	IngestQueued IngestState = "queued"
	// IngestFailed: the object could not be taken; Error says why, naming the key.
	IngestFailed IngestState = "failed"
)

// IngestEntry is ingest's record of one S3 object (or one event it could not take) in KVIngest.
type IngestEntry struct {
	Bucket    string      `json:"bucket"`
	Key       string      `json:"key"`
	VersionID string      `json:"version_id,omitempty"`
	ETag      string      `json:"etag,omitempty"`
	SHA256    string      `json:"sha256,omitempty"`
	Doc       string      `json:"doc,omitempty"`
	FirstPage int         `json:"first_page,omitempty"`
	Pages     int         `json:"pages,omitempty"`
	State     IngestState `json:"state"`
	Error     string      `json:"error,omitempty"`
	// DocRevision is the document entry's KVStatus revision the page claim was built on, while
	// allocating: if the entry still has it, the claim was never written.
	DocRevision uint64 `json:"doc_revision,omitempty"`
	// Owner is the handler taking the object while it is allocating or allocated: no other
	// touches it until the entry has gone unwritten for a while (its worker died), so two
	// events of one key taken at once cannot both claim pages.
	Owner   string    `json:"owner,omitempty"`
	Updated time.Time `json:"updated"`
}

// IngestObjectKey is the KVIngest key of an S3 object: one per bucket and key, whatever its
// versions, so an object PUT again unchanged is found and makes no second page.
func IngestObjectKey(bucket, key string) string {
	return "obj." + ingestHash(bucket, key)
}

// IngestFailureKey is the KVIngest key of an event that could not be taken: one per object
// version (bucket, key, version ID, ETag), so a redelivery writes the same entry again.
func IngestFailureKey(bucket, key, versionID, etag string) string {
	return "fail." + ingestHash(bucket, key, versionID, etag)
}

// IngestFailuresFilter matches every failure entry in KVIngest.
const IngestFailuresFilter = "fail.*"

// ingestHash names an object by hash: S3 keys hold characters KV keys may not.
func ingestHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// ParseIngestKey splits the key of an object dropped into BucketScans into its document
// (everything before the first '/', a valid document ID) and its file name (the rest). The
// errors say what is wrong with the key without repeating it.
func ParseIngestKey(key string) (doc, file string, err error) {
	doc, file, ok := strings.Cut(key, "/")
	switch {
	case !ok:
		return "", "", errors.New("the key has no '/': put scans under <document ID>/<file name>, e.g. box-12/page-001.tif")
	case file == "" || strings.HasSuffix(file, "/"):
		return "", "", errors.New("the key names a folder, not a file: put scans under <document ID>/<file name>")
	case !utf8.ValidString(file) || len(file) > 1024:
		return "", "", errors.New("the file name must be valid UTF-8 of at most 1024 bytes")
	}
	if err := ValidateDocID(doc); err != nil {
		return "", "", fmt.Errorf("the part of the key before the first '/' must be a document ID: %w", err)
	}
	return doc, file, nil
}

// scanKeyRE matches ScanKey's layout: <doc>/<page, 4 digits>/<sha256>.<ext>.
var scanKeyRE = regexp.MustCompile(`^([A-Za-z0-9_-]{1,128})/([0-9]{4})/([0-9a-f]{64})\.[a-z0-9]+$`)

// IsStoredScan reports whether an object in BucketScans is a scan Colophon stored itself
// (upload, or ingest's copy): its key has ScanKey's layout and its user metadata (meta)
// names the same document, page and SHA-256, as upload writes them. Ingest leaves such
// objects alone; anything else dropped in the bucket is a new scan.
func IsStoredScan(key string, meta map[string]string) bool {
	m := scanKeyRE.FindStringSubmatch(key)
	if m == nil {
		return false
	}
	doc, _ := UserMeta(meta, MetaDoc)
	page, _ := UserMeta(meta, MetaPage)
	sum, _ := UserMeta(meta, MetaSHA256)
	n, err := strconv.Atoi(page)
	return doc == m[1] && err == nil && fmt.Sprintf("%04d", n) == m[2] && sum == m[3]
}

// LooksLikeStoredScan reports whether key has ScanKey's layout, whatever its metadata: the
// metadata of such an object is worth reading before taking it for a new scan.
func LooksLikeStoredScan(key string) bool { return scanKeyRE.MatchString(key) }
