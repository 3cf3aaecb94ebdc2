package objectstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/colophon-archive/colophon/internal/objectstore"
)

// What one writer stored is never replaced by another: the guarantee a late worker's
// write relies on, checked on a plain and on a versioned bucket of a real MinIO.
func TestConditionalPuts(t *testing.T) {
	s, _ := newStore(t)
	ctx := testCtx(t)
	for _, tt := range []struct {
		bucket    string
		versioned bool
	}{{"plain", false}, {"versioned", true}} {
		t.Run(tt.bucket, func(t *testing.T) {
			if _, err := s.EnsureProtectedBucket(ctx, tt.bucket, objectstore.Protection{Versioning: tt.versioned}); err != nil {
				t.Fatal(err)
			}
			put := func(data string) (bool, error) {
				return s.PutIfAbsent(ctx, tt.bucket, "k", []byte(data), "text/plain", nil)
			}
			if created, err := put("first"); err != nil || !created {
				t.Fatalf("PutIfAbsent on a new key = %v, %v; want created", created, err)
			}
			if created, err := put("second"); err != nil || created {
				t.Fatalf("PutIfAbsent on an existing key = %v, %v; want not created, no error", created, err)
			}
			first, err := s.Get(ctx, tt.bucket, "k")
			if err != nil || string(first.Data) != "first" || first.ETag == "" {
				t.Fatalf("after a refused put: %q (etag %q), %v; want the first write kept", first.Data, first.ETag, err)
			}
			if err := s.PutIfMatch(ctx, tt.bucket, "k", first.ETag, []byte("third"), "text/plain", nil); err != nil {
				t.Fatalf("PutIfMatch with the current ETag: %v", err)
			}
			err = s.PutIfMatch(ctx, tt.bucket, "k", first.ETag, []byte("fourth"), "text/plain", nil)
			if !errors.Is(err, objectstore.ErrExists) {
				t.Fatalf("PutIfMatch with a stale ETag = %v; want ErrExists", err)
			}
			if got, err := s.Get(ctx, tt.bucket, "k"); err != nil || string(got.Data) != "third" {
				t.Fatalf("after a stale PutIfMatch: %q, %v; want %q", got.Data, err, "third")
			}
		})
	}

	// Writers racing for one key: exactly one stores, and what is stored is its bytes.
	t.Run("race", func(t *testing.T) {
		if err := s.EnsureBuckets(ctx, "race"); err != nil {
			t.Fatal(err)
		}
		const writers = 8
		var created atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data := fmt.Sprintf("writer %d", i)
				ok, err := s.PutIfAbsent(ctx, "race", "k", []byte(data), "text/plain", nil)
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
				if ok {
					created.Add(1)
					winner.Store(data)
				}
			}()
		}
		wg.Wait()
		if n := created.Load(); n != 1 {
			t.Fatalf("%d of %d racing writers stored; want exactly 1", n, writers)
		}
		got, err := s.Get(ctx, "race", "k")
		if err != nil || !bytes.Equal(got.Data, []byte(winner.Load().(string))) {
			t.Fatalf("stored %q, %v; want the one writer told it stored (%q)", got.Data, err, winner.Load())
		}
	})
}
