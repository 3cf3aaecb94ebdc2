package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// holdingProxy passes S3 requests on to a real MinIO, except the first one hold matches,
// which it keeps until release: a write in flight while its sender is paused.
type holdingProxy struct {
	URL       string
	held      chan struct{} // closed when the request is held
	release   chan struct{}
	forwarded chan struct{} // closed when MinIO has answered the held request
}

func newHoldingProxy(t *testing.T, target string, hold func(*http.Request) bool) *holdingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Host = pr.In.Host // the host the request was signed for
	}}
	p := &holdingProxy{held: make(chan struct{}), release: make(chan struct{}), forwarded: make(chan struct{})}
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := false
		if hold(r) {
			once.Do(func() { first = true })
		}
		if !first {
			rp.ServeHTTP(w, r)
			return
		}
		close(p.held)
		<-p.release
		rp.ServeHTTP(w, r)
		close(p.forwarded)
	}))
	t.Cleanup(func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
		srv.CloseClientConnections()
		srv.Close()
	})
	p.URL = srv.URL
	return p
}

// TestPausedMetadataWorkerLeavesDonePage: metadata worker A is paused (SIGSTOP) while its
// record write is in flight, past the ack wait; worker B takes the redelivered job and
// finishes the page; then A's write reaches the store and A wakes. The done page stays
// served and verified with B's record, and A leaves the page alone, saying so.
func TestPausedMetadataWorkerLeavesDonePage(t *testing.T) {
	e := newEnv(t)
	proxy := newHoldingProxy(t, e.stack.S3Endpoint, func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/"+pipeline.BucketProvenance+"/")
	})
	t.Setenv(envS3Endpoint, proxy.URL)
	a := startProc(t, "metadata-a", "worker", "metadata")
	t.Setenv(envS3Endpoint, e.stack.S3Endpoint)
	startProc(t, "ocr", "worker", "ocr", "--concurrency", "1")
	e.mustRun(append([]string{"upload", "--source", "pause box", "--doc", "paused"}, samplePages(t, 1)...)...)

	select {
	case <-proxy.held:
	case <-time.After(3 * time.Minute):
		t.Fatalf("worker A never wrote a record:\n%s", a.output())
	}
	a.signal(syscall.SIGSTOP)
	t.Cleanup(func() { a.signal(syscall.SIGCONT) }) // a stopped process cannot be killed cleanly
	b := startProc(t, "metadata-b", "worker", "metadata")
	waitFor(t, 2*pipeline.AckWait+90*time.Second, "B finishes the page", func() bool { return allDone(e, "paused", 1) })
	if !strings.Contains(b.output(), "doc=paused page=1 stage=metadata outcome=ok") {
		t.Fatalf("the page was not finished by worker B:\n%s", b.output())
	}
	key := pipeline.ProvenanceKey("paused", 1, 1)
	good, err := e.store.Get(context.Background(), pipeline.BucketProvenance, key)
	if err != nil {
		t.Fatal(err)
	}

	close(proxy.release) // A's write reaches the store now, after B's
	select {
	case <-proxy.forwarded:
	case <-time.After(time.Minute):
		t.Fatal("the held record write was never answered")
	}
	a.signal(syscall.SIGCONT)
	// A settles its late job: by leaving it, or (wrongly) by writing its own record.
	settled := regexp.MustCompile(`doc=paused page=1 stage=metadata outcome=(ok|skipped|failed)`)
	for deadline := time.Now().Add(2 * time.Minute); !settled.MatchString(a.output()) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(a.output(), "doc=paused page=1 stage=metadata outcome=skipped") {
		t.Errorf("worker A did not leave the finished page alone:\n%s", a.output())
	}

	now, err := e.store.Get(context.Background(), pipeline.BucketProvenance, key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(now.Data, good.Data) {
		t.Errorf("the done page's record was replaced by the late worker's")
	}
	if r := e.colophon("get", "paused"); r.code != 0 || !strings.Contains(r.stdout, "the") {
		t.Errorf("get paused: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.colophon("verify", "--public-key", testPublicKey, "paused"); r.code != 0 {
		t.Errorf("verify paused: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	assertOneOfEach(t, e, "paused", 1)
	if strings.Count(a.output()+b.output(), "doc=paused page=1 stage=metadata outcome=ok") != 1 {
		t.Errorf("the page was recorded as finished more than once:\n%s\n%s", a.output(), b.output())
	}
	if !a.running() || !b.running() {
		t.Error("a worker exited")
	}
}

// TestPausedOCRWorkerKeepsNothing: OCR worker A is paused (SIGSTOP) as it stores a page's
// text, past the ack wait; worker B reads the page again and hands it on, and the page is
// done; then A's write reaches the store and A wakes. The page keeps one set of outputs and
// one record, and A logs its late reading skipped, not a second page read.
func TestPausedOCRWorkerKeepsNothing(t *testing.T) {
	e := newEnv(t)
	proxy := newHoldingProxy(t, e.stack.S3Endpoint, func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/"+pipeline.BucketTexts+"/")
	})
	t.Setenv(envS3Endpoint, proxy.URL)
	a := startProc(t, "ocr-a", "worker", "ocr", "--concurrency", "1")
	t.Setenv(envS3Endpoint, e.stack.S3Endpoint)
	meta := startProc(t, "metadata", "worker", "metadata")
	e.mustRun(append([]string{"upload", "--source", "pause box", "--doc", "ocrpause"}, samplePages(t, 1)...)...)

	select {
	case <-proxy.held:
	case <-time.After(3 * time.Minute):
		t.Fatalf("worker A never stored an output:\n%s", a.output())
	}
	a.signal(syscall.SIGSTOP)
	t.Cleanup(func() { a.signal(syscall.SIGCONT) })
	b := startProc(t, "ocr-b", "worker", "ocr", "--concurrency", "1")
	waitFor(t, 2*pipeline.AckWait+90*time.Second, "the page done after B's reading", func() bool { return allDone(e, "ocrpause", 1) })
	if !strings.Contains(b.output(), "doc=ocrpause page=1 stage=ocr outcome=ok") {
		t.Fatalf("the page was not read by worker B:\n%s", b.output())
	}

	close(proxy.release)
	select {
	case <-proxy.forwarded:
	case <-time.After(time.Minute):
		t.Fatal("the held output write was never answered")
	}
	a.signal(syscall.SIGCONT)
	settled := regexp.MustCompile(`doc=ocrpause page=1 stage=ocr outcome=(ok|skipped|failed)`)
	for deadline := time.Now().Add(2 * time.Minute); !settled.MatchString(a.output()) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(a.output(), "doc=ocrpause page=1 stage=ocr outcome=skipped") {
		t.Errorf("worker A did not drop its late reading:\n%s", a.output())
	}
	time.Sleep(2 * time.Second) // a metadata job A might have queued would be taken by now
	assertOneOfEach(t, e, "ocrpause", 1)
	if r := e.colophon("verify", "--public-key", testPublicKey, "ocrpause"); r.code != 0 {
		t.Errorf("verify ocrpause: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(meta.output(), "doc=ocrpause page=1 stage=metadata outcome=ok"); n != 1 {
		t.Errorf("the page was recorded %d times, want once", n)
	}
	if !a.running() || !b.running() {
		t.Error("a worker exited")
	}
}
