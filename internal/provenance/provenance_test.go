package provenance

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// record is a record with the awkward parts of a real one: floats, times, maps, nesting.
func record() pipeline.Provenance {
	at := time.Date(2026, 11, 28, 3, 4, 5, 123456789, time.UTC)
	return pipeline.Provenance{
		Doc: "minutes-1984", Page: 2, Version: 1, Source: "Tenants' Association, box 3", Date: "1984-07",
		FileName: "scan 2.png", Uploader: "archivist@reading-room", Uploaded: at, Created: at.Truncate(time.Second),
		Scan: pipeline.ObjectRef{Bucket: pipeline.BucketScans, Key: "minutes-1984/0002/ab.png", SHA256: strings.Repeat("ab", 32), Bytes: 12345},
		Text: pipeline.ObjectRef{Bucket: pipeline.BucketTexts, Key: "minutes-1984/0002/v1.txt", SHA256: strings.Repeat("cd", 32), Bytes: 2048},
		OCR: pipeline.OCRInfo{Engine: "tesseract", EngineVersion: "5.3.0", MeanConfidence: 91.23456789012345, DPI: 300,
			Preprocessing: []pipeline.Step{{Name: "binarize", Params: map[string]string{"method": "sauvola", "window": "31"}}}},
		DatesFound: []pipeline.DateFound{{Page: 2, Text: "25th July 2009", Date: "2009-07-25", Confidence: 0.9}},
		Chain:      &pipeline.Chain{Seq: 2, Prev: &pipeline.RecordRef{Page: 1, Version: 1, Key: "minutes-1984/0001/v1.json", SHA256: strings.Repeat("ef", 32)}},
	}
}

func TestSignVerify(t *testing.T) {
	priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := GenerateKey()
	s := NewSigner(priv)
	signed := record()
	if err := s.Sign(&signed); err != nil {
		t.Fatal(err)
	}
	// The record travels as JSON: a decoded record must check, with the key it carries.
	data, err := pipeline.Encode(signed)
	if err != nil {
		t.Fatal(err)
	}
	var decoded pipeline.Provenance
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		change  func(*pipeline.Provenance)
		trusted []ed25519.PublicKey
		want    string // "" for valid
	}{
		{"intact, key it carries", nil, nil, ""},
		{"intact, trusted key", nil, []ed25519.PublicKey{other.Public().(ed25519.PublicKey), s.PublicKey()}, ""},
		{"signed by an untrusted key", nil, []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}, "not a trusted key"},
		{"text checksum rewritten", func(r *pipeline.Provenance) { r.Text.SHA256 = strings.Repeat("00", 32) }, nil, "does not match"},
		{"date rewritten", func(r *pipeline.Provenance) { r.Date = "1985-01" }, nil, "does not match"},
		{"confidence nudged", func(r *pipeline.Provenance) { r.OCR.MeanConfidence += 1e-9 }, nil, "does not match"},
		{"chain rewritten", func(r *pipeline.Provenance) { r.Chain.Seq = 1; r.Chain.Prev = nil }, nil, "does not match"},
		{"re-signed with another key, untrusted", func(r *pipeline.Provenance) { _ = NewSigner(other).Sign(r) }, []ed25519.PublicKey{s.PublicKey()}, "not a trusted key"},
		{"key swapped in", func(r *pipeline.Provenance) {
			r.Signature.PublicKey = base64.StdEncoding.EncodeToString(other.Public().(ed25519.PublicKey))
		}, nil, "does not match"},
		{"signature removed", func(r *pipeline.Provenance) { r.Signature = nil }, nil, ErrUnsigned.Error()},
		{"other algorithm", func(r *pipeline.Provenance) { r.Signature.Algorithm = "rsa" }, nil, "algorithm"},
		{"garbled value", func(r *pipeline.Provenance) { r.Signature.Value = "!!" }, nil, "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r pipeline.Provenance
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if tt.change != nil {
				tt.change(&r)
			}
			err := Verify(r, tt.trusted...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("want error containing %q, got %v", tt.want, err)
			}
		})
	}
	if decoded.Signature.KeyID != KeyID(s.PublicKey()) || len(decoded.Signature.KeyID) != 16 {
		t.Errorf("key id %q", decoded.Signature.KeyID)
	}
}

func TestKeyFiles(t *testing.T) {
	priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := EncodePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := EncodePublicKey(priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, pubFile := filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.pub")
	if err := os.WriteFile(keyFile, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubFile, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		path      string
		env       map[string]string
		wantFound bool
		wantErr   string
	}{
		{"none configured", "", nil, false, ""},
		{"path", keyFile, nil, true, ""},
		{"file from the environment", "", map[string]string{EnvSigningKeyFile: keyFile}, true, ""},
		{"PEM in the environment", "", map[string]string{EnvSigningKey: string(privPEM)}, true, ""},
		{"path wins over the environment", keyFile, map[string]string{EnvSigningKey: "junk"}, true, ""},
		{"missing file", filepath.Join(dir, "nope"), nil, true, "read signing key"},
		{"a public key is not a signing key", pubFile, nil, true, "PRIVATE KEY"},
		{"junk in the environment", "", map[string]string{EnvSigningKey: "junk"}, true, EnvSigningKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvSigningKeyFile, "")
			t.Setenv(EnvSigningKey, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, found, err := LoadSigningKey(tt.path)
			if found != tt.wantFound {
				t.Fatalf("found %v, want %v", found, tt.wantFound)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("want error containing %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if found && !got.Equal(priv) {
				t.Error("loaded a different key")
			}
		})
	}

	pub := priv.Public().(ed25519.PublicKey)
	keys, err := LoadPublicKeys(pubFile + ", " + base64.StdEncoding.EncodeToString(pub))
	if err != nil || len(keys) != 2 || !keys[0].Equal(pub) || !keys[1].Equal(pub) {
		t.Fatalf("public keys: %d, %v", len(keys), err)
	}
	if _, err := LoadPublicKeys("not-a-key"); err == nil {
		t.Error("junk accepted as a public key")
	}
	if _, err := LoadPublicKeys(keyFile); err == nil {
		t.Error("a private key file accepted as a public key")
	}
	if _, err := ParsePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")); err == nil || errors.Is(err, ErrUnsigned) {
		t.Error("garbled PEM accepted")
	}
}
