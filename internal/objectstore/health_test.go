package objectstore_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
)

// TestRottenObjectIsUnreadable: an object whose bytes rotted on MinIO's drive is
// ErrUnreadable (which no retry mends), whether the rot is in its inline data, its data part
// or its xl.meta; an intact object beside it reads as before.
func TestRottenObjectIsUnreadable(t *testing.T) {
	cfg := devstacktest.Config(t)
	stack := devstacktest.StartConfig(t, cfg)
	s, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	const bucket = "rot"
	if err := s.EnsureBuckets(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	drive := devstacktest.MinIODataDir(t, stack)
	if want := filepath.Join(cfg.DataDir, "minio"); drive != want {
		t.Fatalf("MinIODataDir = %s, want %s", drive, want)
	}
	intact := []byte("an intact object")
	if err := s.Put(ctx, bucket, "intact", intact, "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		size int
		meta bool // rot xl.meta rather than the data
	}{
		{"inline data", 10 << 10, false},
		{"data part", 300 << 10, false},
		{"large data part", 3 << 20, false},
		{"xl.meta", 300 << 10, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, tt.size)
			_, _ = rand.Read(data)
			key := "doc/0001/" + tt.name
			if err := s.Put(ctx, bucket, key, data, "application/octet-stream", nil); err != nil {
				t.Fatal(err)
			}
			if tt.meta {
				devstacktest.RotMeta(t, drive, bucket, key)
			} else {
				devstacktest.Rot(t, drive, bucket, key)
			}
			start := time.Now()
			_, err := s.Get(ctx, bucket, key)
			t.Logf("get of the rotten object: %v after %s", err, time.Since(start).Round(time.Millisecond))
			if !errors.Is(err, objectstore.ErrUnreadable) || errors.Is(err, objectstore.ErrNotFound) {
				t.Fatalf("get of a rotten object: %v; want ErrUnreadable", err)
			}
			obj, err := s.Get(ctx, bucket, "intact")
			if err != nil || !bytes.Equal(obj.Data, intact) {
				t.Errorf("intact object beside it: %q, %v", obj.Data, err)
			}
		})
	}
}

// TestStoreDownIsNotUnreadable: a store that does not answer is a passing fault, never
// ErrUnreadable.
func TestStoreDownIsNotUnreadable(t *testing.T) {
	s, err := objectstore.New("http://127.0.0.1:1", "key", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(testCtx(t), "scans", "doc/0001/x.png"); err == nil || errors.Is(err, objectstore.ErrUnreadable) {
		t.Fatalf("get from a store that does not answer: %v; want an error that may pass", err)
	}
}

// TestPutIfAbsent: the first write stores, a second finds the object there and leaves it
// (one version, in a versioned bucket).
func TestPutIfAbsent(t *testing.T) {
	s, endpoint := newStore(t)
	ctx := testCtx(t)
	const bucket = "scans"
	if _, err := s.EnsureProtectedBucket(ctx, bucket, objectstore.Protection{Versioning: true}); err != nil {
		t.Fatal(err)
	}
	for i, tt := range []struct {
		data        string
		wantCreated bool
	}{
		{"first", true},
		{"second", false},
		{"first", false},
	} {
		created, err := s.PutIfAbsent(ctx, bucket, "doc/0001/k", []byte(tt.data), "text/plain", map[string]string{"Sha256": tt.data})
		if err != nil || created != tt.wantCreated {
			t.Errorf("write %d (%s): created %v, %v; want %v", i+1, tt.data, created, err, tt.wantCreated)
		}
	}
	obj, err := s.Get(ctx, bucket, "doc/0001/k")
	if err != nil || string(obj.Data) != "first" || obj.Metadata["Sha256"] != "first" {
		t.Errorf("stored: %q %v, %v; want the first write", obj.Data, obj.Metadata, err)
	}
	raw, err := minio.New(endpoint[len("http://"):], &minio.Options{Creds: credentials.NewStaticV4(devstacktest.AccessKey, devstacktest.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for o := range raw.ListObjects(ctx, bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d versions stored, want 1", n)
	}
}
