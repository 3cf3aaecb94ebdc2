package devstacktest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// fatalTB records Fatalf and Skip instead of ending the real test.
type fatalTB struct {
	testing.TB
	fatal   string
	skipped bool
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Skip(args ...any)                 { f.skipped = true; runtime.Goexit() }
func (f *fatalTB) Skipf(format string, args ...any) { f.skipped = true; runtime.Goexit() }
func (f *fatalTB) SkipNow()                         { f.skipped = true; runtime.Goexit() }

func TestStartFailsWithInstallCommandWhenMinIOMissing(t *testing.T) {
	empty := t.TempDir()
	for k, v := range map[string]string{
		"COLOPHON_MINIO_BIN": "", "PATH": empty, "GOBIN": "", "GOPATH": empty, "HOME": empty,
	} {
		t.Setenv(k, v)
	}
	ftb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(ftb)
		t.Error("Start returned without failing the test")
	}()
	<-done
	if ftb.skipped {
		t.Fatal("Start skipped the test; it must fail it")
	}
	if !strings.Contains(ftb.fatal, devstack.MinIOInstallCommand) {
		t.Fatalf("Fatalf message %q does not contain %q", ftb.fatal, devstack.MinIOInstallCommand)
	}
	t.Logf("Fatalf message: %s", ftb.fatal)
}

func TestFreePortIsUnique(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
	}
}

// TestStartNATS: a NATS-only stack serves JetStream and starts no MinIO.
func TestStartNATS(t *testing.T) {
	st, cfg := StartNATS(t, nil)
	if st.StartedMinIO || st.MinIOPID() != 0 {
		t.Fatalf("StartNATS started MinIO (pid %d)", st.MinIOPID())
	}
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", st.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(t.Context()); err != nil {
		t.Fatalf("JetStream on the NATS-only stack: %v", err)
	}
	if cfg.MinIOBin != "/nonexistent/minio" {
		t.Fatalf("config MinIOBin = %q: a restart could start MinIO", cfg.MinIOBin)
	}
}
