package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
)

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status DOC [--json]",
		Short: "Show each page's state (queued, ocr, metadata, done, failed), its verdict (ok, review) and any error",
		Long: `Shows each page's state, the quality verdict of a done page's text (ok, or review and why:
a person should check the text against the scan; - while a page has none) and any error,
then the pages to review.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openReader(cmd.Context(), g)
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
			writeStatus(g.stdout, r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: doc, pages, done, failed, review, page_states [{page, state, error, verdict, review}]")
	return cmd
}

// writeStatus prints a document's report for people: a line a page, then the pages to review.
func writeStatus(w io.Writer, r client.Report) {
	fmt.Fprintf(w, "document %s (source %q", r.Doc, r.Source)
	if r.Date != "" {
		fmt.Fprintf(w, ", date %s", r.Date)
	}
	fmt.Fprintf(w, "): %d page(s), %d done, %d failed, %d in progress, %d to review\n", r.Pages, r.Done, r.Failed, r.InProgress, r.Review)
	for _, p := range r.PageStates {
		verdict := "-"
		if p.Verdict != "" {
			verdict = string(p.Verdict)
		}
		fmt.Fprintf(w, "  page %-4d %-9s %-6s %s", p.Page, p.State, verdict, p.File)
		if p.Review != "" {
			fmt.Fprintf(w, "  review: %s", p.Review)
		}
		if p.Error != "" {
			fmt.Fprintf(w, "  error: %s", p.Error)
		}
		fmt.Fprintln(w)
	}
	review := r.ToReview()
	switch {
	case len(review) > 0:
		fmt.Fprintln(w, "to review:")
		for _, p := range review {
			fmt.Fprintf(w, "  %s: %s\n", pageName(p), p.Review)
		}
	case r.Complete:
		fmt.Fprintln(w, "to review: none")
	default:
		fmt.Fprintln(w, "to review: none so far")
	}
}

// pageName names a page for people, as failed and review lists do: page, file, and version
// once the page has been read more than once.
func pageName(p client.PageReport) string {
	which := fmt.Sprintf("page %d (%s)", p.Page, p.File)
	if p.Version > 1 {
		which += fmt.Sprintf(", version %d", p.Version)
	}
	return which
}
