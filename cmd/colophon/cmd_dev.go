package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/devstack"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// Development-only credentials for the MinIO that `colophon dev` starts. They are not
// secrets: they guard a server on loopback holding test data, and no other command uses
// them as defaults. Set COLOPHON_S3_ACCESS_KEY/SECRET_KEY to override.
const (
	devAccessKey = "colophon-dev"
	devSecretKey = "colophon-dev-secret"
)

func newDevCmd(g *globals) *cobra.Command {
	var (
		dataDir     string
		noWorkers   bool
		concurrency int
		pageTimeout time.Duration
		auditEvery  time.Duration
		metricsAddr string
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole stack on this machine: NATS, MinIO and the workers, until Ctrl-C",
		Long: `Runs an embedded NATS server with JetStream where COLOPHON_NATS_URL points and a MinIO server
(child process) where COLOPHON_S3_ENDPOINT points, unless an S3 server already answers there,
creates the buckets and streams, and runs OCR workers (one recognition per CPU), a metadata
worker and an ingest worker. The MinIO it starts publishes the scans bucket's new objects to
NATS, so files put there with mc, rclone or aws s3 cp become pages (README: S3-native
ingest). State lives under --data, with the key the metadata worker signs records with
(signing.key, made the first time, and signing.pub; a key given by the environment, as for
'colophon worker metadata', takes its place); one dev at a time may use it (a second is
refused). A MinIO it started that dies is logged and started again, up to 3 times in 10
minutes; after that dev stops and exits non-zero. SIGINT or SIGTERM stops everything cleanly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Cancelled also when the stack fails, so the workers stop with it.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			cfg := config{
				NATSURL:    envOr(envNATSURL, defaultNATSURL),
				S3Endpoint: envOr(envS3Endpoint, defaultS3Endpoint),
				AccessKey:  envOr(envAccessKey, devAccessKey),
				SecretKey:  envOr(envSecretKey, devSecretKey),
			}
			if dataDir == "" {
				dataDir = defaultDataDir()
			}
			stack, err := devstack.Start(ctx, devstack.Config{
				DataDir:    dataDir,
				NATSURL:    cfg.NATSURL,
				S3Endpoint: cfg.S3Endpoint,
				AccessKey:  cfg.AccessKey,
				SecretKey:  cfg.SecretKey,
				MinIOBin:   os.Getenv("COLOPHON_MINIO_BIN"),
				Logger:     g.log,
			})
			if errors.Is(err, devstack.ErrDataDirInUse) {
				return fmt.Errorf("%w; stop that dev first, or give this one another --data", err)
			}
			if err != nil {
				return err
			}
			defer func() {
				if err := stack.Stop(); err != nil {
					g.log.Error("stop dev stack", "error", err)
				}
				g.log.Info("dev stack stopped")
			}()
			// After the stack, so a second dev on the same directory is refused for that,
			// not for a metrics address the first one holds.
			mo, err := startMonitor(ctx, g, metricsAddr)
			if err != nil {
				return err
			}
			cfg.NATSURL, cfg.S3Endpoint = stack.NATSURL, stack.S3Endpoint
			b, store, err := connect(ctx, g, cfg, "colophon-dev", false)
			if err != nil {
				return err
			}
			defer b.Close()
			// Both queues and consumers, with or without workers here: workers run apart
			// (--no-workers) take from the same ones.
			mo.connected(b, store, pipeline.StageOCR, pipeline.StageMetadata, pipeline.StageIngest)
			g.log.Info("dev stack ready", "nats", stack.NATSURL, "s3", stack.S3Endpoint, "data", dataDir, "minio_started", stack.StartedMinIO, "workers", !noWorkers)

			var wg sync.WaitGroup
			if !noWorkers {
				signer, err := loadSigner(g, "", dataDir)
				if err != nil {
					return err
				}
				meta := []metadata.Option{metadata.WithSigner(signer), metadata.WithAuditEvery(auditEvery), mo.metadataOption()}
				if err := startWorkers(ctx, &wg, g, b, store, meta, ocr.WithConcurrency(concurrency), ocr.WithPageTimeout(pageTimeout), mo.ocrOption()); err != nil {
					return err
				}
			}
			var failed error
			select {
			case <-ctx.Done():
			case <-stack.Failed():
				failed = fmt.Errorf("dev stack failed: %w", stack.Err())
				g.log.Error("dev stack failed, stopping", "error", stack.Err().Error())
			}
			g.log.Info("stopping dev stack")
			cancel()
			waitTimeout(&wg, 15*time.Second)
			return failed
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "directory for NATS and MinIO state (default $XDG_DATA_HOME/colophon/dev)")
	cmd.Flags().BoolVar(&noWorkers, "no-workers", false, "run only NATS and MinIO; start workers separately with `colophon worker`")
	cmd.Flags().IntVar(&concurrency, "concurrency", runtime.NumCPU(), "pages recognised at once")
	cmd.Flags().DurationVar(&auditEvery, "audit-every", 0, "the metadata worker also audits every document this often (e.g. 24h); 0: never")
	cmd.Flags().DurationVar(&pageTimeout, "page-timeout", ocr.DefaultPageTimeout, "fail a page whose recognition takes longer than this")
	addMetricsFlag(cmd, &metricsAddr)
	return cmd
}

func defaultDataDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "colophon-dev")
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "colophon", "dev")
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
