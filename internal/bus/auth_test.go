package bus

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
)

// Distinctive secrets: none of them may ever appear in an error or a log line.
const (
	secretPassword = "s3cr3t-DO-NOT-LOG-password"
	secretToken    = "s3cr3t-DO-NOT-LOG-token"
	secretWrong    = "s3cr3t-DO-NOT-LOG-wrong"
)

// withUserinfo puts user info (user:password or a token) into a NATS URL.
func withUserinfo(u, info string) string { return strings.Replace(u, "://", "://"+info+"@", 1) }

// logBuffer is a logger whose output the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// assertNoSecrets fails if any of the distinctive secrets appears in s.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{secretPassword, secretToken, secretWrong} {
		if strings.Contains(s, secret) {
			t.Errorf("%s leaks a secret (%q):\n%s", what, secret, s)
		}
	}
}

// signIn connects and, on success, proves the connection usable by creating the pipeline
// topology (JetStream works for this user).
func signIn(t *testing.T, url string, opts ...nats.Option) {
	t.Helper()
	logs := &logBuffer{}
	b, err := Connect(testCtx(t), url, WithName(t.Name()), WithLogger(logs.logger()), WithNATSOptions(opts...))
	if err != nil {
		t.Fatalf("Connect(%s): %v", redact(url), err)
	}
	defer b.Close()
	if err := b.EnsureTopology(testCtx(t)); err != nil {
		t.Fatalf("EnsureTopology after signing in: %v", err)
	}
	assertNoSecrets(t, "connection log", logs.String())
}

// refused connects expecting an error containing want (case-insensitive), with no secret in
// it or in the log.
func refused(t *testing.T, url, want string, opts ...nats.Option) {
	t.Helper()
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Connect(ctx, url, WithName(t.Name()), WithLogger(logs.logger()), WithNATSOptions(opts...))
	if err == nil {
		b.Close()
		t.Fatalf("Connect(%s) succeeded, want an error with %q", redact(url), want)
	}
	if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
		t.Errorf("Connect(%s) error = %v, want it to say %q", redact(url), err, want)
	}
	assertNoSecrets(t, "Connect error", err.Error())
	assertNoSecrets(t, "connection log", logs.String())
}

// TestConnectSignsIn: every way of signing in to NATS and of securing the connection that
// the commands offer works through Connect's options (and URL credentials), on a real
// server requiring it; without it, or with a wrong secret, the server refuses, and the
// error says so without repeating the secret.
func TestConnectSignsIn(t *testing.T) {
	const authFailed = "authorization violation"

	t.Run("user and password", func(t *testing.T) {
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSUser, c.NATSPassword = "colophon", secretPassword })
		refused(t, st.NATSURL, authFailed)
		refused(t, st.NATSURL, authFailed, nats.UserInfo("colophon", secretWrong))
		refused(t, withUserinfo(st.NATSURL, "colophon:"+secretWrong), authFailed)
		signIn(t, st.NATSURL, nats.UserInfo("colophon", secretPassword))
		signIn(t, withUserinfo(st.NATSURL, "colophon:"+secretPassword))
	})

	t.Run("token", func(t *testing.T) {
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSToken = secretToken })
		refused(t, st.NATSURL, authFailed)
		refused(t, st.NATSURL, authFailed, nats.Token(secretWrong))
		refused(t, withUserinfo(st.NATSURL, secretWrong), authFailed)
		signIn(t, st.NATSURL, nats.Token(secretToken))
		signIn(t, withUserinfo(st.NATSURL, secretToken))
	})

	t.Run("nkey", func(t *testing.T) {
		pub, seedFile := devstacktest.NKeyUser(t)
		_, otherSeed := devstacktest.NKeyUser(t)
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSNKeys = []string{pub} })
		refused(t, st.NATSURL, authFailed)
		other, err := nats.NkeyOptionFromSeed(otherSeed)
		if err != nil {
			t.Fatal(err)
		}
		refused(t, st.NATSURL, authFailed, other)
		opt, err := nats.NkeyOptionFromSeed(seedFile)
		if err != nil {
			t.Fatal(err)
		}
		signIn(t, st.NATSURL, opt)
	})

	t.Run("creds file", func(t *testing.T) {
		op := devstacktest.NewOperator(t)
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSServerOptions = op.Configure })
		refused(t, st.NATSURL, authFailed)
		stranger := devstacktest.NewOperator(t).UserCreds(t) // signed by an operator the server does not trust
		refused(t, st.NATSURL, authFailed, nats.UserCredentials(stranger))
		signIn(t, st.NATSURL, nats.UserCredentials(op.UserCreds(t)))
	})

	t.Run("TLS with a private CA", func(t *testing.T) {
		pki := devstacktest.NewPKI(t)
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) {
			c.NATSTLS = pki.ServerTLS()
			c.NATSUser, c.NATSPassword = "colophon", secretPassword
		})
		if !strings.HasPrefix(st.NATSURL, "tls://") {
			t.Fatalf("stack NATSURL = %s, want tls://", st.NATSURL)
		}
		creds := nats.UserInfo("colophon", secretPassword)
		refused(t, st.NATSURL, "certificate signed by unknown authority", creds)
		refused(t, st.NATSURL, "certificate signed by unknown authority", creds, nats.RootCAs(devstacktest.NewPKI(t).CAFile))
		signIn(t, st.NATSURL, creds, nats.RootCAs(pki.CAFile))
		// A nats:// URL to a server that requires TLS upgrades, still verifying the certificate.
		plain := strings.Replace(st.NATSURL, "tls://", "nats://", 1)
		refused(t, plain, "certificate signed by unknown authority", creds)
		signIn(t, plain, creds, nats.RootCAs(pki.CAFile))
	})

	t.Run("client certificate", func(t *testing.T) {
		pki := devstacktest.NewPKI(t)
		st, _ := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSTLS = pki.MutualTLS() })
		// Under TLS 1.3 the server refuses a missing client certificate after the client's
		// side of the handshake is done, so the client sees either the server's "certificate
		// required" alert or the connection closed under it: both are TLS errors.
		refused(t, st.NATSURL, "tls", nats.RootCAs(pki.CAFile))
		signIn(t, st.NATSURL, nats.RootCAs(pki.CAFile), nats.ClientCert(pki.ClientCertFile, pki.ClientKeyFile))
	})
}

// TestReconnectLogHidesToken: when the connection comes back after a server restart, the
// log line naming the server does not carry a token given in the URL (nats.go's own
// ConnectedUrlRedacted hides passwords only).
func TestReconnectLogHidesToken(t *testing.T) {
	st, cfg := devstacktest.StartNATS(t, func(c *devstack.Config) { c.NATSToken = secretToken })
	logs := &logBuffer{}
	b, err := Connect(testCtx(t), withUserinfo(st.NATSURL, secretToken), WithName(t.Name()), WithLogger(logs.logger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := st.Stop(); err != nil {
		t.Fatal(err)
	}
	devstacktest.StartConfig(t, cfg) // same port, same token
	if !eventually(10*time.Second, func() bool { return strings.Contains(logs.String(), "nats reconnected") }) {
		t.Fatalf("no reconnection logged:\n%s", logs.String())
	}
	assertNoSecrets(t, "reconnection log", logs.String())
	if !strings.Contains(logs.String(), "xxxxx@127.0.0.1") {
		t.Errorf("reconnection log should name the server with its token hidden:\n%s", logs.String())
	}
}
