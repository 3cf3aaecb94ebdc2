package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/internal/tesseract"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

func TestMain(m *testing.M) {
	// The test binary links Tesseract too: it must start single-threaded like the command.
	if err := tesseract.EnsureSingleThreaded(); err != nil {
		panic(err)
	}
	// One signing key for the whole run, through the environment as a deployment gives it:
	// the in-process workers and every colophon process a test starts sign with it, and
	// tests check records against testPublicKey.
	keyDir, err := os.MkdirTemp("", "colophon-test-key-")
	if err != nil {
		panic(err)
	}
	if _, _, err := provenance.EnsureKeyFiles(keyDir); err != nil {
		panic(err)
	}
	testPublicKey = filepath.Join(keyDir, provenance.PublicKeyFileName)
	os.Setenv(provenance.EnvSigningKeyFile, filepath.Join(keyDir, provenance.KeyFileName))
	os.Setenv(provenance.EnvPublicKey, testPublicKey)
	code := m.Run()
	removeBinary()
	os.RemoveAll(keyDir)
	os.Exit(code)
}

// testPublicKey is the PEM file of the public key every record in the tests is signed with.
var testPublicKey string

// testSigner is the signer of the test run's key.
func testSigner(t *testing.T) *provenance.Signer {
	t.Helper()
	priv, _, err := provenance.LoadSigningKey("")
	if err != nil {
		t.Fatal(err)
	}
	return provenance.NewSigner(priv)
}

// env is a running deployment for a test: a real NATS with JetStream, a real MinIO, and
// (once startWorkers is called) real OCR and metadata workers in this process.
type env struct {
	t     *testing.T
	stack *devstack.Stack
	store *objectstore.Store
	bus   *bus.Bus
	logs  *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	stack := devstacktest.Start(t)
	t.Setenv(envNATSURL, stack.NATSURL)
	t.Setenv(envS3Endpoint, stack.S3Endpoint)
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, devstacktest.SecretKey)
	store, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, stack: stack, store: store, logs: &syncBuffer{}}
	ctx := context.Background()
	g := e.globals()
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	e.bus, _, err = connect(ctx, g, cfg, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.bus.Close)
	return e
}

func (e *env) globals() *globals {
	return &globals{stdout: os.Stdout, stderr: os.Stderr, log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// startWorkers runs an OCR worker (2 at once unless opts say otherwise) and a metadata
// worker until the test ends.
func (e *env) startWorkers(opts ...ocr.Option) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if err := startWorkers(ctx, &wg, e.globals(), e.bus, e.store, []metadata.Option{metadata.WithSigner(testSigner(e.t))}, append([]ocr.Option{ocr.WithConcurrency(2)}, opts...)...); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
		if e.t.Failed() {
			e.t.Logf("worker logs:\n%s", e.logs.String())
		}
	})
}

// result is one command's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// colophon runs one command line in-process, as the binary would.
func (e *env) colophon(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, append([]string{"--log-format", "text"}, args...), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	r := e.colophon(args...)
	if r.code != 0 {
		e.t.Fatalf("colophon %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, s)
	}
	return v
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
