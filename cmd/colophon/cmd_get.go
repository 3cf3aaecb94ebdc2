package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newGetCmd(g *globals) *cobra.Command {
	var (
		page int
		out  string
	)
	cmd := &cobra.Command{
		Use:   "get DOC [--page N] [-o FILE]",
		Short: "Print a document's text, verified page by page against its provenance record",
		Long: `Reads each page's provenance record and text, recomputes the text's SHA-256 and compares it with the
record. Pages are printed in order, separated by a form feed. If any page fails to verify, nothing
is printed or written: a message on stderr names each page and both checksums, and the exit
status is 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, closeFn, err := openClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			pages, err := c.Text(cmd.Context(), args[0], page)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			for i, p := range pages {
				if i > 0 {
					buf.WriteByte('\f')
				}
				buf.Write(p.Text)
			}
			if out == "" || out == "-" {
				_, err := g.stdout.Write(buf.Bytes())
				return err
			}
			return writeFileAtomic(out, buf.Bytes())
		},
	}
	cmd.Flags().IntVar(&page, "page", 0, "only this page (1-based)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout (written only if every page verifies)")
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
