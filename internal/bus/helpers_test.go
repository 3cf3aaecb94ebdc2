package bus

import (
	"context"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

// testCtx bounds every call a test makes, so a hung server fails the test instead of the run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// startBus starts a fresh real embedded NATS with JetStream (no MinIO: the bus never touches
// S3) and connects to it. With ensure, the pipeline topology is created first.
func startBus(t *testing.T, ensure bool) *Bus {
	t.Helper()
	stack, _ := devstacktest.StartNATS(t, nil)
	b := connect(t, stack.NATSURL)
	if ensure {
		if err := b.EnsureTopology(testCtx(t)); err != nil {
			t.Fatalf("EnsureTopology: %v", err)
		}
	}
	return b
}

// connect opens a Bus on url, closed when the test ends (before the stack stops).
func connect(t *testing.T, url string, opts ...Option) *Bus {
	t.Helper()
	b, err := Connect(testCtx(t), url, append([]Option{WithName(t.Name()), WithLogger(devstacktest.Logger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", url, err)
	}
	t.Cleanup(b.Close)
	return b
}

// eventually polls cond every 20ms until it is true or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
