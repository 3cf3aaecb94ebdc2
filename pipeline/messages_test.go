package pipeline_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

func validOCRJob() pipeline.OCRJob {
	return pipeline.OCRJob{
		Doc:     "doc-20240309-0a1b2c3d4e",
		Page:    3,
		Version: 1,
		Scan: pipeline.ObjectRef{
			Bucket: pipeline.BucketScans,
			Key:    pipeline.ScanKey("doc-20240309-0a1b2c3d4e", 3, shaA, "png"),
			SHA256: shaA,
			Bytes:  123456,
		},
		FileName:  "page 3 – ünïcode.png",
		Source:    "Parish register, box 4",
		Date:      "1974-03",
		Languages: []string{"eng", "fra"},
		Submitted: time.Date(2024, 3, 9, 12, 34, 56, 789000000, time.UTC),
	}
}

func validMetadataJob() pipeline.MetadataJob {
	j := validOCRJob()
	return pipeline.MetadataJob{
		OCRJob: j,
		Text: pipeline.ObjectRef{
			Bucket: pipeline.BucketTexts,
			Key:    pipeline.TextKey(j.Doc, j.Page, j.Version),
			SHA256: shaB,
			Bytes:  2048,
		},
		OCR: pipeline.OCRInfo{
			Engine:         "tesseract",
			EngineVersion:  "5.3.0",
			Languages:      []string{"eng", "fra"},
			MeanConfidence: 91.25,
			DPI:            300,
			Worker:         "host-1234",
			DurationMS:     842,
			Recognised:     time.Date(2024, 3, 9, 12, 35, 1, 0, time.UTC),
		},
	}
}

func mustEncode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := pipeline.Encode(v)
	if err != nil {
		t.Fatalf("Encode(%T): %v", v, err)
	}
	return b
}

func TestOCRJobRoundTrip(t *testing.T) {
	variants := map[string]func(*pipeline.OCRJob){
		"as built":          func(*pipeline.OCRJob) {},
		"no date":           func(j *pipeline.OCRJob) { j.Date = "" },
		"year date":         func(j *pipeline.OCRJob) { j.Date = "1820" },
		"day date":          func(j *pipeline.OCRJob) { j.Date = "1820-02-29" },
		"one language":      func(j *pipeline.OCRJob) { j.Languages = []string{"chi_sim"} },
		"max page":          func(j *pipeline.OCRJob) { j.Page = pipeline.MaxPages },
		"high version":      func(j *pipeline.OCRJob) { j.Version = 1 << 40 },
		"zero bytes":        func(j *pipeline.OCRJob) { j.Scan.Bytes = 0 },
		"empty file name":   func(j *pipeline.OCRJob) { j.FileName, j.Source = "", "" },
		"html in source":    func(j *pipeline.OCRJob) { j.Source = `<script>"&'</script>` },
		"zero time":         func(j *pipeline.OCRJob) { j.Submitted = time.Time{} },
		"nanosecond time":   func(j *pipeline.OCRJob) { j.Submitted = time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC) },
		"max-length doc ID": func(j *pipeline.OCRJob) { j.Doc = strings.Repeat("Z", pipeline.MaxDocIDLen) },
	}
	for name, mod := range variants {
		t.Run(name, func(t *testing.T) {
			want := validOCRJob()
			mod(&want)
			if err := want.Validate(); err != nil {
				t.Fatalf("test job invalid: %v", err)
			}
			got, err := pipeline.DecodeOCRJob(mustEncode(t, want))
			if err != nil {
				t.Fatalf("DecodeOCRJob: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the job:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestMetadataJobRoundTrip(t *testing.T) {
	variants := map[string]func(*pipeline.MetadataJob){
		"as built":           func(*pipeline.MetadataJob) {},
		"minimal ocr info":   func(j *pipeline.MetadataJob) { j.OCR = pipeline.OCRInfo{Engine: "tesseract"} },
		"no date":            func(j *pipeline.MetadataJob) { j.Date = "" },
		"empty text":         func(j *pipeline.MetadataJob) { j.Text.Bytes = 0 },
		"fractional confid.": func(j *pipeline.MetadataJob) { j.OCR.MeanConfidence = 1.0 / 3 },
	}
	for name, mod := range variants {
		t.Run(name, func(t *testing.T) {
			want := validMetadataJob()
			mod(&want)
			if err := want.Validate(); err != nil {
				t.Fatalf("test job invalid: %v", err)
			}
			got, err := pipeline.DecodeMetadataJob(mustEncode(t, want))
			if err != nil {
				t.Fatalf("DecodeMetadataJob: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip changed the job:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestEncodeWireFormat(t *testing.T) {
	// Other processes (and people replaying dead letters) read these field names.
	b := mustEncode(t, validMetadataJob())
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"doc", "page", "version", "scan", "file_name", "source", "date", "languages", "submitted", "text", "ocr"} {
		if _, ok := m[k]; !ok {
			t.Errorf("encoded metadata job lacks %q: %s", k, b)
		}
	}
	if _, ok := m["OCRJob"]; ok {
		t.Errorf("the embedded OCRJob is nested, want its fields inline: %s", b)
	}
	var scan map[string]json.RawMessage
	if err := json.Unmarshal(m["scan"], &scan); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"bucket", "key", "sha256", "bytes"} {
		if _, ok := scan[k]; !ok {
			t.Errorf("encoded scan ref lacks %q: %s", k, m["scan"])
		}
	}
	if got := string(m["submitted"]); got != `"2024-03-09T12:34:56.789Z"` {
		t.Errorf("submitted = %s, want RFC 3339 UTC", got)
	}

	// An empty date is left out.
	j := validOCRJob()
	j.Date = ""
	if b := mustEncode(t, j); bytes.Contains(b, []byte(`"date"`)) {
		t.Errorf("empty date encoded: %s", b)
	}
	// An OCR job is readable as a metadata job's first half: a metadata worker given one
	// fails on the text reference, not on parsing.
	if _, err := pipeline.DecodeMetadataJob(mustEncode(t, validOCRJob())); err == nil {
		t.Error("DecodeMetadataJob accepted a plain OCR job")
	}
}

func TestEncodeError(t *testing.T) {
	if _, err := pipeline.Encode(make(chan int)); err == nil {
		t.Error("Encode(chan) succeeded")
	}
	if _, err := pipeline.Encode(map[string]float64{"x": func() float64 { var z float64; return z / z }()}); err == nil {
		t.Error("Encode(NaN) succeeded")
	}
}

func TestDecodeWithinSizeLimit(t *testing.T) {
	// A valid job padded to exactly MaxMessageBytes is accepted; one byte more is not.
	base := mustEncode(t, validOCRJob())
	pad := pipeline.MaxMessageBytes - len(base)
	exact := append(bytes.Clone(base), bytes.Repeat([]byte(" "), pad)...)
	if len(exact) != pipeline.MaxMessageBytes {
		t.Fatalf("built %d bytes", len(exact))
	}
	if _, err := pipeline.DecodeOCRJob(exact); err != nil {
		t.Errorf("DecodeOCRJob of exactly MaxMessageBytes: %v", err)
	}
	over := append(exact, ' ')
	if _, err := pipeline.DecodeOCRJob(over); err == nil {
		t.Error("DecodeOCRJob accepted MaxMessageBytes+1 bytes")
	}
	if _, err := pipeline.DecodeMetadataJob(append(bytes.Clone(mustEncode(t, validMetadataJob())), bytes.Repeat([]byte(" "), pipeline.MaxMessageBytes)...)); err == nil {
		t.Error("DecodeMetadataJob accepted an oversize message")
	}
}

// jobJSON encodes a valid OCR job as a generic map, lets mod change it, and re-encodes it,
// so a test can produce exactly the wire bytes a buggy or hostile sender might.
func jobJSON(t *testing.T, v any, mod func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustEncode(t, v), &m); err != nil {
		t.Fatal(err)
	}
	mod(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sub(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }

// commonRejections apply to both job kinds: they break the OCR half.
var commonRejections = []struct {
	name string
	mod  func(m map[string]any)
}{
	{"doc missing", func(m map[string]any) { delete(m, "doc") }},
	{"doc empty", func(m map[string]any) { m["doc"] = "" }},
	{"doc traversal", func(m map[string]any) { m["doc"] = "../other" }},
	{"doc with slash", func(m map[string]any) { m["doc"] = "a/b" }},
	{"doc with dot", func(m map[string]any) { m["doc"] = "a.b" }},
	{"doc with NUL", func(m map[string]any) { m["doc"] = "a\x00b" }},
	{"doc too long", func(m map[string]any) { m["doc"] = strings.Repeat("a", 129) }},
	{"doc not a string", func(m map[string]any) { m["doc"] = 7 }},
	{"page 0", func(m map[string]any) { m["page"] = 0 }},
	{"page missing", func(m map[string]any) { delete(m, "page") }},
	{"page negative", func(m map[string]any) { m["page"] = -1 }},
	{"page too high", func(m map[string]any) { m["page"] = 10000 }},
	{"page fractional", func(m map[string]any) { m["page"] = 1.5 }},
	{"page a string", func(m map[string]any) { m["page"] = "1" }},
	{"version 0", func(m map[string]any) { m["version"] = 0 }},
	{"version missing", func(m map[string]any) { delete(m, "version") }},
	{"version negative", func(m map[string]any) { m["version"] = -3 }},
	{"scan missing", func(m map[string]any) { delete(m, "scan") }},
	{"scan null", func(m map[string]any) { m["scan"] = nil }},
	{"scan bucket missing", func(m map[string]any) { delete(sub(m, "scan"), "bucket") }},
	{"scan bucket empty", func(m map[string]any) { sub(m, "scan")["bucket"] = "" }},
	{"scan key missing", func(m map[string]any) { delete(sub(m, "scan"), "key") }},
	{"scan key empty", func(m map[string]any) { sub(m, "scan")["key"] = "" }},
	{"scan sha missing", func(m map[string]any) { delete(sub(m, "scan"), "sha256") }},
	{"scan sha uppercase", func(m map[string]any) { sub(m, "scan")["sha256"] = strings.ToUpper(shaA) }},
	{"scan sha short", func(m map[string]any) { sub(m, "scan")["sha256"] = shaA[:63] }},
	{"scan sha long", func(m map[string]any) { sub(m, "scan")["sha256"] = shaA + "0" }},
	{"scan sha not hex", func(m map[string]any) { sub(m, "scan")["sha256"] = "g" + shaA[1:] }},
	{"scan sha newline", func(m map[string]any) { sub(m, "scan")["sha256"] = shaA + "\n" }},
	{"scan bytes negative", func(m map[string]any) { sub(m, "scan")["bytes"] = -1 }},
	{"date bad month", func(m map[string]any) { m["date"] = "1974-13" }},
	{"date bad day", func(m map[string]any) { m["date"] = "1974-02-30" }},
	{"date slashes", func(m map[string]any) { m["date"] = "1974/03/01" }},
	{"date timestamp", func(m map[string]any) { m["date"] = "1974-03-01T00:00:00Z" }},
	{"date two digits", func(m map[string]any) { m["date"] = "74" }},
	{"languages missing", func(m map[string]any) { delete(m, "languages") }},
	{"languages null", func(m map[string]any) { m["languages"] = nil }},
	{"languages empty", func(m map[string]any) { m["languages"] = []any{} }},
	{"language empty string", func(m map[string]any) { m["languages"] = []any{""} }},
	{"language with plus", func(m map[string]any) { m["languages"] = []any{"eng+fra"} }},
	{"language traversal", func(m map[string]any) { m["languages"] = []any{"../../etc/passwd"} }},
	{"submitted not a time", func(m map[string]any) { m["submitted"] = "yesterday" }},
}

func TestDecodeOCRJobRejects(t *testing.T) {
	good := mustEncode(t, validOCRJob())
	if _, err := pipeline.DecodeOCRJob(good); err != nil {
		t.Fatalf("the valid job is refused: %v", err)
	}
	raw := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"whitespace", []byte("  \n")},
		{"null", []byte("null")},
		{"empty object", []byte("{}")},
		{"array", []byte("[]")},
		{"string", []byte(`"job"`)},
		{"truncated", good[:len(good)-1]},
		{"half", good[:len(good)/2]},
		{"trailing garbage", append(bytes.Clone(good), 'x')},
		{"two objects", append(bytes.Clone(good), good...)},
		{"not JSON", []byte("doc=abc page=1")},
		{"oversize", append(bytes.Clone(good), bytes.Repeat([]byte(" "), pipeline.MaxMessageBytes)...)},
		{"oversize garbage", bytes.Repeat([]byte("x"), pipeline.MaxMessageBytes+1)},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			if j, err := pipeline.DecodeOCRJob(tt.data); err == nil {
				t.Fatalf("DecodeOCRJob accepted %q as %+v", tt.data, j)
			}
		})
	}
	for _, tt := range commonRejections {
		t.Run(tt.name, func(t *testing.T) {
			data := jobJSON(t, validOCRJob(), tt.mod)
			if j, err := pipeline.DecodeOCRJob(data); err == nil {
				t.Fatalf("DecodeOCRJob accepted %s as %+v", data, j)
			}
		})
	}
}

func TestDecodeMetadataJobRejects(t *testing.T) {
	good := mustEncode(t, validMetadataJob())
	if _, err := pipeline.DecodeMetadataJob(good); err != nil {
		t.Fatalf("the valid job is refused: %v", err)
	}
	for _, data := range [][]byte{nil, []byte("{"), []byte("null"), []byte("{}"), good[:len(good)-2],
		bytes.Repeat([]byte(" "), pipeline.MaxMessageBytes+1)} {
		if _, err := pipeline.DecodeMetadataJob(data); err == nil {
			t.Errorf("DecodeMetadataJob accepted %.40q", data)
		}
	}
	metaOnly := []struct {
		name string
		mod  func(m map[string]any)
	}{
		{"text missing", func(m map[string]any) { delete(m, "text") }},
		{"text bucket empty", func(m map[string]any) { sub(m, "text")["bucket"] = "" }},
		{"text key missing", func(m map[string]any) { delete(sub(m, "text"), "key") }},
		{"text sha uppercase", func(m map[string]any) { sub(m, "text")["sha256"] = strings.ToUpper(shaB) }},
		{"text sha short", func(m map[string]any) { sub(m, "text")["sha256"] = "abc" }},
		{"text sha empty", func(m map[string]any) { sub(m, "text")["sha256"] = "" }},
		{"text bytes negative", func(m map[string]any) { sub(m, "text")["bytes"] = -10 }},
		{"ocr missing", func(m map[string]any) { delete(m, "ocr") }},
		{"ocr engine missing", func(m map[string]any) { delete(sub(m, "ocr"), "engine") }},
		{"ocr engine empty", func(m map[string]any) { sub(m, "ocr")["engine"] = "" }},
		{"ocr confidence a string", func(m map[string]any) { sub(m, "ocr")["mean_confidence"] = "high" }},
	}
	for _, tt := range append(commonRejections, metaOnly...) {
		t.Run(tt.name, func(t *testing.T) {
			data := jobJSON(t, validMetadataJob(), tt.mod)
			if j, err := pipeline.DecodeMetadataJob(data); err == nil {
				t.Fatalf("DecodeMetadataJob accepted %s as %+v", data, j)
			}
		})
	}
}

func TestDecodeTolerates(t *testing.T) {
	// What a valid job may leave out or add without being refused.
	tests := []struct {
		name string
		mod  func(m map[string]any)
	}{
		{"date missing", func(m map[string]any) { delete(m, "date") }},
		{"date empty", func(m map[string]any) { m["date"] = "" }},
		{"unknown field", func(m map[string]any) { m["priority"] = 9 }},
		{"file name missing", func(m map[string]any) { delete(m, "file_name") }},
		{"submitted missing", func(m map[string]any) { delete(m, "submitted") }},
		{"scan bytes missing", func(m map[string]any) { delete(sub(m, "scan"), "bytes") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := jobJSON(t, validOCRJob(), tt.mod)
			if _, err := pipeline.DecodeOCRJob(data); err != nil {
				t.Fatalf("DecodeOCRJob(%s): %v", data, err)
			}
		})
	}
}

func TestValidateDirect(t *testing.T) {
	// Validate, called by producers before publishing, agrees with Decode.
	j := validOCRJob()
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(*pipeline.OCRJob){
		func(j *pipeline.OCRJob) { j.Doc = "" },
		func(j *pipeline.OCRJob) { j.Page = 0 },
		func(j *pipeline.OCRJob) { j.Version = 0 },
		func(j *pipeline.OCRJob) { j.Scan.SHA256 = strings.ToUpper(shaA) },
		func(j *pipeline.OCRJob) { j.Scan.Bucket = "" },
		func(j *pipeline.OCRJob) { j.Scan.Key = "" },
		func(j *pipeline.OCRJob) { j.Scan.Bytes = -1 },
		func(j *pipeline.OCRJob) { j.Date = "1974-3" },
		func(j *pipeline.OCRJob) { j.Languages = nil },
	}
	for i, mod := range bad {
		j := validOCRJob()
		mod(&j)
		if err := j.Validate(); err == nil {
			t.Errorf("case %d: Validate accepted %+v", i, j)
		}
		m := validMetadataJob()
		m.OCRJob = j
		if err := m.Validate(); err == nil {
			t.Errorf("case %d: MetadataJob.Validate accepted a bad OCR half %+v", i, j)
		}
	}
}
