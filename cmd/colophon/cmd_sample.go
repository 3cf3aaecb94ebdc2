package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/sample"
)

func newSampleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "sample DIR",
		Short: "Write the bundled sample document's pages (rendered PNG scans) into DIR",
		Long: `Renders Colophon's bundled sample text into page images at 300 dpi and writes them as
DIR/page-01.png, DIR/page-02.png ... ; the demo uploads them. Prints the file paths.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pages, err := sample.Pages()
			if err != nil {
				return err
			}
			paths, err := sample.WriteFiles(args[0], pages)
			if err != nil {
				return err
			}
			for _, p := range paths {
				fmt.Fprintln(g.stdout, p)
			}
			return nil
		},
	}
}
