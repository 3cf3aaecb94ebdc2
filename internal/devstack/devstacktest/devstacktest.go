// Package devstacktest starts a devstack.Stack for tests.
package devstacktest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack"
)

// Credentials of the MinIO root user in test stacks.
const (
	AccessKey = "colophon-test"
	SecretKey = "colophon-test-secret"
)

// startTimeout bounds a test stack's start-up; MinIO alone may take up to a
// minute on a loaded CI machine.
const startTimeout = 90 * time.Second

// Start starts a Stack for a test on free loopback ports with a t.TempDir()
// data dir and the AccessKey/SecretKey credentials, and stops it in
// t.Cleanup. A missing MinIO binary fails the test (never skips it: CI
// installs MinIO, and a skipped integration test would hide a broken setup).
func Start(t testing.TB) *devstack.Stack {
	t.Helper()
	return StartConfig(t, Config(t))
}

// Config returns the configuration Start uses: free loopback ports, a fresh
// t.TempDir() data dir, test credentials, and a logger writing to the test log.
// Use it with StartConfig to restart a stack on the same DataDir.
func Config(t testing.TB) devstack.Config {
	t.Helper()
	return devstack.Config{
		DataDir:    t.TempDir(),
		NATSURL:    fmt.Sprintf("nats://127.0.0.1:%d", FreePort(t)),
		S3Endpoint: fmt.Sprintf("http://127.0.0.1:%d", FreePort(t)),
		AccessKey:  AccessKey,
		SecretKey:  SecretKey,
		Logger:     Logger(t),
	}
}

// StartConfig starts a Stack with cfg and stops it in t.Cleanup.
func StartConfig(t testing.TB, cfg devstack.Config) *devstack.Stack {
	t.Helper()
	if cfg.MinIOBin == "" {
		bin, err := devstack.FindMinIO()
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, devstack.MinIOInstallCommand) {
				msg += "; install MinIO with: " + devstack.MinIOInstallCommand
			}
			t.Fatalf("devstacktest: %s", msg)
		}
		cfg.MinIOBin = bin
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	st, err := devstack.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("devstacktest: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Stop(); err != nil {
			t.Errorf("devstacktest: stop: %v", err)
		}
	})
	return st
}

// handedOut remembers the ports FreePort returned in this process: Linux
// readily returns a just-closed port again, and a stack whose NATS and S3
// ports collide fails to start.
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

// FreePort returns a loopback TCP port that was free a moment ago and that
// FreePort has not returned before in this process.
func FreePort(t testing.TB) int {
	t.Helper()
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("devstacktest: find free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !handedOut[port] {
			handedOut[port] = true
			return port
		}
	}
	t.Fatalf("devstacktest: find free port: kernel keeps returning ports already handed out")
	return 0
}

// Logger returns a slog.Logger writing to the test log. It goes quiet once the
// test's cleanups have run, because t.Log after the test ends panics and
// stray server goroutines may still log then.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	// Registered before the stack's Stop cleanup, so it runs after it (LIFO).
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
