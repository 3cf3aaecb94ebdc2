package devstacktest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/colophon-archive/colophon/internal/devstack"
)

// StartNATS starts a stack whose only server is its embedded NATS with JetStream, for tests
// that never touch S3: the same NATS devstack runs (its options, store and security are the
// ones under test), without the cost of starting MinIO. A stand-in HTTP server answers where
// the S3 endpoint points, so the stack reuses it instead of starting MinIO, and the MinIO
// binary is set to one that does not exist to prove none starts. mutate, if not nil, adjusts
// the configuration first. The returned configuration restarts NATS on the same port and
// data dir with StartConfig.
func StartNATS(t testing.TB, mutate func(*devstack.Config)) (*devstack.Stack, devstack.Config) {
	t.Helper()
	fake := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(fake.Close)
	cfg := Config(t)
	cfg.S3Endpoint = fake.URL
	cfg.MinIOBin = "/nonexistent/minio"
	if mutate != nil {
		mutate(&cfg)
	}
	return StartConfig(t, cfg), cfg
}
