package main

import (
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

func newProvenanceCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "provenance DOC",
		Short: "Print the provenance records of a document's pages as a JSON array, in page order",
		Long: `Prints one record per page: doc, page, source, date, created, the scan's and the text's bucket, key,
sha256 and size, and which engine, version, languages and worker read it, with its mean confidence.
Pages without a record (not done, or failed) are named on stderr and the exit status is 1; the
records that exist are still printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			recs, err := c.Records(cmd.Context(), args[0], 0)
			var verr *client.VerifyError
			if err != nil && !errors.As(err, &verr) {
				return err
			}
			if recs == nil {
				recs = []pipeline.Provenance{}
			}
			enc := json.NewEncoder(g.stdout)
			enc.SetIndent("", "  ")
			if encErr := enc.Encode(recs); encErr != nil {
				return encErr
			}
			return err
		},
	}
}
