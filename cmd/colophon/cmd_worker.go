package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

func newWorkerCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a pipeline worker against the configured NATS and S3",
	}
	var (
		concurrency int
		pageTimeout time.Duration
	)
	ocrCmd := &cobra.Command{
		Use:   "ocr",
		Short: "Recognise pages: fetch scans, run Tesseract, store texts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), g, "colophon-ocr-worker", func(ctx context.Context, b *bus.Bus, s *objectstore.Store) (runner, error) {
				return ocr.New(ctx, b, s, ocr.WithConcurrency(concurrency), ocr.WithPageTimeout(pageTimeout), ocr.WithLogger(g.log))
			})
		},
	}
	ocrCmd.Flags().IntVar(&concurrency, "concurrency", runtime.NumCPU(), "pages recognised at once (each recognition uses one core)")
	ocrCmd.Flags().DurationVar(&pageTimeout, "page-timeout", ocr.DefaultPageTimeout, "fail a page whose recognition takes longer than this")
	metaCmd := &cobra.Command{
		Use:   "metadata",
		Short: "Record provenance: verify each stored text and write its record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), g, "colophon-metadata-worker", func(ctx context.Context, b *bus.Bus, s *objectstore.Store) (runner, error) {
				return metadata.New(ctx, b, s, metadata.WithLogger(g.log))
			})
		},
	}
	cmd.AddCommand(ocrCmd, metaCmd)
	return cmd
}

type runner interface{ Run(context.Context) error }

// runWorker connects, waiting for NATS and S3 as long as it takes (a worker may start before
// them), and runs the worker until the context ends.
func runWorker(ctx context.Context, g *globals, name string, build func(context.Context, *bus.Bus, *objectstore.Store) (runner, error)) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	b, store, err := connect(ctx, g, cfg, name, true)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer b.Close()
	w, err := build(ctx, b, store)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// startWorkers runs OCR and metadata workers in this process (for `dev`).
func startWorkers(ctx context.Context, wg *sync.WaitGroup, g *globals, b *bus.Bus, store *objectstore.Store, ocrOpts ...ocr.Option) error {
	return startWorkerSet(ctx, wg, g, b, store, true, ocrOpts...)
}

// startWorkerSet is startWorkers, with the OCR worker left out when withOCR is false (for a
// measurement that runs its own).
func startWorkerSet(ctx context.Context, wg *sync.WaitGroup, g *globals, b *bus.Bus, store *objectstore.Store, withOCR bool, ocrOpts ...ocr.Option) error {
	var ws []runner
	if withOCR {
		ow, err := ocr.New(ctx, b, store, append([]ocr.Option{ocr.WithLogger(g.log)}, ocrOpts...)...)
		if err != nil {
			return fmt.Errorf("start OCR worker: %w", err)
		}
		ws = append(ws, ow)
	}
	mw, err := metadata.New(ctx, b, store, metadata.WithLogger(g.log))
	if err != nil {
		return fmt.Errorf("start metadata worker: %w", err)
	}
	for _, w := range append(ws, mw) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil {
				g.log.Error("worker stopped", "error", err)
			}
		}()
	}
	return nil
}
