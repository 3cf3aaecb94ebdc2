package devstack

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"
)

// TestNotifyEnv: MinIO's NATS target points at the embedded NATS, signed in as NATS asks.
func TestNotifyEnv(t *testing.T) {
	has := func(env []string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(env, w) {
				t.Errorf("MinIO's environment lacks %s:\n%s", w, strings.Join(env, "\n"))
			}
		}
	}
	base := notifyEnv(Config{}, "0.0.0.0", 4333, "/data/ev", "")
	has(base, "MINIO_NOTIFY_NATS_ENABLE_COLOPHON=on", "MINIO_NOTIFY_NATS_ADDRESS_COLOPHON=127.0.0.1:4333",
		"MINIO_NOTIFY_NATS_SUBJECT_COLOPHON=colophon.s3events", "MINIO_NOTIFY_NATS_JETSTREAM_COLOPHON=on",
		"MINIO_NOTIFY_NATS_QUEUE_DIR_COLOPHON=/data/ev")
	for _, e := range base {
		if strings.Contains(e, "USERNAME") || strings.Contains(e, "TOKEN") || strings.Contains(e, "TLS") {
			t.Errorf("an open NATS gets %s", e)
		}
	}
	has(notifyEnv(Config{NATSUser: "u", NATSPassword: "p"}, "127.0.0.1", 1, "/q", ""),
		"MINIO_NOTIFY_NATS_USERNAME_COLOPHON=u", "MINIO_NOTIFY_NATS_PASSWORD_COLOPHON=p")
	has(notifyEnv(Config{NATSToken: "tok"}, "localhost", 1, "/q", ""), "MINIO_NOTIFY_NATS_TOKEN_COLOPHON=tok", "MINIO_NOTIFY_NATS_ADDRESS_COLOPHON=localhost:1")
	has(notifyEnv(Config{NATSNKeys: []string{"U…"}}, "::", 1, "/q", "/d/minio-nats.nk"),
		"MINIO_NOTIFY_NATS_NKEY_SEED_COLOPHON=/d/minio-nats.nk", "MINIO_NOTIFY_NATS_ADDRESS_COLOPHON=127.0.0.1:1")
	has(notifyEnv(Config{NATSTLS: &tls.Config{}, NATSCAFile: "/ca.pem", NATSClientCertFile: "/c.pem", NATSClientKeyFile: "/k.pem"}, "127.0.0.1", 1, "/q", ""),
		"MINIO_NOTIFY_NATS_TLS_COLOPHON=on", "MINIO_NOTIFY_NATS_CERT_AUTHORITY_COLOPHON=/ca.pem",
		"MINIO_NOTIFY_NATS_CLIENT_CERT_COLOPHON=/c.pem", "MINIO_NOTIFY_NATS_CLIENT_KEY_COLOPHON=/k.pem")
}

// TestMinIONKey: the key is made once, kept private, and the same on the next start.
func TestMinIONKey(t *testing.T) {
	dir := t.TempDir()
	pub, seedFile, err := minioNKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !nkeys.IsValidPublicUserKey(pub) || !filepath.IsAbs(seedFile) {
		t.Fatalf("public key %q, seed file %q", pub, seedFile)
	}
	if st, err := os.Stat(seedFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("seed file: %v, %v", st, err)
	}
	again, _, err := minioNKey(dir)
	if err != nil || again != pub {
		t.Fatalf("second start: %q, %v; want %q", again, err, pub)
	}
}
