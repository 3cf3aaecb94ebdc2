package main

import (
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevStopsCleanly: `colophon dev` runs NATS, a MinIO child and the workers, and SIGTERM
// (or SIGINT) stops all of it: the process exits 0 and nothing listens any more.
func TestDevStopsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			pe := newProcEnv(t, "")
			// --no-workers: health reports the workers missing, NATS and S3 up.
			if r := pe.colophon("health"); !strings.Contains(r.stdout, "nats:             ok") || !strings.Contains(r.stdout, "s3:               ok") {
				t.Fatalf("health of a running dev stack:\n%s", r.stdout)
			}
			pe.dev.signal(sig)
			if !pe.dev.waitExit(20 * time.Second) {
				t.Fatal("dev still running 20 s after the signal")
			}
			if pe.dev.err != nil {
				t.Errorf("dev exited with %v", pe.dev.err)
			}
			if !strings.Contains(pe.dev.output(), "dev stack stopped") {
				t.Errorf("dev did not report stopping:\n%s", pe.dev.output())
			}
			for _, raw := range []string{pe.natsURL, pe.s3} {
				u, _ := url.Parse(raw)
				if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
					c.Close()
					t.Errorf("%s still answers after dev stopped (MinIO or NATS left behind)", raw)
				}
			}
		})
	}
}

// TestDevWithoutMinIO: when the MinIO binary cannot be found, dev stops at once with the
// exact command that installs it.
func TestDevWithoutMinIO(t *testing.T) {
	colophonBinary(t)
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("GOBIN", "")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("COLOPHON_MINIO_BIN", "")
	t.Setenv(envNATSURL, "nats://127.0.0.1:0")
	t.Setenv(envS3Endpoint, "http://127.0.0.1:1") // nothing answers there
	p := startProc(t, "dev-no-minio", "dev", "--data", t.TempDir())
	if !p.waitExit(30 * time.Second) {
		t.Fatal("dev without MinIO did not stop")
	}
	if p.err == nil || !strings.Contains(p.output(), "go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c") {
		t.Errorf("dev without MinIO: %v\n%s", p.err, p.output())
	}
}
