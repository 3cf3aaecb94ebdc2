package objectstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// testCtx bounds every call a test makes, so a hung server fails the test instead of the run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newStore starts a real MinIO (via devstacktest) and returns a Store on it with the right credentials.
func newStore(t *testing.T) (*objectstore.Store, string) {
	t.Helper()
	stack := devstacktest.Start(t)
	s, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatalf("New(%q): %v", stack.S3Endpoint, err)
	}
	return s, stack.S3Endpoint
}

// storeWithBucket returns a Store on a fresh MinIO with bucket created.
func storeWithBucket(t *testing.T, bucket string) *objectstore.Store {
	t.Helper()
	s, _ := newStore(t)
	if err := s.EnsureBuckets(testCtx(t), bucket); err != nil {
		t.Fatalf("EnsureBuckets(%s): %v", bucket, err)
	}
	return s
}

func TestNewRejectsBadEndpoints(t *testing.T) {
	tests := []struct {
		endpoint string
		wantErr  bool
	}{
		{"127.0.0.1:9000", true}, // no scheme
		{"ftp://x", true},
		{"", true},
		{"http://", true}, // no host
		{"s3.example.org", true},
		{"http://127.0.0.1:9000", false},
		{"https://s3.example.org", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.endpoint), func(t *testing.T) {
			s, err := objectstore.New(tt.endpoint, "key", "secret")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%q) = %v, nil; want an error", tt.endpoint, s)
				}
				if !strings.Contains(err.Error(), "http://host:port") {
					t.Errorf("New(%q) error %q does not say what is wanted", tt.endpoint, err)
				}
				return
			}
			if err != nil || s == nil {
				t.Fatalf("New(%q) = %v, %v; want a store", tt.endpoint, s, err)
			}
		})
	}
}

func TestSHA256KnownVectors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		if got := objectstore.SHA256([]byte(tt.in)); got != tt.want {
			t.Errorf("SHA256(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestEnsureBucketsIsIdempotent(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)

	// Twice in a row.
	for i := range 2 {
		if err := s.EnsureBuckets(ctx, pipeline.Buckets...); err != nil {
			t.Fatalf("EnsureBuckets call %d: %v", i+1, err)
		}
	}
	if err := s.CheckBuckets(ctx, pipeline.Buckets...); err != nil {
		t.Fatalf("CheckBuckets after EnsureBuckets: %v", err)
	}

	// Concurrently, on buckets that do not exist yet (so the goroutines race on creation)
	// mixed with ones that do.
	fresh := []string{"race-a", "race-b", "race-c"}
	all := append(append([]string{}, fresh...), pipeline.Buckets...)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = s.EnsureBuckets(ctx, all...)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent EnsureBuckets #%d: %v", i, err)
		}
	}
	if err := s.CheckBuckets(ctx, all...); err != nil {
		t.Fatalf("CheckBuckets after concurrent EnsureBuckets: %v", err)
	}
}

func TestCheckBucketsNamesMissingBucket(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)
	if err := s.EnsureBuckets(ctx, "present-a", "present-b"); err != nil {
		t.Fatalf("EnsureBuckets: %v", err)
	}
	tests := []struct {
		name    string
		buckets []string
		missing string // "" = no error wanted
	}{
		{"all present", []string{"present-a", "present-b"}, ""},
		{"none asked", nil, ""},
		{"missing in the middle", []string{"present-a", "missing-bucket", "present-b"}, "missing-bucket"},
		{"first of two missing", []string{"present-a", "gone-1", "gone-2"}, "gone-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.CheckBuckets(ctx, tt.buckets...)
			if tt.missing == "" {
				if err != nil {
					t.Fatalf("CheckBuckets(%v) = %v, want nil", tt.buckets, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckBuckets(%v) = nil, want an error naming %s", tt.buckets, tt.missing)
			}
			if !strings.Contains(err.Error(), tt.missing) {
				t.Fatalf("CheckBuckets(%v) = %q, want it to name %s", tt.buckets, err, tt.missing)
			}
		})
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	const bucket = "roundtrip"
	s := storeWithBucket(t, bucket)
	ctx := testCtx(t)

	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	tests := []struct {
		name        string
		key         string
		data        []byte
		contentType string
		meta        map[string]string
	}{
		{
			name:        "ascii metadata",
			key:         "doc-1/0001/scan.png",
			data:        []byte("\x89PNG not really"),
			contentType: "image/png",
			meta: map[string]string{
				pipeline.MetaSHA256: objectstore.SHA256([]byte("\x89PNG not really")),
				pipeline.MetaDoc:    "doc-1",
				pipeline.MetaPage:   "1",
				pipeline.MetaSource: "Archive Box 3",
				pipeline.MetaDate:   "1923-04",
			},
		},
		{
			name:        "non-ASCII metadata",
			key:         "doc-2/0001/v1.txt",
			data:        []byte("Grüße aus Köln\n"),
			contentType: "text/plain; charset=utf-8",
			meta: map[string]string{
				pipeline.MetaSource:   "Archiv Köln — Box 3",
				pipeline.MetaFileName: "lettre-été.png",
				pipeline.MetaDoc:      "doc-2",
			},
		},
		{
			name:        "long non-ASCII value spanning several encoded words",
			key:         "doc-3/0001/v1.json",
			data:        []byte(`{"k":"v"}`),
			contentType: "application/json",
			meta: map[string]string{
				pipeline.MetaSource: strings.Repeat("Stadtarchiv Düsseldorf — Bestand «Ä» ", 6),
				"Note":              "日本語のメモ, 中文, Ελληνικά, עברית",
			},
		},
		{
			// The value is MIME-encoded on the way in and must be decoded exactly once on the
			// way out: decoding twice turns the literal encoded word into "x".
			name:        "non-ASCII value containing a literal encoded word",
			key:         "doc-3/0002/v1.txt",
			data:        []byte("x"),
			contentType: "text/plain",
			meta: map[string]string{
				pipeline.MetaFileName: "notes =?utf-8?q?x?= été.png",
			},
		},
		{
			name:        "every byte value, no metadata",
			key:         "doc-4/0001/blob.bin",
			data:        allBytes,
			contentType: "application/octet-stream",
			meta:        map[string]string{},
		},
		{
			name:        "empty object",
			key:         "doc-5/0001/empty.txt",
			data:        []byte{},
			contentType: "text/plain",
			meta:        map[string]string{pipeline.MetaSHA256: objectstore.SHA256(nil)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(ctx, bucket, tt.key, tt.data, tt.contentType, tt.meta); err != nil {
				t.Fatalf("Put: %v", err)
			}
			obj, err := s.Get(ctx, bucket, tt.key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(obj.Data, tt.data) {
				t.Errorf("Get data = %q, want %q", obj.Data, tt.data)
			}
			if obj.ContentType != tt.contentType {
				t.Errorf("Get content type = %q, want %q", obj.ContentType, tt.contentType)
			}
			if !reflect.DeepEqual(obj.Metadata, tt.meta) {
				t.Errorf("Get metadata =\n  %q\nwant\n  %q", obj.Metadata, tt.meta)
			}
		})
	}
}

func TestPutOverwrites(t *testing.T) {
	const bucket, key = "overwrite", "doc/0001/v1.txt"
	s := storeWithBucket(t, bucket)
	ctx := testCtx(t)
	if err := s.Put(ctx, bucket, key, []byte("first"), "text/plain", map[string]string{"Gen": "1", "Old": "x"}); err != nil {
		t.Fatalf("Put 1: %v", err)
	}
	if err := s.Put(ctx, bucket, key, []byte("second"), "text/plain", map[string]string{"Gen": "2"}); err != nil {
		t.Fatalf("Put 2: %v", err)
	}
	obj, err := s.Get(ctx, bucket, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(obj.Data) != "second" || !reflect.DeepEqual(obj.Metadata, map[string]string{"Gen": "2"}) {
		t.Fatalf("Get = %q %q, want the second Put's data and metadata only", obj.Data, obj.Metadata)
	}
}

func TestMissingObjectIsErrNotFound(t *testing.T) {
	const bucket = "missing"
	s := storeWithBucket(t, bucket)
	ctx := testCtx(t)
	if err := s.Put(ctx, bucket, "doc/0001/present.txt", []byte("here"), "text/plain", nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	ops := []struct {
		name string
		call func(key string) error
	}{
		{"Get", func(key string) error { _, err := s.Get(ctx, bucket, key); return err }},
		{"Stat", func(key string) error { _, err := s.Stat(ctx, bucket, key); return err }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			err := op.call("doc/0001/absent.txt")
			if !errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("%s of a missing key = %v, want errors.Is(err, ErrNotFound)", op.name, err)
			}
			if !strings.Contains(err.Error(), "doc/0001/absent.txt") {
				t.Errorf("%s error %q does not name the key", op.name, err)
			}
			if err := op.call("doc/0001/present.txt"); err != nil {
				t.Fatalf("%s of a present key: %v", op.name, err)
			}
		})
	}
}

func TestStat(t *testing.T) {
	const bucket = "stat"
	s := storeWithBucket(t, bucket)
	ctx := testCtx(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	meta := map[string]string{
		pipeline.MetaSHA256:   objectstore.SHA256(data),
		pipeline.MetaSource:   "Archiv Köln — Box 3",
		pipeline.MetaFileName: "lettre-été.png",
	}
	if err := s.Put(ctx, bucket, "doc/0001/scan.png", data, "image/png", meta); err != nil {
		t.Fatalf("Put: %v", err)
	}
	info, err := s.Stat(ctx, bucket, "doc/0001/scan.png")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Stat size = %d, want %d", info.Size, len(data))
	}
	if !reflect.DeepEqual(info.Metadata, meta) {
		t.Errorf("Stat metadata = %q, want %q", info.Metadata, meta)
	}
}

func TestListPrefix(t *testing.T) {
	const bucket = "list"
	s := storeWithBucket(t, bucket)
	ctx := testCtx(t)
	// Put out of order, so a List that does not sort (or does not filter) shows.
	keys := []string{
		"doc-b/0001/v1.txt",
		"doc-a/0002/v1.txt",
		"doc-a/0001/v2.txt",
		"doc-ab/0001/v1.txt", // shares "doc-a" but not "doc-a/"
		"doc-a/0001/v1.txt",
		"doc-a/0010/v1.txt",
	}
	for _, k := range keys {
		if err := s.Put(ctx, bucket, k, []byte(k), "text/plain", nil); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"doc-a/", []string{"doc-a/0001/v1.txt", "doc-a/0001/v2.txt", "doc-a/0002/v1.txt", "doc-a/0010/v1.txt"}},
		{"doc-a/0001/", []string{"doc-a/0001/v1.txt", "doc-a/0001/v2.txt"}},
		{"doc-a", []string{"doc-a/0001/v1.txt", "doc-a/0001/v2.txt", "doc-a/0002/v1.txt", "doc-a/0010/v1.txt", "doc-ab/0001/v1.txt"}},
		{"", []string{"doc-a/0001/v1.txt", "doc-a/0001/v2.txt", "doc-a/0002/v1.txt", "doc-a/0010/v1.txt", "doc-ab/0001/v1.txt", "doc-b/0001/v1.txt"}},
		{"nothing-here/", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			got, err := s.List(ctx, bucket, tt.prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", tt.prefix, err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Fatalf("List(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
	t.Run("missing bucket", func(t *testing.T) {
		if got, err := s.List(ctx, "no-such-bucket", ""); err == nil {
			t.Fatalf("List on a missing bucket = %q, nil; want an error", got)
		}
	})
}

func TestPing(t *testing.T) {
	_, endpoint := newStore(t)
	closed := fmt.Sprintf("http://127.0.0.1:%d", devstacktest.FreePort(t)) // nothing listens there
	tests := []struct {
		name                string
		endpoint            string
		accessKey, secret   string
		wantErr             bool
		wantInErr, notInErr string
	}{
		{name: "right credentials", endpoint: endpoint, accessKey: devstacktest.AccessKey, secret: devstacktest.SecretKey},
		{name: "wrong secret", endpoint: endpoint, accessKey: devstacktest.AccessKey, secret: "not-the-secret", wantErr: true, notInErr: "not-the-secret"},
		{name: "unknown access key", endpoint: endpoint, accessKey: "nobody", secret: devstacktest.SecretKey, wantErr: true},
		{name: "closed port", endpoint: closed, accessKey: devstacktest.AccessKey, secret: devstacktest.SecretKey, wantErr: true,
			wantInErr: strings.TrimPrefix(closed, "http://")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := objectstore.New(tt.endpoint, tt.accessKey, tt.secret)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			const bound = 2 * time.Second
			ctx, cancel := context.WithTimeout(context.Background(), bound)
			defer cancel()
			start := time.Now()
			err = s.Ping(ctx)
			elapsed := time.Since(start)
			if elapsed > bound+2*time.Second {
				t.Errorf("Ping took %v, past its %v context", elapsed, bound)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Ping = nil, want an error")
			}
			t.Logf("Ping error after %v: %v", elapsed.Round(time.Millisecond), err)
			if tt.wantInErr != "" && !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("Ping error %q does not contain %q", err, tt.wantInErr)
			}
			if tt.notInErr != "" && strings.Contains(err.Error(), tt.notInErr) {
				t.Errorf("Ping error %q leaks %q", err, tt.notInErr)
			}
		})
	}
}
