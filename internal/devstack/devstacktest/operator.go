package devstacktest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Operator is a throwaway NATS operator with one account (JetStream allowed) made for one
// test, for signing in with a JWT .creds file, as a decentralised deployment does. Its keys
// live in memory and in files under t.TempDir().
type Operator struct {
	operator *jwt.OperatorClaims
	system   string // the system account's public key (JetStream needs one)
	account  nkeys.KeyPair
	resolver *server.MemAccResolver
}

// NewOperator makes the operator and its account.
func NewOperator(t testing.TB) *Operator {
	t.Helper()
	okp, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatalf("devstacktest: operator key: %v", err)
	}
	opub, _ := okp.PublicKey()
	r := &server.MemAccResolver{}
	account := func(name string, js bool) nkeys.KeyPair {
		kp, err := nkeys.CreateAccount()
		if err != nil {
			t.Fatalf("devstacktest: account key: %v", err)
		}
		pub, _ := kp.PublicKey()
		ac := jwt.NewAccountClaims(pub)
		ac.Name = name
		if js {
			ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
		}
		ajwt, err := ac.Encode(okp)
		if err != nil {
			t.Fatalf("devstacktest: account JWT: %v", err)
		}
		if err := r.Store(pub, ajwt); err != nil {
			t.Fatalf("devstacktest: store account JWT: %v", err)
		}
		return kp
	}
	sys, _ := account("SYS", false).PublicKey()
	akp := account("colophon", true)

	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "colophon-test"
	oc.SystemAccount = sys
	ojwt, err := oc.Encode(okp)
	if err != nil {
		t.Fatalf("devstacktest: operator JWT: %v", err)
	}
	if oc, err = jwt.DecodeOperatorClaims(ojwt); err != nil {
		t.Fatalf("devstacktest: operator JWT: %v", err)
	}
	return &Operator{operator: oc, system: sys, account: akp, resolver: r}
}

// Configure puts the server in operator mode trusting this operator: pass it as
// devstack.Config.NATSServerOptions.
func (o *Operator) Configure(opts *server.Options) {
	opts.TrustedOperators = []*jwt.OperatorClaims{o.operator}
	opts.AccountResolver = o.resolver
	opts.SystemAccount = o.system
}

// UserCreds makes a new user of the account and writes its .creds file (JWT and seed),
// returning the file's path.
func (o *Operator) UserCreds(t testing.TB) string {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatalf("devstacktest: user key: %v", err)
	}
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = "colophon-user"
	ujwt, err := uc.Encode(o.account)
	if err != nil {
		t.Fatalf("devstacktest: user JWT: %v", err)
	}
	seed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		t.Fatalf("devstacktest: creds: %v", err)
	}
	path := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatalf("devstacktest: write creds: %v", err)
	}
	return path
}

// NKeyUser makes a user NKey and writes its seed to a file under t.TempDir(): it returns
// the public key (for devstack.Config.NATSNKeys) and the seed file's path.
func NKeyUser(t testing.TB) (public, seedFile string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatalf("devstacktest: user nkey: %v", err)
	}
	public, _ = kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile = filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatalf("devstacktest: write seed: %v", err)
	}
	return public, seedFile
}
