package pipeline_test

import (
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

// minioEvent is an event as MinIO's NATS target publishes it (trimmed).
const minioEvent = `{"EventName":"s3:ObjectCreated:Put","Key":"colophon-scans/box-12/page 1.png","Records":[{
"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-27T21:34:25.123Z",
"eventName":"s3:ObjectCreated:Put","userIdentity":{"principalId":"colophon-uploader"},
"s3":{"s3SchemaVersion":"1.0","configurationId":"Config","bucket":{"name":"colophon-scans","ownerIdentity":{"principalId":"colophon-uploader"},"arn":"arn:aws:s3:::colophon-scans"},
"object":{"key":"box-12%2Fpage+1.png","size":1234,"eTag":"0f343b0931126a20f133d67c2b018a3b","contentType":"image/png",
"userMetadata":{"X-Amz-Meta-Source":"Tenants' Union, box 12","X-Amz-Meta-Date":"1974-03","content-type":"image/png"},
"versionId":"7a6b1c2d-0000-4000-8000-000000000001","sequencer":"1876"}}}]}`

func TestDecodeS3EventLog(t *testing.T) {
	l, err := pipeline.DecodeS3EventLog([]byte(minioEvent))
	if err != nil {
		t.Fatal(err)
	}
	ev := l.Records[0]
	key, err := ev.ObjectKey()
	if err != nil || key != "box-12/page 1.png" {
		t.Fatalf("ObjectKey = %q, %v", key, err)
	}
	if !ev.CreatesObject() || ev.S3.Bucket.Name != pipeline.BucketScans || ev.S3.Object.VersionID == "" || ev.UserIdentity.PrincipalID != "colophon-uploader" {
		t.Errorf("event = %+v", ev)
	}
	if ev.Time().IsZero() || ev.Time().Nanosecond() != 123e6 {
		t.Errorf("Time = %v", ev.Time())
	}
	if v, ok := pipeline.UserMeta(ev.S3.Object.UserMetadata, pipeline.MetaSource); !ok || v != "Tenants' Union, box 12" {
		t.Errorf("source = %q, %v", v, ok)
	}
	if v, ok := pipeline.UserMeta(map[string]string{"date": "1974"}, pipeline.MetaDate); !ok || v != "1974" {
		t.Errorf("date without prefix = %q, %v", v, ok)
	}
	for _, bad := range []string{`{}`, `{"Records":[]}`, `not json`} {
		if _, err := pipeline.DecodeS3EventLog([]byte(bad)); err == nil {
			t.Errorf("DecodeS3EventLog(%s): no error", bad)
		}
	}
	tagging := ev
	tagging.EventName = "s3:ObjectCreated:PutTagging"
	if tagging.CreatesObject() {
		t.Error("setting tags counts as a new object")
	}
}

func TestParseIngestKey(t *testing.T) {
	for _, tt := range []struct{ key, doc, file, err string }{
		{"box-12/page-001.tif", "box-12", "page-001.tif", ""},
		{"box_12/sub/page 1.png", "box_12", "sub/page 1.png", ""},
		{"loose.png", "", "", "no '/'"},
		{"box-12/", "", "", "folder"},
		{"box-12/sub/", "", "", "folder"},
		{"/page.png", "", "", "document ID"},
		{"bad id!/page.png", "", "", "document ID"},
		{"../x/page.png", "", "", "document ID"},
		{strings.Repeat("d", 129) + "/p.png", "", "", "document ID"},
	} {
		doc, file, err := pipeline.ParseIngestKey(tt.key)
		if tt.err == "" {
			if err != nil || doc != tt.doc || file != tt.file {
				t.Errorf("ParseIngestKey(%q) = %q, %q, %v", tt.key, doc, file, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("ParseIngestKey(%q) error = %v, want one saying %q", tt.key, err, tt.err)
		}
	}
}

func TestIsStoredScan(t *testing.T) {
	key := pipeline.ScanKey("box-12", 3, shaA, "png")
	meta := map[string]string{"X-Amz-Meta-Sha256": shaA, "X-Amz-Meta-Doc": "box-12", "X-Amz-Meta-Page": "3", "content-type": "image/png"}
	if !pipeline.IsStoredScan(key, meta) || !pipeline.LooksLikeStoredScan(key) {
		t.Fatalf("IsStoredScan(%q) = false for upload's own metadata", key)
	}
	// objectstore's decoded form: the prefix stripped.
	if !pipeline.IsStoredScan(key, map[string]string{"Sha256": shaA, "Doc": "box-12", "Page": "3"}) {
		t.Error("IsStoredScan refuses metadata without the X-Amz-Meta- prefix")
	}
	for name, m := range map[string]map[string]string{
		"no metadata":    nil,
		"other hash":     {"Sha256": shaB, "Doc": "box-12", "Page": "3"},
		"other document": {"Sha256": shaA, "Doc": "box-13", "Page": "3"},
		"other page":     {"Sha256": shaA, "Doc": "box-12", "Page": "4"},
	} {
		if pipeline.IsStoredScan(key, m) {
			t.Errorf("%s: IsStoredScan = true", name)
		}
	}
	for _, k := range []string{"box-12/page.png", "box-12/0003/" + shaA, "box-12/003/" + shaA + ".png"} {
		if pipeline.LooksLikeStoredScan(k) || pipeline.IsStoredScan(k, meta) {
			t.Errorf("%q taken for a stored scan", k)
		}
	}
}

func TestIngestKeys(t *testing.T) {
	a := pipeline.IngestObjectKey(pipeline.BucketScans, "box/p 1.png")
	if a != pipeline.IngestObjectKey(pipeline.BucketScans, "box/p 1.png") || a == pipeline.IngestObjectKey(pipeline.BucketScans, "box/p 2.png") {
		t.Error("IngestObjectKey is not a function of bucket and key alone")
	}
	f1 := pipeline.IngestFailureKey("b", "k", "v1", "e")
	if f1 == pipeline.IngestFailureKey("b", "k", "v2", "e") || f1 == pipeline.IngestFailureKey("b", "k", "v1", "f") {
		t.Error("IngestFailureKey ignores the version or the ETag")
	}
	if pipeline.IngestFailureKey("b", "kv", "1", "e") == pipeline.IngestFailureKey("b", "k", "v1", "e") {
		t.Error("IngestFailureKey: parts run together")
	}
	for _, k := range []string{a, f1} {
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.') {
				t.Fatalf("key %q has %q, which a KV key may not", k, r)
			}
		}
	}
}

// FuzzDecodeS3EventLog: whatever arrives on the S3 events subject, decoding and reading a
// record's key, document and own-scan check never panic, and a key that parses is a valid
// document and a file.
func FuzzDecodeS3EventLog(f *testing.F) {
	for _, s := range []string{minioEvent, `{}`, `{"Records":[{}]}`, `{"Records":[{"s3":{"object":{"key":"%zz"}}}]}`,
		`{"Records":[{"s3":{"object":{"key":"a%2F0001%2F` + shaA + `.png","userMetadata":{"X-Amz-Meta-Page":"1e3"}}}}]}`, `null`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := pipeline.DecodeS3EventLog(data)
		if err != nil {
			return
		}
		for _, ev := range l.Records {
			_ = ev.CreatesObject()
			_ = ev.Time()
			key, err := ev.ObjectKey()
			if err != nil {
				continue
			}
			_ = pipeline.IsStoredScan(key, ev.S3.Object.UserMetadata)
			doc, file, err := pipeline.ParseIngestKey(key)
			if err != nil {
				continue
			}
			if pipeline.ValidateDocID(doc) != nil || file == "" || doc+"/"+file != key {
				t.Fatalf("ParseIngestKey(%q) = %q, %q", key, doc, file)
			}
		}
	})
}
