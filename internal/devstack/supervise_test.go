package devstack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

// logBuffer is a slog destination the test reads back, and shows if the test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogBuffer(t *testing.T) (*logBuffer, *slog.Logger) {
	lb := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack log:\n%s", lb.String())
		}
	})
	return lb, slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// eventually polls cond every 50 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portFree reports whether nothing listens at a URL's host:port.
func portFree(t *testing.T, raw string) bool {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// TestDataDirLock: a second stack on a data directory in use is refused before it starts
// anything, naming the directory and the holder's pid; the holder's Stop releases it (and
// is not reported as MinIO dying), so the next stack starts.
func TestDataDirLock(t *testing.T) {
	logs, log := newLogBuffer(t)
	cfg := devstacktest.Config(t)
	cfg.Logger = log
	first := devstacktest.StartConfig(t, cfg)

	second := devstacktest.Config(t) // ports of its own: only the directory is shared
	second.DataDir = cfg.DataDir
	st, err := devstack.Start(testCtx(t), second)
	if err == nil {
		st.Stop()
		t.Fatal("a second stack started on a data directory in use")
	}
	t.Logf("second Start (expected to fail): %v", err)
	var inUse *devstack.DataDirInUseError
	if !errors.Is(err, devstack.ErrDataDirInUse) || !errors.As(err, &inUse) {
		t.Fatalf("error %v is not a DataDirInUseError", err)
	}
	if inUse.PID != os.Getpid() || inUse.Dir != cfg.DataDir {
		t.Errorf("holder pid %d, dir %s; want %d, %s", inUse.PID, inUse.Dir, os.Getpid(), cfg.DataDir)
	}
	for _, want := range []string{cfg.DataDir, fmt.Sprintf("pid %d", os.Getpid()), devstack.LockFileName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	for _, u := range []string{second.NATSURL, second.S3Endpoint} {
		if !portFree(t, u) {
			t.Errorf("the refused stack listens at %s: it started something", u)
		}
	}
	if !healthAnswers(first.S3Endpoint) {
		t.Error("the first stack's MinIO stopped answering")
	}

	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if strings.Contains(logs.String(), "exited unexpectedly") {
		t.Errorf("a deliberate Stop was reported as MinIO dying:\n%s", logs.String())
	}
	third := devstacktest.StartConfig(t, cfg)
	if !third.StartedMinIO {
		t.Error("the stack after Stop did not start its own MinIO")
	}
}

// writeMinIOWrapper writes (or rewrites) an executable that runs body; MinIOBin pointing
// at it lets a test change what a restart runs.
func writeMinIOWrapper(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestMinIODeathRestartedThenGivenUp: kill -9 of the MinIO child is logged at once at error
// level with its pid and exit status, and MinIO is started again on the same port and data;
// a MinIO that cannot start again is retried up to the bound, then the stack fails with
// the reason and MinIO's own words.
func TestMinIODeathRestartedThenGivenUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := devstack.FindMinIO()
	if err != nil {
		t.Fatal(err)
	}
	logs, log := newLogBuffer(t)
	cfg := devstacktest.Config(t)
	cfg.Logger = log
	cfg.MinIOBin = filepath.Join(t.TempDir(), "minio-wrapper")
	writeMinIOWrapper(t, cfg.MinIOBin, "exec "+bin+" \"$@\"\n")
	st := devstacktest.StartConfig(t, cfg)
	mc := connectS3(t, st)
	if err := mc.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, ctx, mc)

	first := st.MinIOPID()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the death logged", func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf(`level=ERROR msg="minio exited unexpectedly" component=devstack pid=%d exit="signal: killed"`, first))
	})
	eventually(t, 60*time.Second, "MinIO restarted", func() bool {
		return st.MinIOPID() != first && strings.Contains(logs.String(), "msg=\"restarted minio\"")
	})
	if data := getObject(t, ctx, mc); !bytes.Equal(data, testContent) {
		t.Fatalf("object after the restart = %q, want %q", data, testContent)
	}
	select {
	case <-st.Failed():
		t.Fatalf("stack failed after one restart: %v", st.Err())
	default:
	}

	// From now on MinIO cannot start: the restarts left in the window fail, then it stops.
	writeMinIOWrapper(t, cfg.MinIOBin, "echo 'fake minio: drive gone' >&2\nexit 3\n")
	if err := syscall.Kill(st.MinIOPID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-st.Failed():
	case <-time.After(60 * time.Second):
		t.Fatal("stack did not give up on a MinIO that cannot start")
	}
	for _, want := range []string{"restarted 3 times", "drive gone", "exit status 3"} {
		if !strings.Contains(st.Err().Error(), want) {
			t.Errorf("Err() = %q, does not say %q", st.Err(), want)
		}
	}
	if n := strings.Count(logs.String(), `msg="restart minio"`); n != 2 {
		t.Errorf("%d failed restarts logged, want 2 (one of the 3 was used by the first death)", n)
	}
	if !strings.Contains(logs.String(), `level=ERROR msg="minio given up"`) {
		t.Error("giving up was not logged")
	}
	if err := st.Stop(); err != nil {
		t.Errorf("Stop after giving up: %v (the death was reported already)", err)
	}
	if !portFree(t, st.NATSURL) {
		t.Error("NATS still listens after Stop")
	}
}

func put(t *testing.T, ctx context.Context, mc *minio.Client) {
	t.Helper()
	if _, err := mc.PutObject(ctx, testBucket, testObject, bytes.NewReader(testContent), int64(len(testContent)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put object: %v", err)
	}
}
