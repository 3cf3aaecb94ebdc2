package objectstore_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
)

// TestProtectedBuckets: a locked bucket keeps every version of a record for its retention
// (a rewrite or a delete leaves the first version, which cannot be deleted), a versioned
// bucket keeps every version, and asking again changes nothing.
func TestProtectedBuckets(t *testing.T) {
	ctx := testCtx(t)
	s, endpoint := newStore(t)
	u, _ := url.Parse(endpoint)
	raw, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(devstacktest.AccessKey, devstacktest.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	locked := objectstore.Protection{LockMode: objectstore.LockGovernance, LockDays: 30}
	versioned := objectstore.Protection{Versioning: true}
	for range 2 { // idempotent
		for _, b := range []struct {
			name string
			p    objectstore.Protection
		}{{"records", locked}, {"texts", versioned}} {
			note, err := s.EnsureProtectedBucket(ctx, b.name, b.p)
			if err != nil || note != "" {
				t.Fatalf("%s: note %q, %v", b.name, note, err)
			}
		}
	}
	enabled, mode, days, err := s.ObjectLock(ctx, "records")
	if err != nil || !enabled || mode != objectstore.LockGovernance || days != 30 {
		t.Fatalf("records lock: %v %q %d %v", enabled, mode, days, err)
	}
	if on, _, _, _ := s.ObjectLock(ctx, "texts"); on {
		t.Error("texts is locked; it should only be versioned")
	}
	for _, b := range []string{"records", "texts"} {
		if v, err := s.Versioned(ctx, b); err != nil || !v {
			t.Errorf("%s versioned %v, %v", b, v, err)
		}
	}

	// Write, rewrite, delete: the first version is still there, and cannot be deleted.
	if err := s.Put(ctx, "records", "doc/0001/v1.json", []byte(`{"a":1}`), "application/json", nil); err != nil {
		t.Fatalf("put into a locked bucket: %v", err)
	}
	if err := s.Put(ctx, "records", "doc/0001/v1.json", []byte(`{"a":2}`), "application/json", nil); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	if err := raw.RemoveObject(ctx, "records", "doc/0001/v1.json", minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("delete (a delete marker): %v", err)
	}
	var versions []minio.ObjectInfo
	for o := range raw.ListObjects(ctx, "records", minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		versions = append(versions, o)
	}
	if len(versions) != 3 {
		t.Fatalf("%d versions (with the delete marker), want 3", len(versions))
	}
	first := versions[len(versions)-1] // newest first
	err = raw.RemoveObject(ctx, "records", "doc/0001/v1.json", minio.RemoveObjectOptions{VersionID: first.VersionID})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "retention") && !strings.Contains(strings.ToLower(err.Error()), "worm") {
		t.Errorf("deleting the first version of a locked record: %v, want refused", err)
	}
	obj, err := raw.GetObject(ctx, "records", "doc/0001/v1.json", minio.GetObjectOptions{VersionID: first.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, _ := obj.Read(buf)
	if string(buf[:n]) != `{"a":1}` {
		t.Errorf("first version reads %q", buf[:n])
	}

	// A bucket made before without a lock cannot gain one: it is versioned, and the note says so.
	if err := s.EnsureBuckets(ctx, "old-records"); err != nil {
		t.Fatal(err)
	}
	note, err := s.EnsureProtectedBucket(ctx, "old-records", locked)
	if err != nil || !strings.Contains(note, "no object lock") {
		t.Errorf("old bucket: note %q, %v", note, err)
	}
	if v, _ := s.Versioned(ctx, "old-records"); !v {
		t.Error("old bucket not versioned")
	}
}
