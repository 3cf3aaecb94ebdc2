package main

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/ocr"
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

// startedMinIO is the pid of the MinIO a dev's log says it started last; 0 if none.
func startedMinIO(log string) int {
	m := regexp.MustCompile(`msg="started minio" component=devstack pid=(\d+)`).FindAllStringSubmatch(log, -1)
	if len(m) == 0 {
		return 0
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	return pid
}

// TestDevFaults: faults around one running `colophon dev`, its workers in this process,
// holding a done document. A second dev on its data directory is refused before it starts
// anything and the first keeps serving; status, get and provenance answer what they can
// without the store, and name what they could not fetch; a MinIO child killed with
// SIGKILL is logged at once, started again, and uploads and gets work after it.
func TestDevFaults(t *testing.T) {
	pe := newProcEnv(t, "")
	pe.startWorkers(ocr.WithConcurrency(1))
	pe.mustRun(append([]string{"upload", "--source", "dev box", "--doc", "before", "--wait"}, samplePages(t, 1)...)...)
	const oneDone = "1 page(s), 1 done"

	t.Run("second dev on the data directory is refused", func(t *testing.T) {
		// Ports of its own: only the data directory is shared, so nothing but the lock refuses it.
		natsURL, s3 := fmt.Sprintf("nats://127.0.0.1:%d", devstacktest.FreePort(t)), fmt.Sprintf("http://127.0.0.1:%d", devstacktest.FreePort(t))
		t.Setenv(envNATSURL, natsURL)
		t.Setenv(envS3Endpoint, s3)
		second := startProc(t, "dev-second", "dev", "--no-workers", "--data", pe.dataDir)
		// It has its environment; the commands below talk to the first dev.
		t.Setenv(envNATSURL, pe.natsURL)
		t.Setenv(envS3Endpoint, pe.s3)
		if !second.waitExit(30 * time.Second) {
			t.Fatal("the second dev is still running")
		}
		out := second.output()
		if second.err == nil {
			t.Errorf("the second dev exited 0:\n%s", out)
		}
		for _, want := range []string{"data directory " + pe.dataDir + " is in use", fmt.Sprintf("pid %d", pe.dev.cmd.Process.Pid), "another --data"} {
			if !strings.Contains(out, want) {
				t.Errorf("the second dev's message does not say %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "started minio") || strings.Contains(out, "JetStream") {
			t.Errorf("the second dev started something before refusing:\n%s", out)
		}
		for _, raw := range []string{natsURL, s3} {
			u, _ := url.Parse(raw)
			if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
				c.Close()
				t.Errorf("something listens at %s, where the refused dev would have", raw)
			}
		}
		if !pe.dev.running() {
			t.Fatal("the first dev exited")
		}
		if r := pe.colophon("status", "before"); r.code != 0 || !strings.Contains(r.stdout, oneDone) {
			t.Errorf("status from the first dev: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("read commands without the store", func(t *testing.T) {
		t.Setenv(envS3Endpoint, fmt.Sprintf("http://127.0.0.1:%d", devstacktest.FreePort(t))) // nothing answers there
		key := pipeline.BucketProvenance + "/" + pipeline.ProvenanceKey("before", 1, 1)
		tests := []struct {
			args     []string
			code     int
			inStdout string
			inStderr string
		}{
			{[]string{"status", "before"}, 0, oneDone, ""},
			{[]string{"get", "before"}, 1, "", "page 1: get " + key},
			{[]string{"provenance", "before"}, 1, "[]", "page 1: get " + key},
		}
		for _, tt := range tests {
			r := pe.colophon(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.inStdout) || !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("%s with the store unreachable: exit %d, want %d with %q on stdout and %q on stderr\nstdout: %s\nstderr: %s",
					strings.Join(tt.args, " "), r.code, tt.code, tt.inStdout, tt.inStderr, r.stdout, r.stderr)
			}
		}
	})

	t.Run("status with MinIO stopped", func(t *testing.T) {
		pid := startedMinIO(pe.dev.output())
		if pid == 0 {
			t.Fatalf("dev's log names no MinIO pid:\n%s", pe.dev.output())
		}
		// SIGSTOP: MinIO takes connections and never answers, the worst a store can do.
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer syscall.Kill(pid, syscall.SIGCONT)
		if r := pe.colophon("status", "before"); r.code != 0 || !strings.Contains(r.stdout, oneDone) {
			t.Errorf("status with MinIO stopped: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("MinIO child killed", func(t *testing.T) {
		pid := startedMinIO(pe.dev.output())
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		died := fmt.Sprintf(`level=ERROR msg="minio exited unexpectedly" component=devstack pid=%d exit="signal: killed"`, pid)
		waitFor(t, 10*time.Second, "the death in dev's log", func() bool { return strings.Contains(pe.dev.output(), died) })
		waitFor(t, 90*time.Second, "MinIO started again", func() bool {
			return strings.Contains(pe.dev.output(), `msg="restarted minio"`) && startedMinIO(pe.dev.output()) != pid
		})
		pe.mustRun(append([]string{"upload", "--source", "dev box", "--doc", "after", "--wait"}, samplePages(t, 1)...)...)
		for _, doc := range []string{"before", "after"} {
			if r := pe.colophon("get", doc); r.code != 0 || strings.TrimSpace(r.stdout) == "" {
				t.Errorf("get %s after MinIO's restart: exit %d\n%s", doc, r.code, r.stderr)
			}
		}
		if !pe.dev.running() {
			t.Error("dev exited")
		}
	})
}
