package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

func newGetCmd(g *globals) *cobra.Command {
	var (
		page   int
		out    string
		format string
	)
	cmd := &cobra.Command{
		Use:   "get DOC [--page N] [--format text|hocr|alto|pdf] [-o FILE]",
		Short: "Print a document's text (or hOCR, or searchable PDF), verified page by page against its provenance record",
		Long: `Reads each page's provenance record and output, recomputes the output's SHA-256 and compares it with
the record. --format text (the default): pages in order, separated by a form feed. --format hocr:
one hOCR document (word boxes and confidences), a page element per page; --format alto: the
same as one ALTO XML (v3) document. --format pdf: one PDF,
each page the scan as recognised with its text as an invisible, searchable layer. If any page fails
to verify, nothing is printed or written: a message on stderr names each page and both checksums,
and the exit status is 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openReader(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			pages, err := c.Output(cmd.Context(), args[0], page, format)
			if err != nil {
				return err
			}
			data, err := client.Document(format, pages)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := g.stdout.Write(data)
				return err
			}
			return writeFileAtomic(out, data)
		},
	}
	cmd.Flags().IntVar(&page, "page", 0, "only this page (1-based)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout (written only if every page verifies)")
	cmd.Flags().StringVar(&format, "format", pipeline.FormatText, "output format: text, hocr, alto or pdf")
	return cmd
}

// writeFileAtomic writes through a temporary file and a rename, so a reader never sees half a text.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
