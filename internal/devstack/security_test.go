package devstack_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

// TestStartRefusesBadSecurityConfig: contradictory or incomplete security settings are
// refused before anything starts, and no error repeats credentials written into a URL.
func TestStartRefusesBadSecurityConfig(t *testing.T) {
	const secret = "s3cr3t-DO-NOT-LOG"
	tests := []struct {
		name   string
		mutate func(*devstack.Config)
		want   string
	}{
		{"token and user", func(c *devstack.Config) { c.NATSToken, c.NATSUser, c.NATSPassword = secret, "u", secret }, "at most one"},
		{"user without password", func(c *devstack.Config) { c.NATSUser = "u" }, "NATSPassword"},
		{"nkeys and token", func(c *devstack.Config) { c.NATSNKeys, c.NATSToken = []string{"UABC"}, secret }, "at most one"},
		{"certs dir without a certificate", func(c *devstack.Config) { c.MinIOCertsDir = t.TempDir() }, "public.crt"},
		{"NATS URL with another scheme", func(c *devstack.Config) { c.NATSURL = "ws://u:" + secret + "@127.0.0.1:4222" }, "NATS URL"},
		{"S3 endpoint with another scheme", func(c *devstack.Config) { c.S3Endpoint = "ftp://u:" + secret + "@127.0.0.1:9000" }, "S3 endpoint"},
		{"unparsable NATS URL", func(c *devstack.Config) { c.NATSURL = "nats://u:" + secret + "@127.0.0.1:4222/%zz" }, "NATS URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := devstacktest.Config(t)
			tt.mutate(&cfg)
			st, err := devstack.Start(testCtx(t), cfg)
			if err == nil {
				st.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

// TestStartReusesHTTPSServer: an HTTPS server already at the S3 endpoint is reused even when
// the stack cannot verify its certificate (its clients are given the CA and verify it); an
// https endpoint where nothing answers cannot be served without MinIOCertsDir.
func TestStartReusesHTTPSServer(t *testing.T) {
	running := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(running.Close)
	cfg := devstacktest.Config(t)
	cfg.S3Endpoint = running.URL
	cfg.MinIOBin = "/nonexistent/minio"
	st := devstacktest.StartConfig(t, cfg)
	if st.StartedMinIO || st.S3Endpoint != running.URL {
		t.Errorf("StartedMinIO = %v, S3Endpoint = %s; want the running %s reused", st.StartedMinIO, st.S3Endpoint, running.URL)
	}

	cfg = devstacktest.Config(t)
	cfg.S3Endpoint = strings.Replace(cfg.S3Endpoint, "http://", "https://", 1)
	cfg.MinIOBin = "/nonexistent/minio"
	if st, err := devstack.Start(testCtx(t), cfg); err == nil {
		st.Stop()
		t.Fatal("Start with an https endpoint, nothing there and no MinIOCertsDir succeeded")
	} else if !strings.Contains(err.Error(), "MinIOCertsDir") {
		t.Errorf("error %q does not say MinIOCertsDir is needed", err)
	}
}

// TestNATSTLSAndToken: the embedded NATS with NATSTLS and NATSToken serves tls:// and
// requires the token; the stack's MinIO, given MinIOCertsDir, serves https://.
func TestNATSTLSAndToken(t *testing.T) {
	pki := devstacktest.NewPKI(t)
	cfg := devstacktest.Config(t)
	cfg.NATSTLS = pki.ServerTLS()
	cfg.NATSToken = "s3cr3t-token"
	cfg.MinIOCertsDir = pki.MinIOCertsDir
	st := devstacktest.StartConfig(t, cfg)
	if !strings.HasPrefix(st.NATSURL, "tls://") || !strings.HasPrefix(st.S3Endpoint, "https://") || !st.StartedMinIO {
		t.Fatalf("stack at %s and %s (MinIO started: %v); want tls:// and a started https:// MinIO", st.NATSURL, st.S3Endpoint, st.StartedMinIO)
	}
	if nc, err := nats.Connect(st.NATSURL, nats.RootCAs(pki.CAFile)); err == nil {
		nc.Close()
		t.Error("NATS took a client without the token")
	}
	nc, err := nats.Connect(st.NATSURL, nats.RootCAs(pki.CAFile), nats.Token(cfg.NATSToken))
	if err != nil {
		t.Fatalf("connect with CA and token: %v", err)
	}
	nc.Close()

	// A second stack pointed at that MinIO reuses it, its probe trusting the certificate.
	again := devstacktest.Config(t)
	again.S3Endpoint = st.S3Endpoint
	again.MinIOCertsDir = pki.MinIOCertsDir
	again.MinIOBin = "/nonexistent/minio"
	if st2 := devstacktest.StartConfig(t, again); st2.StartedMinIO || st2.S3Endpoint != st.S3Endpoint {
		t.Errorf("second stack: StartedMinIO = %v, S3Endpoint = %s; want %s reused", st2.StartedMinIO, st2.S3Endpoint, st.S3Endpoint)
	}
}
