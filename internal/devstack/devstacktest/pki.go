package devstacktest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a throwaway certificate authority made for one test, with a server certificate for
// 127.0.0.1, ::1 and localhost and a client certificate it signed. Everything is generated
// when the test runs and written under a t.TempDir(): no key is ever committed.
type PKI struct {
	CAFile         string         // the CA certificate (PEM): what a client must trust
	Pool           *x509.CertPool // the CA certificate as a pool
	ServerCertFile string         // server certificate (PEM)
	ServerKeyFile  string         // its key (PEM, PKCS #8)
	ClientCertFile string         // client certificate (PEM), for mutual TLS
	ClientKeyFile  string         // its key
	MinIOCertsDir  string         // a directory with public.crt and private.key: devstack.Config.MinIOCertsDir

	server tls.Certificate
}

// NewPKI makes a CA, a server and a client certificate, valid for an hour.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()

	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "colophon test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("devstacktest: CA certificate: %v", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("devstacktest: CA certificate: %v", err)
	}

	sign := func(serial int64, cn string, usage x509.ExtKeyUsage, hosts bool) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Minute),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if hosts {
			tmpl.DNSNames = []string{"localhost"}
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatalf("devstacktest: %s certificate: %v", cn, err)
		}
		return der, key
	}
	serverDER, serverKey := sign(2, "colophon test server", x509.ExtKeyUsageServerAuth, true)
	clientDER, clientKey := sign(3, "colophon test client", x509.ExtKeyUsageClientAuth, false)

	p := &PKI{
		CAFile:         filepath.Join(dir, "ca.crt"),
		Pool:           x509.NewCertPool(),
		ServerCertFile: filepath.Join(dir, "server.crt"),
		ServerKeyFile:  filepath.Join(dir, "server.key"),
		ClientCertFile: filepath.Join(dir, "client.crt"),
		ClientKeyFile:  filepath.Join(dir, "client.key"),
		MinIOCertsDir:  filepath.Join(dir, "minio-certs"),
	}
	p.Pool.AddCert(ca)
	writePEM(t, p.CAFile, "CERTIFICATE", caDER)
	writePEM(t, p.ServerCertFile, "CERTIFICATE", serverDER)
	writePEM(t, p.ServerKeyFile, "PRIVATE KEY", marshalKey(t, serverKey))
	writePEM(t, p.ClientCertFile, "CERTIFICATE", clientDER)
	writePEM(t, p.ClientKeyFile, "PRIVATE KEY", marshalKey(t, clientKey))
	if err := os.MkdirAll(p.MinIOCertsDir, 0o700); err != nil {
		t.Fatalf("devstacktest: %v", err)
	}
	writePEM(t, filepath.Join(p.MinIOCertsDir, "public.crt"), "CERTIFICATE", serverDER)
	writePEM(t, filepath.Join(p.MinIOCertsDir, "private.key"), "PRIVATE KEY", marshalKey(t, serverKey))

	if p.server, err = tls.LoadX509KeyPair(p.ServerCertFile, p.ServerKeyFile); err != nil {
		t.Fatalf("devstacktest: server key pair: %v", err)
	}
	return p
}

// ServerTLS is a server configuration with the server certificate: devstack.Config.NATSTLS.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
}

// MutualTLS is ServerTLS that also requires a client certificate signed by the CA.
func (p *PKI) MutualTLS() *tls.Config {
	c := p.ServerTLS()
	c.ClientCAs = p.Pool
	c.ClientAuth = tls.RequireAndVerifyClientCert
	return c
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("devstacktest: generate key: %v", err)
	}
	return k
}

func marshalKey(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatalf("devstacktest: marshal key: %v", err)
	}
	return der
}

func writePEM(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatalf("devstacktest: write %s: %v", path, err)
	}
}
