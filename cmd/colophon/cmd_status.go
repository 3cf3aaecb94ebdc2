package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status DOC [--json]",
		Short: "Show each page's state (queued, ocr, metadata, done, failed) and any error",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			r, err := c.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(g.stdout, r)
			}
			fmt.Fprintf(g.stdout, "document %s (source %q", r.Doc, r.Source)
			if r.Date != "" {
				fmt.Fprintf(g.stdout, ", date %s", r.Date)
			}
			fmt.Fprintf(g.stdout, "): %d page(s), %d done, %d failed, %d in progress\n", r.Pages, r.Done, r.Failed, r.InProgress)
			for _, p := range r.PageStates {
				fmt.Fprintf(g.stdout, "  page %-4d %-9s %s", p.Page, p.State, p.File)
				if p.Error != "" {
					fmt.Fprintf(g.stdout, "  error: %s", p.Error)
				}
				fmt.Fprintln(g.stdout)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: doc, pages, done, failed, page_states [{page, state, error}]")
	return cmd
}
