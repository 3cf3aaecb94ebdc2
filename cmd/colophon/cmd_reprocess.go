package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

func newReprocessCmd(g *globals) *cobra.Command {
	var (
		req   client.ReprocessRequest
		langs string
		wait  bool
	)
	cmd := &cobra.Command{
		Use:   "reprocess DOC [--page N] [--lang LANGS] [--wait]",
		Short: "Recognise a document's stored scans again, as a new version of each page's text and record",
		Long: `Queues every page of DOC (or only --page N) for OCR again, from the scan already stored. Each page
gets a new version: its text and provenance record are written beside the older ones, which are
kept (see provenance --all-versions); get serves the new version once it is done. Failed pages are
retried the same way.

A page still under way (queued, ocr or metadata) is not queued a second time: it is named on stderr,
the other pages go on, and the exit status is 1. So is a page with no stored scan (its file was
refused at upload; upload the files again instead). LANGS defaults to the languages the document
was uploaded with. With --wait, follows the document until every page is done or failed, and exits
non-zero if any failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			req.Doc = args[0]
			if err := pipeline.ValidateDocID(req.Doc); err != nil {
				return err
			}
			if cmd.Flags().Changed("lang") {
				l, err := pipeline.ParseLanguages(langs)
				if err != nil {
					return err
				}
				req.Languages = l
			}
			c, closeFn, err := openClient(ctx, g)
			if err != nil {
				return err
			}
			defer closeFn()
			res, err := c.Reprocess(ctx, req)
			for _, p := range res.Pages {
				ev := g.log.With(pipeline.LogDoc, res.Doc, pipeline.LogPage, p.Page, pipeline.LogStage, "reprocess", "file", p.File)
				if p.Skipped != "" {
					ev.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", p.Skipped)
					fmt.Fprintf(g.stderr, "%s: %s\n", res.Doc, p.Skipped)
					continue
				}
				ev.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeOK, "version", p.Version)
				fmt.Fprintf(g.stderr, "%s: page %d (%s) queued as version %d\n", res.Doc, p.Page, p.File, p.Version)
			}
			if err != nil {
				return err
			}
			var skippedErr error
			if skipped := res.Skipped(); len(skipped) > 0 {
				nums := make([]string, len(skipped))
				for i, p := range skipped {
					nums[i] = fmt.Sprint(p.Page)
				}
				// Each page's reason is on a line of its own above.
				skippedErr = &exitError{code: 1, err: fmt.Errorf("document %s: %d of %d page(s) not queued again (page %s)",
					res.Doc, len(skipped), len(res.Pages), strings.Join(nums, ", "))}
			}
			if !wait {
				return skippedErr
			}
			rep, err := waitWithProgress(cmd, g, c, res.Doc)
			if err != nil {
				return err
			}
			writeToReview(g.stderr, rep)
			if err := failedPagesError(rep); err != nil {
				return err
			}
			if skippedErr != nil {
				return skippedErr
			}
			fmt.Fprintln(g.stderr, allDoneLine(rep))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&req.Page, "page", 0, "only this page (1-based)")
	f.StringVar(&langs, "lang", "", "Tesseract languages, e.g. eng or eng+fra (default: the document's)")
	f.BoolVar(&wait, "wait", false, "wait until every page is done or failed; exit non-zero if any failed")
	return cmd
}
