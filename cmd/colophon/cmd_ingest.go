package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

func newIngestFailuresCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ingest-failures [--json]",
		Short: "List the objects put straight into the scans bucket that could not become pages, and why",
		Long: `Lists what S3-native ingest refused, oldest first: each object (key and version) put into the
scans bucket that became no page, with the reason (a key with no document, a new document
without x-amz-meta-source, a changed scan under a key already taken, ...). A file that is not
a scan is not here: it is a failed page of its document, as at upload (colophon status DOC).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			b, _, err := connect(ctx, g, cfg, "colophon-cli", false)
			if err != nil {
				return err
			}
			defer b.Close()
			in, err := b.OpenIngest(ctx)
			if err != nil {
				return err
			}
			fails, err := in.Failures(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if fails == nil {
					return enc.Encode([]any{})
				}
				return enc.Encode(fails)
			}
			for _, f := range fails {
				fmt.Fprintf(g.stdout, "%s  %s (version %s)\n  %s\n", f.Updated.Format("2006-01-02 15:04:05Z"), f.Key, f.VersionID, f.Error)
			}
			fmt.Fprintf(g.stdout, "%d object(s) refused\n", len(fails))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of {bucket, key, version_id, etag, sha256, doc, state, error, updated}")
	return cmd
}
