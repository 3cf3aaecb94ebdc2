package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

func newUploadCmd(g *globals) *cobra.Command {
	var (
		req   client.UploadRequest
		langs string
		wait  bool
	)
	cmd := &cobra.Command{
		Use:   "upload --source TEXT [--date DATE] [--doc ID] [--lang LANGS] [--uploader NAME] [--wait] FILE...",
		Short: "Store scans as one document (pages in argument order) and queue them for OCR",
		Long: `Stores each file in the scans bucket with its SHA-256, source, date and file name, and queues one
OCR job per page. Prints the document ID alone on stdout. A file that is not a readable scan is
refused (its page is marked failed, with the reason) and the other pages go on; the exit status
is then non-zero. With --wait, follows the document until every page is done or failed, then
names on stderr the failed pages and the pages to review (done, but the quality verdict of their
text is review: a person should check it against the scan). Pages to review do not change the
exit status: non-zero only when a page failed.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ctx := cmd.Context()
			req.Files = files
			l, err := pipeline.ParseLanguages(langs)
			if err != nil {
				return err
			}
			req.Languages = l
			// Everything that can be refused is refused before anything is stored.
			if req, err = client.ValidateUpload(req, time.Now()); err != nil {
				return err
			}
			c, closeFn, err := openClient(ctx, g)
			if err != nil {
				return err
			}
			defer closeFn()
			res, err := c.Upload(ctx, req)
			if res.Doc != "" {
				fmt.Fprintln(g.stdout, res.Doc)
			}
			for _, p := range res.Pages {
				ev := g.log.With(pipeline.LogDoc, res.Doc, pipeline.LogPage, p.Page, pipeline.LogStage, pipeline.StageUpload, "file", p.File)
				switch {
				case p.Error != "":
					ev.Warn("stage event", pipeline.LogOutcome, pipeline.OutcomeFailed, pipeline.LogError, p.Error)
				case p.Unchanged:
					ev.Info("stage event", pipeline.LogOutcome, pipeline.OutcomeSkipped, "reason", "page already holds this scan", "state", string(p.State))
				default:
					ev.Debug("stage event", pipeline.LogOutcome, pipeline.OutcomeOK)
				}
			}
			if err != nil {
				return err
			}
			refused := res.Refused()
			if !wait {
				if len(refused) > 0 {
					return &exitError{code: 1, err: fmt.Errorf("%d page(s) refused:\n  %s", len(refused), joinErrors(refused))}
				}
				return nil
			}
			rep, err := waitWithProgress(cmd, g, c, res.Doc)
			if err != nil {
				return err
			}
			// Review is not failure: the pages are named, and the exit status is the failures'.
			writeToReview(g.stderr, rep)
			if err := failedPagesError(rep); err != nil {
				return err
			}
			fmt.Fprintln(g.stderr, allDoneLine(rep))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Source, "source", "", "where the pages come from: archive, collection, box (required)")
	f.StringVar(&req.Date, "date", "", "date of the material, ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD")
	f.StringVar(&req.Doc, "doc", "", "document ID (letters, digits, - and _; default: a new one)")
	f.StringVar(&langs, "lang", "eng", "Tesseract languages, e.g. eng or eng+fra")
	f.BoolVar(&wait, "wait", false, "wait until every page is done or failed; exit non-zero if any failed")
	f.Int64Var(&req.MaxFileBytes, "max-file-bytes", client.DefaultMaxFileBytes, "refuse scans larger than this")
	f.StringVar(&req.Uploader, "uploader", client.DefaultUploader(), "who is uploading, recorded in each page's provenance")
	return cmd
}

// failedPagesError names every failed page of a finished document, with its file, version
// (once a page has been read more than once) and reason; nil when none failed.
func failedPagesError(rep client.Report) error {
	if rep.Failed == 0 {
		return nil
	}
	var lines []string
	for _, p := range rep.PageStates {
		if p.State != pipeline.StateFailed {
			continue
		}
		lines = append(lines, pageName(p)+": "+strings.TrimPrefix(p.Error, fmt.Sprintf("page %d (%s): ", p.Page, p.File)))
	}
	return &exitError{code: 1, err: fmt.Errorf("document %s: %d of %d page(s) failed:\n  %s", rep.Doc, rep.Failed, rep.Pages, strings.Join(lines, "\n  "))}
}

// writeToReview names every page of a finished document to review, with its file, version
// and reason; nothing when there is none.
func writeToReview(w io.Writer, rep client.Report) {
	review := rep.ToReview()
	if len(review) == 0 {
		return
	}
	fmt.Fprintf(w, "document %s: %d of %d page(s) to review (done, but check the text against the scan):\n", rep.Doc, len(review), rep.Pages)
	for _, p := range review {
		fmt.Fprintf(w, "  %s: %s\n", pageName(p), p.Review)
	}
}

// allDoneLine is the last line of a wait that ended with every page done.
func allDoneLine(rep client.Report) string {
	line := fmt.Sprintf("document %s: all %d page(s) done", rep.Doc, rep.Pages)
	if rep.Review > 0 {
		line += fmt.Sprintf(", %d to review", rep.Review)
	}
	return line
}

func joinErrors(pages []client.PageResult) string {
	var s []string
	for _, p := range pages {
		s = append(s, p.Error)
	}
	return strings.Join(s, "\n  ")
}

// waitWithProgress follows a document, with a progress bar on a terminal and one line per
// page change otherwise (a log file or CI wants lines, not redraws).
func waitWithProgress(cmd *cobra.Command, g *globals, c *client.Client, doc string) (client.Report, error) {
	var bar *progressbar.ProgressBar
	if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(g.stderr), progressbar.OptionSetDescription(doc),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
	}
	rep, err := c.Wait(cmd.Context(), doc, func(r client.Report, p pipeline.PageStatus) {
		finished := r.Done + r.Failed
		if bar != nil {
			bar.ChangeMax(r.Pages)
			_ = bar.Set(finished)
			return
		}
		line := fmt.Sprintf("%s: page %d (%s) %s [%d/%d finished, %d failed]", doc, p.Page, p.FileName, p.State, finished, r.Pages, r.Failed)
		if p.Review != "" {
			line += ": review: " + p.Review
		}
		if p.Error != "" {
			line += ": " + p.Error
		}
		fmt.Fprintln(g.stderr, line)
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil && isNoDocument(err) {
		return rep, errors.New("document vanished while waiting")
	}
	return rep, err
}
