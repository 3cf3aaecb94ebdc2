package devstack_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

const (
	testStream  = "SCANS"
	testSubject = "scans.new"
	testBucket  = "colophon-scans"
	testObject  = "2026/page-0001.tiff"
)

var (
	testPayload = []byte(`{"scan":"page-0001"}`)
	testContent = []byte("not really a TIFF, but bytes all the same")
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connectJS(t *testing.T, st *devstack.Stack) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", st.NATSURL, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return js
}

func connectS3(t *testing.T, st *devstack.Stack) *minio.Client {
	t.Helper()
	u, err := url.Parse(st.S3Endpoint)
	if err != nil {
		t.Fatalf("parse S3 endpoint %q: %v", st.S3Endpoint, err)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(devstacktest.AccessKey, devstacktest.SecretKey, ""),
		Secure: false,
	})
	if err != nil {
		t.Fatalf("minio client: %v", err)
	}
	return mc
}

// seed creates a stream with one message and a bucket with one object.
func seed(t *testing.T, ctx context.Context, st *devstack.Stack) {
	t.Helper()
	js := connectJS(t, st)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:     testStream,
		Subjects: []string{"scans.>"},
		Storage:  jetstream.FileStorage,
	}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	if _, err := js.Publish(ctx, testSubject, testPayload); err != nil {
		t.Fatalf("publish: %v", err)
	}

	mc := connectS3(t, st)
	if err := mc.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	if _, err := mc.PutObject(ctx, testBucket, testObject, bytes.NewReader(testContent), int64(len(testContent)),
		minio.PutObjectOptions{ContentType: "image/tiff"}); err != nil {
		t.Fatalf("put object: %v", err)
	}
}

func getObject(t *testing.T, ctx context.Context, mc *minio.Client) []byte {
	t.Helper()
	obj, err := mc.GetObject(ctx, testBucket, testObject, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read object: %v", err)
	}
	return got
}

func TestStackServesNATSAndS3(t *testing.T) {
	ctx := testCtx(t)
	st := devstacktest.Start(t)
	if !st.StartedMinIO {
		t.Fatalf("StartedMinIO = false, want true for a fresh port")
	}
	seed(t, ctx, st)

	// Read the message back through a durable pull consumer, as workers do.
	js := connectJS(t, st)
	stream, err := js.Stream(ctx, testStream)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   "test-worker",
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var got [][]byte
	for msg := range batch.Messages() {
		got = append(got, msg.Data())
		if err := msg.Ack(); err != nil {
			t.Errorf("ack: %v", err)
		}
	}
	if err := batch.Error(); err != nil {
		t.Fatalf("fetch batch: %v", err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], testPayload) {
		t.Fatalf("fetched %q, want one message %q", got, testPayload)
	}

	if data := getObject(t, ctx, connectS3(t, st)); !bytes.Equal(data, testContent) {
		t.Fatalf("object content = %q, want %q", data, testContent)
	}
}

// dead reports whether pid no longer runs. A zombie counts as dead: once
// reparented, it is reaped by PID 1, which in containers may never do so.
func dead(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// Format: pid (comm) state ...; comm may contain spaces or parens.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func healthAnswers(endpoint string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(endpoint + "/minio/health/live")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func TestStopStopsMinIO(t *testing.T) {
	st := devstacktest.Start(t)
	pid := devstack.MinIOPID(st)
	if pid == 0 {
		t.Fatal("no MinIO pid; MinIO was not started")
	}
	if !healthAnswers(st.S3Endpoint) {
		t.Fatal("MinIO health endpoint does not answer before Stop")
	}

	start := time.Now()
	if err := st.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(start))
	if err := st.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	if healthAnswers(st.S3Endpoint) {
		t.Error("MinIO health endpoint still answers after Stop")
	}
	// Stop waited for the child, so it must be gone, not even a zombie.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(-%d, 0) after Stop = %v, want ESRCH (process group gone)", pid, err)
	}
	if nc, err := nats.Connect(st.NATSURL, nats.Timeout(time.Second)); err == nil {
		nc.Close()
		t.Error("NATS still accepts connections after Stop")
	}
}

func TestRestartKeepsState(t *testing.T) {
	ctx := testCtx(t)
	cfg := devstacktest.Config(t)

	first := devstacktest.StartConfig(t, cfg)
	seed(t, ctx, first)
	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	second := devstacktest.StartConfig(t, cfg)
	if !second.StartedMinIO {
		t.Fatal("second Start reused an S3 server; the first MinIO is still running")
	}
	js := connectJS(t, second)
	stream, err := js.Stream(ctx, testStream)
	if err != nil {
		t.Fatalf("stream %s after restart: %v", testStream, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream has %d messages after restart, want 1", info.State.Msgs)
	}
	msg, err := stream.GetMsg(ctx, info.State.FirstSeq)
	if err != nil {
		t.Fatalf("get message: %v", err)
	}
	if !bytes.Equal(msg.Data, testPayload) || msg.Subject != testSubject {
		t.Fatalf("message after restart = %s %q, want %s %q", msg.Subject, msg.Data, testSubject, testPayload)
	}

	if data := getObject(t, ctx, connectS3(t, second)); !bytes.Equal(data, testContent) {
		t.Fatalf("object after restart = %q, want %q", data, testContent)
	}
}

func TestStartReusesRunningS3(t *testing.T) {
	running := devstacktest.Start(t)

	cfg := devstacktest.Config(t)
	cfg.S3Endpoint = running.S3Endpoint
	cfg.MinIOBin = "/nonexistent/minio" // proves no MinIO is started
	st, err := devstack.Start(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Start against a running S3 server: %v", err)
	}
	t.Cleanup(func() { _ = st.Stop() })
	if st.StartedMinIO {
		t.Error("StartedMinIO = true, want false when an S3 server already answers")
	}
	if st.S3Endpoint != running.S3Endpoint {
		t.Errorf("S3Endpoint = %q, want %q", st.S3Endpoint, running.S3Endpoint)
	}
	if err := st.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !healthAnswers(running.S3Endpoint) {
		t.Error("stopping the reusing stack stopped the MinIO it did not start")
	}
}

func TestStartFailsWhenNATSPortBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := devstacktest.Config(t)
	cfg.NATSURL = fmt.Sprintf("nats://127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)

	// The default NATS logger would os.Exit here; Start must return an error.
	st, err := devstack.Start(testCtx(t), cfg)
	if err == nil {
		st.Stop()
		t.Fatal("Start succeeded on a busy NATS port")
	}
	t.Logf("Start error (expected): %v", err)
	if !strings.Contains(err.Error(), "start nats") {
		t.Errorf("error %q does not say it was starting NATS", err)
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-minio")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartReportsMinIOOutputWhenItExits(t *testing.T) {
	cfg := devstacktest.Config(t)
	cfg.MinIOBin = writeScript(t, "echo 'fake minio: disk on fire' >&2\nexit 3\n")
	st, err := devstack.Start(testCtx(t), cfg)
	if err == nil {
		st.Stop()
		t.Fatal("Start succeeded with a MinIO that exits")
	}
	t.Logf("Start error (expected): %v", err)
	for _, want := range []string{"start minio at", "disk on fire", "exit status 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// NATS must have been shut down again: its port is free.
	u, _ := url.Parse(cfg.NATSURL)
	l, lerr := net.Listen("tcp", u.Host)
	if lerr != nil {
		t.Errorf("NATS port still busy after failed Start: %v", lerr)
	} else {
		l.Close()
	}
}

func TestStartKillsHungMinIOProcessGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	cfg := devstacktest.Config(t)
	// A "MinIO" that never becomes healthy and has a child of its own.
	cfg.MinIOBin = writeScript(t, "echo 'fake minio: hanging'\nsleep 600 &\necho $! > "+pidFile+"\nwait\n")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	st, err := devstack.Start(ctx, cfg)
	if err == nil {
		st.Stop()
		t.Fatal("Start succeeded with a MinIO that never gets healthy")
	}
	t.Logf("Start error (expected): %v", err)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Start took %s to give up after its context expired", d)
	}
	for _, want := range []string{"start minio at", "fake minio: hanging", context.DeadlineExceeded.Error()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatalf("read grandchild pid: %v", rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitDead(t, pid)
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !dead(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL) // don't leak it past the test
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMinIODiesWithParent starts a stack in a child test process, kills that
// process with SIGKILL (no chance to clean up) and checks MinIO dies too.
func TestMinIODiesWithParent(t *testing.T) {
	cfg := devstacktest.Config(t)
	bin, err := devstack.FindMinIO()
	if err != nil {
		t.Fatalf("%v", err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		"DEVSTACK_HELPER=1",
		"DEVSTACK_HELPER_DIR="+cfg.DataDir,
		"DEVSTACK_HELPER_NATS="+cfg.NATSURL,
		"DEVSTACK_HELPER_S3="+cfg.S3Endpoint,
		"DEVSTACK_HELPER_BIN="+bin,
	)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	pid := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "MINIO_PID="); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
	}
	if pid == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper did not report a MinIO pid; stderr:\n%s", stderr.String())
	}
	go io.Copy(io.Discard, stdout) // keep the helper from blocking on output
	if !healthAnswers(cfg.S3Endpoint) {
		t.Fatal("helper's MinIO does not answer")
	}
	// Its data directory is locked across processes, naming the holder.
	if _, err := devstack.LockDataDir(cfg.DataDir); !strings.Contains(fmt.Sprint(err), fmt.Sprintf("pid %d", cmd.Process.Pid)) {
		t.Errorf("locking the helper's data directory: %v, want it refused naming pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill helper: %v", err)
	}
	_ = cmd.Wait()
	waitDead(t, pid)
	if healthAnswers(cfg.S3Endpoint) {
		t.Error("MinIO still answers after its parent was killed")
	}
	// A stack killed by SIGKILL leaves no lock behind.
	release, err := devstack.LockDataDir(cfg.DataDir)
	if err != nil {
		t.Fatalf("data directory still locked after its holder was killed: %v", err)
	}
	release()
}

// TestMain doubles as the helper process of TestMinIODiesWithParent: with
// DEVSTACK_HELPER=1 it hosts a stack until it is killed instead of testing.
func TestMain(m *testing.M) {
	if os.Getenv("DEVSTACK_HELPER") == "1" {
		runHelperStack()
		return
	}
	os.Exit(m.Run())
}

func runHelperStack() {
	st, err := devstack.Start(context.Background(), devstack.Config{
		DataDir:    os.Getenv("DEVSTACK_HELPER_DIR"),
		NATSURL:    os.Getenv("DEVSTACK_HELPER_NATS"),
		S3Endpoint: os.Getenv("DEVSTACK_HELPER_S3"),
		AccessKey:  devstacktest.AccessKey,
		SecretKey:  devstacktest.SecretKey,
		MinIOBin:   os.Getenv("DEVSTACK_HELPER_BIN"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("MINIO_PID=%d\n", devstack.MinIOPID(st))
	select {} // wait to be killed
}
