package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/provenance"
)

func newKeygenCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen [--out FILE]",
		Short: "Make the Ed25519 key the metadata worker signs provenance records with",
		Long: `Writes a new Ed25519 private key to --out (PKCS #8 PEM, readable by its owner only) and its
public key beside it (FILE with .pub in place of .key, PKIX PEM). It never overwrites a file.

Give the private key to the metadata worker (--signing-key, or ` + provenance.EnvSigningKeyFile + `)
and the public key to whoever verifies records (colophon verify --public-key, or
` + provenance.EnvPublicKey + `); records also carry it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pub := strings.TrimSuffix(out, ".key") + ".pub"
			if pub == out {
				return fmt.Errorf("--out %s: name the key file *.key (the public key goes beside it as *.pub)", out)
			}
			priv, err := provenance.GenerateKey()
			if err != nil {
				return err
			}
			if err := provenance.WriteKeyFiles(out, pub, priv); err != nil {
				return err
			}
			s := provenance.NewSigner(priv)
			fmt.Fprintf(g.stdout, "signing key: %s\npublic key:  %s\nkey id:      %s\n", out, pub, provenance.KeyID(s.PublicKey()))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", provenance.KeyFileName, "private key file to write (*.key)")
	return cmd
}
