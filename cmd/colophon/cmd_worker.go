package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/ingest"
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
		metricsAddr string
	)
	ocrCmd := &cobra.Command{
		Use:   "ocr",
		Short: "Recognise pages: fetch scans, run Tesseract, store texts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), g, "colophon-ocr-worker", metricsAddr, pipeline.StageOCR, func(ctx context.Context, b *bus.Bus, s *objectstore.Store, mo *monitor) (runner, error) {
				return ocr.New(ctx, b, s, ocr.WithConcurrency(concurrency), ocr.WithPageTimeout(pageTimeout), ocr.WithLogger(g.log), mo.ocrOption())
			})
		},
	}
	ocrCmd.Flags().IntVar(&concurrency, "concurrency", runtime.NumCPU(), "pages recognised at once (each recognition uses one core)")
	ocrCmd.Flags().DurationVar(&pageTimeout, "page-timeout", ocr.DefaultPageTimeout, "fail a page whose recognition takes longer than this")
	addMetricsFlag(ocrCmd, &metricsAddr)
	var (
		signingKey string
		auditEvery time.Duration
	)
	metaCmd := &cobra.Command{
		Use:   "metadata",
		Short: "Record provenance: verify each stored output, write its signed record and chain it",
		Long: `Records provenance: re-hashes each recognised page's stored outputs, writes its provenance
record signed with the deployment's Ed25519 key, and appends it to the document's chain in the
record log. With --audit-every it also audits every document on that schedule, as colophon
verify --all does, and logs each outcome as a fixity-check event. The signing key comes from --signing-key, else ` + provenance.EnvSigningKeyFile + ` (a PEM
file's path), else ` + provenance.EnvSigningKey + ` (the PEM itself); 'colophon keygen' makes one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := loadSigner(g, signingKey, "")
			if err != nil {
				return err
			}
			return runWorker(cmd.Context(), g, "colophon-metadata-worker", metricsAddr, pipeline.StageMetadata, func(ctx context.Context, b *bus.Bus, s *objectstore.Store, mo *monitor) (runner, error) {
				return metadata.New(ctx, b, s, metadata.WithLogger(g.log), metadata.WithSigner(signer), metadata.WithAuditEvery(auditEvery), mo.metadataOption())
			})
		},
	}
	metaCmd.Flags().DurationVar(&auditEvery, "audit-every", 0, "also run a fixity audit of every document this often (e.g. 24h), logged as fixity-check events; 0: never")
	metaCmd.Flags().StringVar(&signingKey, "signing-key", "", "PEM file of the Ed25519 key records are signed with (colophon keygen)")
	var (
		ingestConcurrency int
		noNotify          bool
	)
	ingestCmd := &cobra.Command{
		Use:   "ingest",
		Short: "S3-native ingest: make objects put straight into the scans bucket pages of their documents",
		Long: `Takes the events MinIO publishes to NATS for every object created in the ` + pipeline.BucketScans + ` bucket
(stream ` + pipeline.StreamS3Events + `). An object under <document ID>/<file> becomes the next page(s) of that
document, stored and queued for OCR as upload does; its x-amz-meta-source, -date, -lang and
-uploader metadata say where it comes from. Scans Colophon stored itself are left alone, and
an event delivered twice, or an object PUT again unchanged, makes no second page. At start
it has the bucket send its events to MinIO's NATS target ` + pipeline.NotifyARN + `
unless --no-bucket-notification. See README: S3-native ingest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd.Context(), g, "colophon-ingest-worker", metricsAddr, pipeline.StageIngest, func(ctx context.Context, b *bus.Bus, s *objectstore.Store, _ *monitor) (runner, error) {
				return ingest.New(ctx, b, s, ingest.WithLogger(g.log), ingest.WithConcurrency(ingestConcurrency), ingest.WithBucketNotification(!noNotify))
			})
		},
	}
	ingestCmd.Flags().IntVar(&ingestConcurrency, "concurrency", 2, "objects taken at once")
	addMetricsFlag(ingestCmd, &metricsAddr)
	ingestCmd.Flags().BoolVar(&noNotify, "no-bucket-notification", false, "do not configure the scans bucket's event notification (the setup job does)")
	addMetricsFlag(metaCmd, &metricsAddr)
	cmd.AddCommand(ocrCmd, metaCmd, ingestCmd)
	return cmd
}

type runner interface{ Run(context.Context) error }

// runWorker connects, waiting for NATS and S3 as long as it takes (a worker may start before
// them), and runs the worker until the context ends. With metricsAddr, it serves the
// monitoring endpoints from the start, ready once connected.
func runWorker(ctx context.Context, g *globals, name, metricsAddr string, stage pipeline.Stage,
	build func(context.Context, *bus.Bus, *objectstore.Store, *monitor) (runner, error)) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	mo, err := startMonitor(ctx, g, metricsAddr)
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
	w, err := build(ctx, b, store, mo)
	if err != nil {
		return err
	}
	mo.connected(b, store, stage)
	return w.Run(ctx)
}

// loadSigner finds the key records are signed with: path, else the environment, else (for a
// stack on this machine, stateDir set) the key kept in stateDir, made the first time.
func loadSigner(g *globals, path, stateDir string) (*provenance.Signer, error) {
	priv, found, err := provenance.LoadSigningKey(path)
	if err != nil {
		return nil, err
	}
	if !found && stateDir != "" {
		var created bool
		if priv, created, err = provenance.EnsureKeyFiles(stateDir); err != nil {
			return nil, err
		}
		found = true
		g.log.Info("signing records with the stack's own key", "key", filepath.Join(stateDir, provenance.KeyFileName),
			"public_key", filepath.Join(stateDir, provenance.PublicKeyFileName), "created", created)
	}
	if !found {
		return nil, errors.New("no signing key for provenance records: make one with 'colophon keygen' and give it with --signing-key or " +
			provenance.EnvSigningKeyFile)
	}
	s := provenance.NewSigner(priv)
	g.log.Info("signing key", "key_id", provenance.KeyID(s.PublicKey()))
	return s, nil
}

// startWorkers runs OCR, metadata and ingest workers in this process (for `dev`).
// metaOpts must sign (metadata.WithSigner).
func startWorkers(ctx context.Context, wg *sync.WaitGroup, g *globals, b *bus.Bus, store *objectstore.Store, metaOpts []metadata.Option, ocrOpts ...ocr.Option) error {
	return startWorkerSet(ctx, wg, g, b, store, metaOpts, true, ocrOpts...)
}

// startWorkerSet is startWorkers, with the OCR worker left out when withOCR is false (for a
// measurement that runs its own).
func startWorkerSet(ctx context.Context, wg *sync.WaitGroup, g *globals, b *bus.Bus, store *objectstore.Store, metaOpts []metadata.Option, withOCR bool, ocrOpts ...ocr.Option) error {
	var ws []runner
	if withOCR {
		ow, err := ocr.New(ctx, b, store, append([]ocr.Option{ocr.WithLogger(g.log)}, ocrOpts...)...)
		if err != nil {
			return fmt.Errorf("start OCR worker: %w", err)
		}
		ws = append(ws, ow)
	}
	mw, err := metadata.New(ctx, b, store, append([]metadata.Option{metadata.WithLogger(g.log)}, metaOpts...)...)
	if err != nil {
		return fmt.Errorf("start metadata worker: %w", err)
	}
	iw, err := ingest.New(ctx, b, store, ingest.WithLogger(g.log))
	if err != nil {
		return fmt.Errorf("start ingest worker: %w", err)
	}
	for _, w := range append(ws, mw, iw) {
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
