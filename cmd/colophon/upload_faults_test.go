package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

// ufSetQuota sets a hard quota of size bytes on bucket through MinIO's admin API (0: none).
// A quota smaller than any scan makes MinIO refuse every write to the bucket, as a full
// drive does.
func (e *env) ufSetQuota(bucket string, size int) {
	e.t.Helper()
	body := fmt.Appendf(nil, `{"size":%d,"quotatype":"hard"}`, size)
	u := e.stack.S3Endpoint + "/minio/admin/v3/set-bucket-quota?bucket=" + url.QueryEscape(bucket)
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	req = signer.SignV4(*req, devstacktest.AccessKey, devstacktest.SecretKey, "", "us-east-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("set quota on %s: %v", bucket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("set quota on %s: %s: %s", bucket, resp.Status, msg)
	}
}

// ufVersions counts the stored versions of each object under prefix in bucket.
func (e *env) ufVersions(bucket, prefix string) map[string]int {
	e.t.Helper()
	raw, err := minio.New(strings.TrimPrefix(e.stack.S3Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(devstacktest.AccessKey, devstacktest.SecretKey, "")})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for o := range raw.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			e.t.Fatal(o.Err)
		}
		out[o.Key]++
	}
	return out
}

// TestUploadStoreRefuses: when the store refuses a scan (a full drive; here a bucket quota
// smaller than any scan), upload fails naming the page, file and the store's answer; no
// page is left queued without a job (the refused page is failed with the reason, and status
// says to upload again); nothing is queued. Once the store takes writes, the same upload
// completes every page.
func TestUploadStoreRefuses(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	_, files := rpSample(t)
	e.ufSetQuota(pipeline.BucketScans, 1)

	up := func() result {
		return e.rpWithin(90*time.Second, append([]string{"upload", "--source", "box 6", "--doc", "full", "--wait"}, files...)...)
	}
	r := up()
	for _, want := range []string{"page 1 (" + files[0] + "): store scan:", "quota", "nothing was queued"} {
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Errorf("upload to a store that refuses: exit %d, stderr lacks %q:\n%s", r.code, want, r.stderr)
		}
	}
	st := e.rpStatus("full")
	if st.Pages != 2 || st.InProgress != 0 || st.Failed != 2 || !st.Complete {
		t.Errorf("status after the refused upload: %+v; want both pages failed, none in progress", st)
	}
	if p := st.PageStates[0]; p.State != pipeline.StateFailed || !strings.Contains(p.Error, "store scan") || !strings.Contains(p.Error, "upload the file again") {
		t.Errorf("page 1 after the refused upload: %+v", p)
	}
	if n := e.rpBacklog(); n != 0 {
		t.Errorf("OCR queue holds %d job(s) after the refused upload, want 0", n)
	}
	if got := e.ufVersions(pipeline.BucketScans, "full/"); len(got) != 0 {
		t.Errorf("scans stored despite the refusal: %v", got)
	}

	e.ufSetQuota(pipeline.BucketScans, 0)
	if r := up(); r.code != 0 || !strings.Contains(r.stderr, "all 2 page(s) done") {
		t.Fatalf("upload once the store takes writes: exit %d:\n%s", r.code, r.stderr)
	}
	e.rpCheckOneReading("full", 2)
}

// TestConcurrentUploadsStoreScansOnce: the same files uploaded to one document by several
// uploads at once store each scan once (one version in the versioned scans bucket) and
// queue one job a page.
func TestConcurrentUploadsStoreScansOnce(t *testing.T) {
	e := newEnv(t)
	_, files := rpSample(t)
	const uploads = 4
	var wg sync.WaitGroup
	results := make([]result, uploads)
	start := make(chan struct{})
	for i := range uploads {
		wg.Go(func() {
			<-start
			results[i] = e.rpWithin(60*time.Second, append([]string{"upload", "--source", "box 1", "--doc", "twins"}, files...)...)
		})
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.code != 0 || strings.TrimSpace(r.stdout) != "twins" {
			t.Errorf("upload %d: exit %d, stdout %q:\n%s", i+1, r.code, r.stdout, r.stderr)
		}
	}
	// And once more after them: a page already queued stores and queues nothing new.
	e.mustRun(append([]string{"upload", "--source", "box 1", "--doc", "twins"}, files...)...)
	versions := e.ufVersions(pipeline.BucketScans, "twins/")
	if len(versions) != 2 {
		t.Errorf("scans stored: %v; want one object for each of the 2 files", versions)
	}
	for key, n := range versions {
		if n != 1 {
			t.Errorf("scan %s stored %d times, want once", key, n)
		}
	}
	if n := e.rpBacklog(); n != 2 {
		t.Errorf("OCR queue holds %d jobs, want 2 (one a page)", n)
	}
	for _, p := range e.rpStatus("twins").PageStates {
		if p.State != pipeline.StateQueued || p.Version != 1 || p.Error != "" {
			t.Errorf("page %d: %s version %d, error %q; want queued version 1 with its job", p.Page, p.State, p.Version, p.Error)
		}
	}
}
