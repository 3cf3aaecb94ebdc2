package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// The crash tests run colophon as separate processes, so they can kill -9 them.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// colophonBinary builds the command once per test run.
func colophonBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "colophon-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "colophon")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func removeBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// proc is a process started by a test (colophon, or a server of a cluster), its output in a
// log file.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startProc starts the colophon binary with args, logging as text.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startProcEnv(t, name, nil, args...)
}

// startProcEnv is startProc with more environment (KEY=value), e.g. a worker's own endpoint.
func startProcEnv(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	return startExec(t, name, colophonBinary(t), env, append([]string{"--log-format", "text"}, args...)...)
}

// startExec starts bin with args, in this process's environment plus env (KEY=value, which
// win), and kills it when the test ends.
func startExec(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s log:\n%s", p.name, p.output())
		}
	})
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// waitExit waits up to d for the process to exit.
func (p *proc) waitExit(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pageStates reads a document's page states straight from the status bucket (nil if unknown).
func pageStates(e *env, doc string) []pipeline.PageStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := e.bus.OpenStatus(ctx)
	if err != nil {
		return nil
	}
	pages, err := st.Pages(ctx, doc)
	if err != nil {
		return nil
	}
	return pages
}

func allDone(e *env, doc string, n int) bool {
	pages := pageStates(e, doc)
	if len(pages) != n {
		return false
	}
	for _, p := range pages {
		if p.State != pipeline.StateDone {
			return false
		}
	}
	return true
}

// outputKeys are the keys of version v of a page's outputs, in the order the store lists them.
func outputKeys(doc string, page, v int) []string {
	return []string{pipeline.ALTOKey(doc, page, v), pipeline.HOCRKey(doc, page, v), pipeline.PDFKey(doc, page, v), pipeline.TextKey(doc, page, v)}
}

// assertOneOfEach checks every page has exactly one set of outputs (text, hOCR, ALTO, PDF)
// and one provenance record, and that get verifies them all.
func assertOneOfEach(t *testing.T, e *env, doc string, pages int) {
	t.Helper()
	ctx := context.Background()
	for _, bucket := range []string{pipeline.BucketTexts, pipeline.BucketProvenance} {
		keys, err := e.store.List(ctx, bucket, doc+"/")
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, 0, pages)
		for n := 1; n <= pages; n++ {
			if bucket == pipeline.BucketTexts {
				want = append(want, outputKeys(doc, n, 1)...)
			} else {
				want = append(want, pipeline.ProvenanceKey(doc, n, 1))
			}
		}
		if strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Errorf("%s holds %v, want exactly %v", bucket, keys, want)
		}
	}
	r := e.colophon("get", doc)
	if r.code != 0 || strings.Count(r.stdout, "\f") != pages-1 {
		t.Errorf("get %s: exit %d, %d pages\n%s", doc, r.code, strings.Count(r.stdout, "\f")+1, r.stderr)
	}
}

// externalMinIO runs a MinIO server owned by the test, so the test can take it away and
// bring it back on the same data, as an outage would.
type externalMinIO struct {
	t        *testing.T
	bin, dir string
	endpoint string
	addr     string
	cmd      *exec.Cmd
}

func startExternalMinIO(t *testing.T) *externalMinIO {
	t.Helper()
	bin, err := devstack.FindMinIO()
	if err != nil {
		t.Fatal(err)
	}
	port := devstacktest.FreePort(t)
	m := &externalMinIO{t: t, bin: bin, dir: t.TempDir(), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	m.endpoint = "http://" + m.addr
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *externalMinIO) start() {
	m.t.Helper()
	console := fmt.Sprintf("127.0.0.1:%d", devstacktest.FreePort(m.t))
	m.cmd = exec.Command(m.bin, "server", m.dir, "--address", m.addr, "--console-address", console, "--quiet")
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+devstacktest.AccessKey, "MINIO_ROOT_PASSWORD="+devstacktest.SecretKey, "MINIO_BROWSER=off")
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	waitFor(m.t, 60*time.Second, "MinIO ready", func() bool {
		resp, err := http.Get(m.endpoint + "/minio/health/cluster")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (m *externalMinIO) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}

// procEnv is a deployment whose NATS (and MinIO, unless an external one is given) run in a
// `colophon dev --no-workers` process, and whose workers are processes too.
type procEnv struct {
	*env
	dataDir string
	natsURL string
	s3      string
	devArgs []string // more arguments for dev
	dev     *proc
}

func newProcEnv(t *testing.T, s3 string, devArgs ...string) *procEnv {
	t.Helper()
	colophonBinary(t)
	pe := &procEnv{
		env:     &env{t: t, logs: &syncBuffer{}},
		dataDir: t.TempDir(),
		natsURL: fmt.Sprintf("nats://127.0.0.1:%d", devstacktest.FreePort(t)),
		s3:      s3,
		devArgs: devArgs,
	}
	if pe.s3 == "" {
		pe.s3 = fmt.Sprintf("http://127.0.0.1:%d", devstacktest.FreePort(t))
	}
	t.Setenv(envNATSURL, pe.natsURL)
	t.Setenv(envS3Endpoint, pe.s3)
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, devstacktest.SecretKey)
	pe.startDev()
	store, err := objectstore.New(pe.s3, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	pe.store = store
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	pe.bus, _, err = connect(context.Background(), pe.globals(), cfg, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pe.bus.Close)
	return pe
}

// startDev starts (or restarts, on the same data) the dev stack without workers.
func (pe *procEnv) startDev() {
	pe.t.Helper()
	pe.dev = startProc(pe.t, fmt.Sprintf("dev-%d", time.Now().UnixNano()), append([]string{"dev", "--no-workers", "--data", pe.dataDir}, pe.devArgs...)...)
	waitFor(pe.t, 90*time.Second, "dev stack ready", func() bool {
		return strings.Contains(pe.dev.output(), "dev stack ready") || !pe.dev.running()
	})
	if !pe.dev.running() {
		pe.t.Fatalf("dev stack exited:\n%s", pe.dev.output())
	}
}
