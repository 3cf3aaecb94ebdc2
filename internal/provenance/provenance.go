// Package provenance signs and checks Colophon's provenance records with Ed25519.
//
// A record's signature covers its SignedBytes (the record encoded without the signature)
// and carries the public key, so anyone holding a record can check it; checking that the
// key is the deployment's own takes the deployment's public key (colophon keygen writes it
// beside the private key).
package provenance

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/colophon-archive/colophon/pipeline"
)

// Where a metadata worker finds its signing key: a PEM file's path, or the PEM itself (as
// a secret in the environment of a container).
const (
	EnvSigningKeyFile = "COLOPHON_SIGNING_KEY_FILE"
	EnvSigningKey     = "COLOPHON_SIGNING_KEY"
	// EnvPublicKey is where verify finds the public key(s) records must be signed with: PEM
	// files' paths or base64 keys, comma-separated.
	EnvPublicKey = "COLOPHON_PUBLIC_KEY"
)

// ErrUnsigned is a record with no signature.
var ErrUnsigned = errors.New("record is not signed")

// GenerateKey makes a new signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	return priv, nil
}

// EncodePrivateKey is priv as a PKCS #8 PEM block, the form openssl reads.
func EncodePrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncodePublicKey is pub as a PKIX PEM block.
func EncodePublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads a PEM private key made by EncodePrivateKey (or openssl genpkey
// -algorithm ed25519).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM private key (want a PRIVATE KEY block)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want Ed25519", k)
	}
	return priv, nil
}

// ParsePublicKey reads a PEM public key, or a base64 key as records carry it.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block is %s, want PUBLIC KEY", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key is %T, want Ed25519", k)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not a PEM public key nor a base64 Ed25519 key")
	}
	return ed25519.PublicKey(raw), nil
}

// LoadSigningKey finds the signing key: path when given, else the environment
// (EnvSigningKeyFile, then EnvSigningKey). found is false when none is configured.
func LoadSigningKey(path string) (priv ed25519.PrivateKey, found bool, err error) {
	from, data := "", []byte(nil)
	switch {
	case path != "":
		from = path
	case os.Getenv(EnvSigningKeyFile) != "":
		from = os.Getenv(EnvSigningKeyFile)
	case os.Getenv(EnvSigningKey) != "":
		from, data = EnvSigningKey, []byte(os.Getenv(EnvSigningKey))
	default:
		return nil, false, nil
	}
	if data == nil {
		if data, err = os.ReadFile(from); err != nil {
			return nil, true, fmt.Errorf("read signing key: %w", err)
		}
	}
	if priv, err = ParsePrivateKey(data); err != nil {
		return nil, true, fmt.Errorf("signing key %s: %w", from, err)
	}
	return priv, true, nil
}

// LoadPublicKeys reads the keys in spec: comma-separated PEM file paths or base64 keys.
func LoadPublicKeys(spec string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		data := []byte(s)
		if b, err := os.ReadFile(s); err == nil {
			data = b
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read public key %s: %w", s, err)
		}
		k, err := ParsePublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", s, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// KeyID names a public key briefly: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs records with one key.
type Signer struct {
	priv ed25519.PrivateKey
}

// NewSigner signs with priv.
func NewSigner(priv ed25519.PrivateKey) *Signer { return &Signer{priv: priv} }

// PublicKey is the key that checks the signer's signatures.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Sign sets rec's signature over its SignedBytes.
func (s *Signer) Sign(rec *pipeline.Provenance) error {
	msg, err := rec.SignedBytes()
	if err != nil {
		return fmt.Errorf("sign record: %w", err)
	}
	pub := s.PublicKey()
	rec.Signature = &pipeline.Signature{
		Algorithm: pipeline.SignatureEd25519,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
		KeyID:     KeyID(pub),
		Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(s.priv, msg)),
	}
	return nil
}

// Verify checks rec's signature. With trusted keys given, the record must be signed by one
// of them; without, by the key it carries (which shows the record is intact since it was
// signed, not who signed it).
func Verify(rec pipeline.Provenance, trusted ...ed25519.PublicKey) error {
	sig := rec.Signature
	if sig == nil {
		return ErrUnsigned
	}
	if sig.Algorithm != pipeline.SignatureEd25519 {
		return fmt.Errorf("signature algorithm %q: want %s", sig.Algorithm, pipeline.SignatureEd25519)
	}
	pubRaw, err := base64.StdEncoding.DecodeString(sig.PublicKey)
	if err != nil || len(pubRaw) != ed25519.PublicKeySize {
		return errors.New("signature's public key is not a base64 Ed25519 key")
	}
	pub := ed25519.PublicKey(pubRaw)
	if len(trusted) > 0 {
		ok := false
		for _, k := range trusted {
			ok = ok || pub.Equal(k)
		}
		if !ok {
			return fmt.Errorf("signed by key %s, which is not a trusted key", KeyID(pub))
		}
	}
	value, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil {
		return errors.New("signature value is not base64")
	}
	msg, err := rec.SignedBytes()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, msg, value) {
		return fmt.Errorf("signature by key %s does not match the record", KeyID(pub))
	}
	return nil
}

// WriteKeyFiles writes priv to privPath (readable by its owner only) and its public key to
// pubPath. It never overwrites: a signing key replaced by mistake cannot sign for the
// records made with it.
func WriteKeyFiles(privPath, pubPath string, priv ed25519.PrivateKey) error {
	privPEM, err := EncodePrivateKey(priv)
	if err != nil {
		return err
	}
	pubPEM, err := EncodePublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{privPath, privPEM, 0o600}, {pubPath, pubPEM, 0o644}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err != nil {
			return fmt.Errorf("write key file: %w", err)
		}
		_, werr := fh.Write(f.data)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("write key file %s: %w", f.path, werr)
		}
	}
	return nil
}

// Key file names in a directory of state (the dev stack's).
const (
	KeyFileName       = "signing.key"
	PublicKeyFileName = "signing.pub"
)

// EnsureKeyFiles reads the signing key in dir, making one (and its public key beside it)
// the first time.
func EnsureKeyFiles(dir string) (priv ed25519.PrivateKey, created bool, err error) {
	privPath := filepath.Join(dir, KeyFileName)
	priv, _, err = LoadSigningKey(privPath)
	if err == nil {
		return priv, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	if priv, err = GenerateKey(); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("signing key directory: %w", err)
	}
	if err := WriteKeyFiles(privPath, filepath.Join(dir, PublicKeyFileName), priv); err != nil {
		return nil, false, err
	}
	return priv, true, nil
}
