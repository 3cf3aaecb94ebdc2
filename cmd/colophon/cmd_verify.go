package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/audit"
	"github.com/colophon-archive/colophon/internal/provenance"
)

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		all       bool
		publicKey string
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "verify (DOC... | --all) [--public-key KEY] [--json]",
		Short: "Fixity audit: re-hash every scan and output, check every record's signature and chain",
		Long: `Audits documents in the store. For each provenance record the record log holds, it checks
that the record is in the store unchanged (its SHA-256 is the log's), that its Ed25519 signature
holds and is by a trusted key, that it names its place in its document's chain as the log does,
and re-hashes the scan and every output it names (text, hOCR, ALTO, PDF). Records in the store
the log never saw, and done pages without a logged record, fail too.

It prints a row per record (page and version) with a column per check, then each failure and
how it failed, then a summary; the exit status is 1 when anything failed. --all audits every
document in the record log or with a record in the store, so records a lost or replaced log
does not hold fail too (` + audit.RebuildCommand + ` rebuilds the log from them).

Trusted keys: --public-key, else ` + provenance.EnvPublicKey + ` (PEM files or base64 keys,
comma-separated; colophon keygen writes signing.pub). With neither, each record is checked with
the key it carries, which shows it is intact since it was signed, not who signed it.`,
		RunE: func(cmd *cobra.Command, docs []string) error {
			if all == (len(docs) > 0) {
				return errors.New("name the documents to verify, or --all")
			}
			trusted, err := trustedKeys(publicKey)
			if err != nil {
				return err
			}
			if len(trusted) == 0 {
				g.log.Warn("no trusted public key given: signatures are checked with the key each record carries")
			}
			ctx := cmd.Context()
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			b, store, err := connect(ctx, g, cfg, "colophon-verify", false)
			if err != nil {
				return err
			}
			defer b.Close()
			status, err := b.OpenStatus(ctx)
			if err != nil {
				return err
			}
			rep, err := audit.Run(ctx, store, b, status, docs, audit.Options{Trusted: trusted})
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(g.stdout, rep); err != nil {
					return err
				}
			} else if err := rep.WriteText(g.stdout); err != nil {
				return err
			}
			if n := rep.Failures(); n > 0 {
				return fmt.Errorf("verify: %d of %d records failed", n, len(rep.Rows))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every document in the record log or with a record in the store")
	publicKeyFlag(cmd, &publicKey)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// publicKeyFlag is --public-key, for the commands that check records against trusted keys.
func publicKeyFlag(cmd *cobra.Command, spec *string) {
	cmd.Flags().StringVar(spec, "public-key", "", "trusted public keys: PEM files or base64 keys, comma-separated (default $"+provenance.EnvPublicKey+")")
}

// trustedKeys are the keys records must be signed with: --public-key, else
// provenance.EnvPublicKey; none when neither is set.
func trustedKeys(flag string) ([]ed25519.PublicKey, error) {
	spec := flag
	if spec == "" {
		spec = os.Getenv(provenance.EnvPublicKey)
	}
	return provenance.LoadPublicKeys(spec)
}
