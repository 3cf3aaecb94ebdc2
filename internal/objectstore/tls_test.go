package objectstore_test

import (
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
)

// TestTLSWithPrivateCA: a real MinIO serving HTTPS with a certificate from a private CA.
// With that CA (WithRootCAs) the store works end to end; with the system roots, or another
// CA, every call fails on the certificate; plain HTTP to it does not work either.
func TestTLSWithPrivateCA(t *testing.T) {
	pki := devstacktest.NewPKI(t)
	cfg := devstacktest.Config(t)
	cfg.MinIOCertsDir = pki.MinIOCertsDir
	stack := devstacktest.StartConfig(t, cfg)
	if !strings.HasPrefix(stack.S3Endpoint, "https://") {
		t.Fatalf("stack S3Endpoint = %s, want https://", stack.S3Endpoint)
	}
	ctx := testCtx(t)

	s, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey,
		objectstore.WithRootCAs(pki.Pool), objectstore.WithRegion("us-east-1"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping over TLS with the CA: %v", err)
	}
	if err := s.EnsureBuckets(ctx, "tls-bucket"); err != nil {
		t.Fatalf("EnsureBuckets: %v", err)
	}
	data := []byte("text that travelled encrypted")
	if err := s.Put(ctx, "tls-bucket", "a/b.txt", data, "text/plain", map[string]string{"Sha256": objectstore.SHA256(data)}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	obj, err := s.Get(ctx, "tls-bucket", "a/b.txt")
	if err != nil || string(obj.Data) != string(data) {
		t.Fatalf("Get = %q, %v", obj.Data, err)
	}

	for name, opts := range map[string][]objectstore.Option{
		"system roots": nil,
		"another CA":   {objectstore.WithRootCAs(devstacktest.NewPKI(t).Pool)},
	} {
		s, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey, opts...)
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		err = s.Ping(ctx)
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Errorf("%s: Ping = %v, want a certificate error", name, err)
		}
	}

	plain, err := objectstore.New(strings.Replace(stack.S3Endpoint, "https://", "http://", 1), devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Ping(ctx); err == nil {
		t.Error("plain HTTP to the HTTPS-only MinIO succeeded")
	}
}

// TestNewSecurityOptions: a CA bundle is refused for an http endpoint, and an endpoint
// error never repeats credentials written into the URL.
func TestNewSecurityOptions(t *testing.T) {
	pki := devstacktest.NewPKI(t)
	if _, err := objectstore.New("http://127.0.0.1:9000", "k", "secret-key", objectstore.WithRootCAs(pki.Pool)); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("WithRootCAs on an http endpoint: err = %v, want one saying it is for https", err)
	}
	const secret = "s3cr3t-DO-NOT-LOG"
	for _, endpoint := range []string{
		"ftp://user:" + secret + "@s3.example.org",
		"https://user:" + secret + "@", // no host
		"http://user:" + secret + "@host:9000/%zz",
		"s3://" + secret + "@host",
	} {
		_, err := objectstore.New(endpoint, "k", "secret-key")
		if err == nil {
			t.Errorf("New(%q) succeeded", strings.ReplaceAll(endpoint, secret, "SECRET"))
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("New error leaks the secret in the endpoint: %v", err)
		}
	}
}
