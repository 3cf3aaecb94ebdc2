package pipeline_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// fuzzSeeds are wire messages, valid and not, shared by the decode fuzz targets.
func fuzzSeeds(t testing.TB) [][]byte {
	ocr := validOCRJob()
	meta := validMetadataJob()
	noDate := validOCRJob()
	noDate.Date = ""
	offset := validMetadataJob()
	offset.Submitted = time.Date(1999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600))
	seeds := [][]byte{
		mustEncode(t, ocr),
		mustEncode(t, meta),
		mustEncode(t, noDate),
		mustEncode(t, offset),
		[]byte(``),
		[]byte(`null`),
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(`{"doc":"../x","page":1,"version":1}`),
		[]byte(`{"doc":"a","page":1,"version":1,"scan":{"bucket":"b","key":"k","sha256":"` + shaA + `"},"languages":["eng"]}`),
		[]byte(`{"doc":"a","page":1,"version":1,"scan":{"bucket":"b","key":"k","sha256":"` + shaA + `"},"languages":["eng"],"text":{"bucket":"b","key":"k","sha256":"` + shaB + `"},"ocr":{"engine":"t"}}`),
		[]byte(`{"doc":"a","page":1,"version":1,"scan":{"bucket":"b","key":"k","sha256":"` + shaA + `"},"languages":["eng"],"submitted":"2024-01-01T00:00:00+01:00","file_name":"\u003c\ud800"}`),
		[]byte(`{"DOC":"a","Page":1,"version":1,"scan":{"bucket":"b","key":"k","sha256":"` + shaA + `","bytes":9007199254740993},"languages":["eng"],"date":"2000-02-29"}`),
		[]byte(`{"doc":"a","page":1.0,"version":1e0}`),
	}
	return seeds
}

// sameJob compares decoded jobs, treating times as equal when they name the same instant in
// the same offset (a decoded fixed zone is a fresh *Location each time, so DeepEqual differs).
func sameOCRJob(a, b pipeline.OCRJob) bool {
	if !sameTime(a.Submitted, b.Submitted) {
		return false
	}
	a.Submitted, b.Submitted = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

func FuzzDecodeOCRJob(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := pipeline.DecodeOCRJob(data)
		if err != nil {
			return
		}
		if len(data) > pipeline.MaxMessageBytes {
			t.Fatalf("accepted %d bytes, over MaxMessageBytes", len(data))
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("DecodeOCRJob accepted a job that fails Validate: %v", err)
		}
		if err := pipeline.ValidateDocID(j.Doc); err != nil {
			t.Fatalf("accepted doc %q: %v", j.Doc, err)
		}
		b, err := pipeline.Encode(j)
		if err != nil {
			t.Fatalf("re-encoding an accepted job: %v", err)
		}
		if len(b) > pipeline.MaxMessageBytes {
			// JSON escaping (e.g. '<' → \u003c, invalid UTF-8 → \ufffd) can grow a message
			// near the limit past it; the round trip is then refused by design.
			return
		}
		j2, err := pipeline.DecodeOCRJob(b)
		if err != nil {
			t.Fatalf("re-encoded job refused: %v\n%s", err, b)
		}
		if !sameOCRJob(j, j2) {
			t.Fatalf("round trip changed the job:\n got %+v\nwant %+v", j2, j)
		}
		if j.MsgID() != j2.MsgID() {
			t.Fatalf("round trip changed the message ID: %q vs %q", j.MsgID(), j2.MsgID())
		}
	})
}

func FuzzDecodeMetadataJob(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := pipeline.DecodeMetadataJob(data)
		if err != nil {
			return
		}
		if len(data) > pipeline.MaxMessageBytes {
			t.Fatalf("accepted %d bytes, over MaxMessageBytes", len(data))
		}
		if err := j.Validate(); err != nil {
			t.Fatalf("DecodeMetadataJob accepted a job that fails Validate: %v", err)
		}
		if j.OCR.Engine == "" {
			t.Fatal("accepted a job with no engine")
		}
		b, err := pipeline.Encode(j)
		if err != nil {
			t.Fatalf("re-encoding an accepted job: %v", err)
		}
		if len(b) > pipeline.MaxMessageBytes {
			return // see FuzzDecodeOCRJob
		}
		j2, err := pipeline.DecodeMetadataJob(b)
		if err != nil {
			t.Fatalf("re-encoded job refused: %v\n%s", err, b)
		}
		if !sameOCRJob(j.OCRJob, j2.OCRJob) || !sameTime(j.OCR.Recognised, j2.OCR.Recognised) {
			t.Fatalf("round trip changed the job:\n got %+v\nwant %+v", j2, j)
		}
		j.OCRJob, j2.OCRJob = pipeline.OCRJob{}, pipeline.OCRJob{}
		j.OCR.Recognised, j2.OCR.Recognised = time.Time{}, time.Time{}
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("round trip changed the job:\n got %+v\nwant %+v", j2, j)
		}
	})
}

func FuzzValidateDocID(f *testing.F) {
	for _, s := range []string{
		"", "a", "doc-20240309-0a1b2c3d4e", "A_b-9", strings.Repeat("a", 128), strings.Repeat("a", 129),
		"..", ".", "/", "\\", "a/b", "a\\b", "a b", "\x00", "a\n", "café", "\xff", "a\uFFFD", "-", "_",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if err := pipeline.ValidateDocID(id); err != nil {
			return
		}
		if len(id) < 1 || len(id) > pipeline.MaxDocIDLen {
			t.Fatalf("accepted %q of %d bytes", id, len(id))
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("accepted %q with byte %#x at %d", id, c, i)
			}
			if c < 0x20 || c == 0x7f {
				t.Fatalf("accepted %q with control byte %#x", id, c)
			}
		}
		for _, bad := range []string{"..", "/", "\\", "."} {
			if strings.Contains(id, bad) {
				t.Fatalf("accepted %q containing %q", id, bad)
			}
		}
		// An accepted ID is safe in every key built from it: exactly one more path segment
		// pair, and the KV key splits back into doc and page.
		k := pipeline.ScanKey(id, 1, shaA, "png")
		if got := strings.SplitN(k, "/", 2)[0]; got != id {
			t.Fatalf("ScanKey(%q) = %q: the document prefix is %q", id, k, got)
		}
		if got := strings.Split(pipeline.StatusPageKey(id, 1), "."); len(got) != 2 || got[0] != id {
			t.Fatalf("StatusPageKey(%q) splits into %q", id, got)
		}
	})
}
