package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/internal/textmetrics"
)

// Every secret in these tests contains secretMark: it must never appear in anything a
// command prints or logs, nor in the servers' logs.
const (
	secretMark     = "s3cr3t-DO-NOT-LOG"
	natsPassword   = secretMark + "-nats-password"
	s3SecretKey    = secretMark + "-s3-secret-key"
	natsToken      = secretMark + "-nats-token"
	wrongSecret    = secretMark + "-wrong"
	secureNATSUser = "colophon"
)

// securityEnvs are the variables that configure signing in and TLS.
var securityEnvs = []string{envNATSUser, envNATSPassword, envNATSToken, envNATSNKey, envNATSCreds,
	envNATSCA, envNATSCert, envNATSKey, envS3CA, envS3Region}

// clearSecurityEnv unsets them for the test, whatever the environment running it holds.
func clearSecurityEnv(t *testing.T) {
	t.Helper()
	for _, k := range securityEnvs {
		t.Setenv(k, "")
	}
}

// transcript collects everything commands printed and everything logged, to be searched
// for secrets.
type transcript struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (tr *transcript) add(what, s string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fmt.Fprintf(&tr.buf, "--- %s\n%s\n", what, s)
}

func (tr *transcript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.buf.String()
}

// assertNothingLeaks fails the test if any text holds a secret.
func assertNothingLeaks(t *testing.T, texts map[string]string, secrets ...string) {
	t.Helper()
	for what, text := range texts {
		for _, s := range append([]string{secretMark}, secrets...) {
			if i := strings.Index(text, s); i >= 0 {
				t.Errorf("%s leaks a secret: …%s…", what, text[max(0, i-200):min(len(text), i+len(s)+50)])
			}
		}
	}
}

// newSecureEnv is newEnv for a deployment that is locked down: NATS requires a user and
// password over TLS, MinIO serves HTTPS only, and both certificates come from a private CA
// made for the test. The environment is set the way an operator would set it.
func newSecureEnv(t *testing.T) (*env, *devstacktest.PKI, *syncBuffer) {
	t.Helper()
	clearSecurityEnv(t)
	pki := devstacktest.NewPKI(t)
	stackLogs := &syncBuffer{}
	cfg := devstacktest.Config(t)
	cfg.SecretKey = s3SecretKey
	cfg.NATSUser, cfg.NATSPassword = secureNATSUser, natsPassword
	cfg.NATSTLS = pki.ServerTLS()
	cfg.NATSCAFile = pki.CAFile // for MinIO's notification target
	cfg.MinIOCertsDir = pki.MinIOCertsDir
	cfg.Logger = slog.New(slog.NewTextHandler(stackLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stack := devstacktest.StartConfig(t, cfg)
	if !strings.HasPrefix(stack.NATSURL, "tls://") || !strings.HasPrefix(stack.S3Endpoint, "https://") {
		t.Fatalf("secure stack at %s and %s: want tls:// and https://", stack.NATSURL, stack.S3Endpoint)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack logs:\n%s", stackLogs.String())
		}
	})

	t.Setenv(envNATSURL, stack.NATSURL)
	t.Setenv(envS3Endpoint, stack.S3Endpoint)
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, s3SecretKey)
	t.Setenv(envNATSUser, secureNATSUser)
	t.Setenv(envNATSPassword, natsPassword)
	t.Setenv(envNATSCA, pki.CAFile)
	t.Setenv(envS3CA, pki.CAFile)

	store, err := objectstore.New(stack.S3Endpoint, devstacktest.AccessKey, s3SecretKey, objectstore.WithRootCAs(pki.Pool))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, stack: stack, store: store, logs: &syncBuffer{}}
	lc, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	e.bus, _, err = connect(context.Background(), e.globals(), lc, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.bus.Close)
	return e, pki, stackLogs
}

// TestSecureDeployment: against NATS requiring a password over TLS and an HTTPS-only MinIO,
// both with certificates from a private CA, each missing or wrong setting is refused with a
// message saying what is wrong; with the right settings the whole pipeline works (upload
// --wait, get, health, with the workers connected the same way); and no secret ever appears
// in what the commands print, in the workers' logs or in the servers' logs, failures included.
func TestSecureDeployment(t *testing.T) {
	e, _, stackLogs := newSecureEnv(t)
	all := &transcript{}
	do := func(args ...string) result {
		t.Helper()
		r := e.colophon(args...)
		all.add("colophon "+strings.Join(args, " "), r.stdout+r.stderr)
		return r
	}
	refusedBy := func(t *testing.T, args []string, want ...string) {
		t.Helper()
		r := do(args...)
		if r.code == 0 {
			t.Fatalf("%v succeeded; want it refused", args)
		}
		for _, w := range want {
			if !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(w)) {
				t.Errorf("%v: stderr lacks %q:\n%s", args, w, r.stderr)
			}
		}
	}
	// status needs NATS alone; verify --all reads the store too.
	refused := func(t *testing.T, want ...string) {
		t.Helper()
		refusedBy(t, []string{"status", "no-such-doc"}, want...)
	}
	refusedS3 := func(t *testing.T, want ...string) { t.Helper(); refusedBy(t, []string{"verify", "--all"}, want...) }
	healthLine := func(t *testing.T, component string) string {
		t.Helper()
		r := do("health")
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(l, component+":") {
				return l
			}
		}
		t.Fatalf("health prints no %s line:\n%s", component, r.stdout)
		return ""
	}

	t.Run("no NATS credentials", func(t *testing.T) {
		t.Setenv(envNATSUser, "")
		t.Setenv(envNATSPassword, "")
		refused(t, "authorization violation")
		if l := healthLine(t, "nats"); !strings.Contains(strings.ToLower(l), "authorization violation") {
			t.Errorf("health: %s", l)
		}
	})
	t.Run("wrong NATS password", func(t *testing.T) {
		t.Setenv(envNATSPassword, wrongSecret)
		refused(t, "authorization violation")
	})
	t.Run("wrong NATS password in the URL", func(t *testing.T) {
		t.Setenv(envNATSUser, "")
		t.Setenv(envNATSPassword, "")
		t.Setenv(envNATSURL, strings.Replace(e.stack.NATSURL, "tls://", "tls://"+secureNATSUser+":"+wrongSecret+"@", 1))
		refused(t, "authorization violation", secureNATSUser+":xxxxx@")
	})
	t.Run("right NATS password in the URL", func(t *testing.T) {
		t.Setenv(envNATSUser, "")
		t.Setenv(envNATSPassword, "")
		t.Setenv(envNATSURL, strings.Replace(e.stack.NATSURL, "tls://", "tls://"+secureNATSUser+":"+natsPassword+"@", 1))
		if r := do("status", "no-such-doc"); !strings.Contains(r.stderr, "no such document") {
			t.Errorf("status with the password in the URL: exit %d, stderr %s", r.code, r.stderr)
		}
	})
	t.Run("no NATS CA", func(t *testing.T) {
		t.Setenv(envNATSCA, "")
		refused(t, "certificate signed by unknown authority")
	})
	t.Run("no S3 CA", func(t *testing.T) {
		t.Setenv(envS3CA, "")
		start := time.Now()
		refusedS3(t, "certificate signed by unknown authority")
		if l := healthLine(t, "s3"); !strings.Contains(l, "certificate signed by unknown authority") {
			t.Errorf("health: %s", l)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("refusing an untrusted S3 certificate took %s: it should not be retried", d)
		}
	})
	t.Run("wrong S3 secret key", func(t *testing.T) {
		t.Setenv(envSecretKey, wrongSecret)
		refusedS3(t, "signature")
	})
	t.Run("unreachable NATS with credentials in the URL", func(t *testing.T) {
		t.Setenv(envNATSUser, "")
		t.Setenv(envNATSPassword, "")
		t.Setenv(envNATSURL, fmt.Sprintf("nats://%s:%s@127.0.0.1:%d", secureNATSUser, natsPassword, devstacktest.FreePort(t)))
		refused(t, "no servers available", secureNATSUser+":xxxxx@")
		t.Setenv(envNATSURL, fmt.Sprintf("nats://%s@127.0.0.1:%d", natsToken, devstacktest.FreePort(t)))
		refused(t, "no servers available", "nats://xxxxx@")
	})
	t.Run("credentials in the S3 endpoint", func(t *testing.T) {
		// Not used (the keys have their own variables), and not printed by health either.
		t.Setenv(envS3Endpoint, strings.Replace(e.stack.S3Endpoint, "https://", "https://"+devstacktest.AccessKey+":"+s3SecretKey+"@", 1))
		if l := healthLine(t, "s3"); !strings.Contains(l, "ok (https://xxxxx@127.0.0.1:") {
			t.Errorf("health: %s", l)
		}
	})
	t.Run("worker waiting for an unreachable NATS", func(t *testing.T) {
		// A worker retries for ever and logs each failure: none of those lines may carry the URL's password.
		t.Setenv(envNATSUser, "")
		t.Setenv(envNATSPassword, "")
		t.Setenv(envNATSURL, fmt.Sprintf("nats://%s:%s@127.0.0.1:%d", secureNATSUser, natsPassword, devstacktest.FreePort(t)))
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		var out, errOut bytes.Buffer
		run(ctx, []string{"--log-format", "json", "--log-level", "debug", "worker", "metadata"}, &out, &errOut)
		all.add("colophon worker metadata", out.String()+errOut.String())
		if !strings.Contains(errOut.String(), "waiting for NATS and S3") || !strings.Contains(errOut.String(), secureNATSUser+":xxxxx@") {
			t.Errorf("worker log does not show it waiting for NATS, URL redacted:\n%s", errOut.String())
		}
	})

	t.Run("pipeline", func(t *testing.T) {
		e.startWorkers()
		pages, err := sample.Pages()
		if err != nil {
			t.Fatal(err)
		}
		files, err := sample.WriteFiles(t.TempDir(), pages[:1])
		if err != nil {
			t.Fatal(err)
		}
		up := do("upload", "--source", "secure box 1", "--date", "1974", "--wait", files[0])
		if up.code != 0 {
			t.Fatalf("upload --wait: exit %d\n%s", up.code, up.stderr)
		}
		doc := strings.TrimSpace(up.stdout)
		got := do("get", doc)
		if got.code != 0 {
			t.Fatalf("get: exit %d\n%s", got.code, got.stderr)
		}
		if cer := textmetrics.CER(got.stdout, pages[0].Text); cer >= 0.01 {
			t.Errorf("CER %.4f over TLS, want under 0.01", cer)
		}
		if r := do("provenance", doc); r.code != 0 || !strings.Contains(r.stdout, `"sha256"`) {
			t.Errorf("provenance: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			r := do("health")
			if r.code == 0 {
				if !strings.Contains(r.stdout, "(https://127.0.0.1:") {
					t.Errorf("health should name the https endpoint:\n%s", r.stdout)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("health never became ok:\n%s", r.stdout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	assertNothingLeaks(t, map[string]string{
		"command output":     all.String(),
		"worker logs":        e.logs.String(),
		"NATS and MinIO log": stackLogs.String(),
	})
}

// natsOnlyStack starts an embedded NATS configured by mutate whose stack reuses the S3
// server at s3 instead of starting a MinIO of its own.
func natsOnlyStack(t *testing.T, s3 string, mutate func(*devstack.Config)) *devstack.Stack {
	t.Helper()
	cfg := devstacktest.Config(t)
	cfg.S3Endpoint = s3
	cfg.MinIOBin = "/nonexistent/minio" // proves no MinIO is started
	mutate(&cfg)
	return devstacktest.StartConfig(t, cfg)
}

// TestNATSSignInMethods: every command signs in to NATS the way the environment says: a
// token (in COLOPHON_NATS_TOKEN or the URL), a password in the URL, an NKey seed file, a
// JWT .creds file (operator mode), a client certificate. Each server refuses a command
// without it, and accepts it with it; `status` (through openReader) and `health` (its own
// connection) both shown.
func TestNATSSignInMethods(t *testing.T) {
	clearSecurityEnv(t)
	base := devstacktest.Start(t) // the MinIO every NATS below shares
	t.Setenv(envS3Endpoint, base.S3Endpoint)
	t.Setenv(envAccessKey, devstacktest.AccessKey)
	t.Setenv(envSecretKey, devstacktest.SecretKey)
	e := &env{t: t}
	all := &transcript{}
	// The buckets, as the workers or the setup job make them: status and health only read.
	store, err := objectstore.New(base.S3Endpoint, devstacktest.AccessKey, devstacktest.SecretKey)
	if err != nil {
		t.Fatal(err)
	}
	quiet := &globals{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	if err := ensureBuckets(context.Background(), quiet, store); err != nil {
		t.Fatal(err)
	}

	nkeyPub, nkeySeed := devstacktest.NKeyUser(t)
	seed, err := os.ReadFile(nkeySeed)
	if err != nil {
		t.Fatal(err)
	}
	op := devstacktest.NewOperator(t)
	creds := op.UserCreds(t)
	pki := devstacktest.NewPKI(t)

	tests := []struct {
		name   string
		server func(*devstack.Config)
		env    func(t *testing.T, natsURL string) // sets what signs in
		want   string                             // the refusal without it
	}{
		{"token", func(c *devstack.Config) { c.NATSToken = natsToken },
			func(t *testing.T, _ string) { t.Setenv(envNATSToken, natsToken) }, "authorization violation"},
		{"token in URL", func(c *devstack.Config) { c.NATSToken = natsToken },
			func(t *testing.T, u string) { t.Setenv(envNATSURL, strings.Replace(u, "://", "://"+natsToken+"@", 1)) }, "authorization violation"},
		{"password in URL", func(c *devstack.Config) { c.NATSUser, c.NATSPassword = secureNATSUser, natsPassword },
			func(t *testing.T, u string) {
				t.Setenv(envNATSURL, strings.Replace(u, "://", "://"+secureNATSUser+":"+natsPassword+"@", 1))
			}, "authorization violation"},
		{"nkey", func(c *devstack.Config) { c.NATSNKeys = []string{nkeyPub} },
			func(t *testing.T, _ string) { t.Setenv(envNATSNKey, nkeySeed) }, "authorization violation"},
		{"creds file", func(c *devstack.Config) { c.NATSServerOptions = op.Configure },
			func(t *testing.T, _ string) { t.Setenv(envNATSCreds, creds) }, "authorization violation"},
		{"client certificate", func(c *devstack.Config) { c.NATSTLS = pki.MutualTLS() },
			func(t *testing.T, _ string) {
				t.Setenv(envNATSCert, pki.ClientCertFile)
				t.Setenv(envNATSKey, pki.ClientKeyFile)
			}, "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := natsOnlyStack(t, base.S3Endpoint, tt.server)
			t.Setenv(envNATSURL, st.NATSURL)
			if strings.HasPrefix(st.NATSURL, "tls://") {
				t.Setenv(envNATSCA, pki.CAFile)
			}
			for _, args := range [][]string{{"status", "no-such-doc"}, {"health"}} {
				r := e.colophon(args...)
				all.add(tt.name+" without: colophon "+strings.Join(args, " "), r.stdout+r.stderr)
				if r.code == 0 || !strings.Contains(strings.ToLower(r.stdout+r.stderr), tt.want) {
					t.Errorf("%v without signing in: exit %d, want a refusal saying %q\n%s%s", args, r.code, tt.want, r.stdout, r.stderr)
				}
			}
			tt.env(t, st.NATSURL)
			r := e.colophon("status", "no-such-doc")
			all.add(tt.name+" with: colophon status", r.stdout+r.stderr)
			if !strings.Contains(r.stderr, "no such document") {
				t.Errorf("status signed in: exit %d, stderr %s", r.code, r.stderr)
			}
			r = e.colophon("health") // the topology exists now; no workers run
			all.add(tt.name+" with: colophon health", r.stdout+r.stderr)
			if !strings.Contains(r.stdout, "nats:             ok") || !strings.Contains(r.stdout, "s3:               ok") {
				t.Errorf("health signed in:\n%s", r.stdout)
			}
		})
	}
	assertNothingLeaks(t, map[string]string{"command output": all.String()}, strings.TrimSpace(string(seed)))
}

// TestContradictorySettings: settings that cannot all hold are refused before anything
// connects, by every command, with a message naming the variables and never their values.
func TestContradictorySettings(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not-a-certificate.pem")
	if err := os.WriteFile(notPEM, []byte(secretMark+"-file-content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, seedFile := devstacktest.NKeyUser(t)
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"token and password", map[string]string{envNATSToken: natsToken, envNATSUser: "u", envNATSPassword: natsPassword},
			[]string{envNATSToken, envNATSUser}},
		{"user without password", map[string]string{envNATSUser: "u"}, []string{envNATSUser, envNATSPassword}},
		{"password without user", map[string]string{envNATSPassword: natsPassword}, []string{envNATSUser, envNATSPassword}},
		{"nkey and creds", map[string]string{envNATSNKey: seedFile, envNATSCreds: seedFile}, []string{envNATSNKey, envNATSCreds}},
		{"token and URL credentials", map[string]string{envNATSToken: natsToken, envNATSURL: "nats://u:" + natsPassword + "@127.0.0.1:4222"},
			[]string{envNATSToken, envNATSURL}},
		{"password and URL token", map[string]string{envNATSUser: "u", envNATSPassword: natsPassword, envNATSURL: "nats://" + natsToken + "@127.0.0.1:4222"},
			[]string{envNATSUser, envNATSURL}},
		{"cert without key", map[string]string{envNATSCert: notPEM}, []string{envNATSCert, envNATSKey}},
		{"key without cert", map[string]string{envNATSKey: notPEM}, []string{envNATSCert, envNATSKey}},
		{"S3 CA for plain HTTP", map[string]string{envS3CA: notPEM, envS3Endpoint: "http://127.0.0.1:9000"}, []string{envS3CA, envS3Endpoint}},
		{"NATS CA not a certificate", map[string]string{envNATSCA: notPEM}, []string{envNATSCA}},
		{"NATS CA missing", map[string]string{envNATSCA: filepath.Join(dir, "missing.pem")}, []string{envNATSCA}},
		{"NKey seed file not a seed", map[string]string{envNATSNKey: notPEM}, []string{envNATSNKey}},
		{"creds file missing", map[string]string{envNATSCreds: filepath.Join(dir, "missing.creds")}, []string{envNATSCreds}},
		{"client key pair not PEM", map[string]string{envNATSCert: notPEM, envNATSKey: notPEM}, []string{envNATSCert}},
	}
	e := &env{t: t}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearSecurityEnv(t)
			t.Setenv(envNATSURL, "")
			t.Setenv(envS3Endpoint, "https://127.0.0.1:1")
			t.Setenv(envAccessKey, "k")
			t.Setenv(envSecretKey, s3SecretKey)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			for _, args := range [][]string{{"status", "x"}, {"health"}, {"worker", "ocr"}} {
				r := e.colophon(args...)
				if r.code == 0 {
					t.Errorf("%v: exit 0, want a refusal", args)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%v: stderr does not name %s: %s", args, w, r.stderr)
					}
				}
				assertNothingLeaks(t, map[string]string{fmt.Sprint(args): r.stdout + r.stderr})
			}
		})
	}
}

// TestConfigDoesNotPrintSecrets: a config printed by accident (%v, %+v, %#v, slog) shows
// no password, token or secret key.
func TestConfigDoesNotPrintSecrets(t *testing.T) {
	c := config{
		NATSURL: "nats://u:" + natsPassword + "@h:4222,nats://" + natsToken + "@h2:4222", S3Endpoint: "https://k:" + wrongSecret + "@s3:9000",
		AccessKey: "k", SecretKey: s3SecretKey, NATSUser: "u", NATSPassword: natsPassword, NATSToken: natsToken,
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", c)
	assertNothingLeaks(t, map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c), "%s": fmt.Sprintf("%s", c), "slog": logged.String(),
	})
}
