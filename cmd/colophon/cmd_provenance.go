package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

func newProvenanceCmd(g *globals) *cobra.Command {
	var allVersions bool
	cmd := &cobra.Command{
		Use:   "provenance DOC [--all-versions]",
		Short: "Print the provenance records of a document's pages as a JSON array, in page order",
		Long: `Prints one record per page: doc, page, version, source, date, created, the scan's and the text's
bucket, key, sha256 and size, and which engine, version, languages and worker read it, with its
mean confidence. Pages without a record (not done, or failed) are named on stderr and the exit
status is 1; the records that exist are still printed.

Without --all-versions each page's record is its current version's, the one get verifies
against. With --all-versions every stored version is printed (a page recognised again by
reprocess keeps its older records): page order, then version order; only pages with no
record at all are named on stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openReader(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			var recs []pipeline.Provenance
			if allVersions {
				recs, err = c.RecordVersions(cmd.Context(), args[0], 0)
			} else {
				recs, err = c.Records(cmd.Context(), args[0], 0)
			}
			var verr *client.VerifyError
			if err != nil && !errors.As(err, &verr) {
				return err
			}
			if recs == nil {
				recs = []pipeline.Provenance{}
			}
			if encErr := writeJSON(g.stdout, recs); encErr != nil {
				return encErr
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&allVersions, "all-versions", false, "every stored version of each page's record, not only the current one")
	return cmd
}
