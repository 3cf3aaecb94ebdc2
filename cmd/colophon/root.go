package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// Environment variables every command reads.
const (
	envNATSURL    = "COLOPHON_NATS_URL"
	envS3Endpoint = "COLOPHON_S3_ENDPOINT"
	envAccessKey  = "COLOPHON_S3_ACCESS_KEY"
	envSecretKey  = "COLOPHON_S3_SECRET_KEY"

	defaultNATSURL    = "nats://127.0.0.1:4222"
	defaultS3Endpoint = "http://127.0.0.1:9000"
)

// globals holds what every command shares: flags, output streams and the logger.
type globals struct {
	stdout, stderr io.Writer
	logFormat      string
	logLevel       string
	log            *slog.Logger
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "colophon",
		Short: "Turn scanned pages into searchable text that carries proof of where it came from",
		Long: `Colophon stores scans in S3 (MinIO), recognises them with Tesseract through NATS JetStream
workers, and records each text's provenance so whoever retrieves it can verify it.

Configuration comes from the environment:
  COLOPHON_NATS_URL       NATS server (default ` + defaultNATSURL + `)
  COLOPHON_S3_ENDPOINT    S3 endpoint (default ` + defaultS3Endpoint + `)
  COLOPHON_S3_ACCESS_KEY  S3 access key
  COLOPHON_S3_SECRET_KEY  S3 secret key`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newLogger(g.stderr, g.logFormat, g.logLevel)
			if err != nil {
				return err
			}
			g.log = l
			slog.SetDefault(l)
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (text on a terminal, JSON otherwise), text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(
		newDevCmd(g),
		newWorkerCmd(g),
		newHealthCmd(g),
		newUploadCmd(g),
		newStatusCmd(g),
		newGetCmd(g),
		newProvenanceCmd(g),
		newReprocessCmd(g),
		newSampleCmd(g),
		newSoakCmd(g),
	)
	return root
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "auto":
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want auto, text or json", format)
}

// config is where the deployment is and how to sign in to it.
type config struct {
	NATSURL    string
	S3Endpoint string
	AccessKey  string
	SecretKey  string
}

// loadConfig reads the environment. Keys are required: only `dev` has defaults.
func loadConfig() (config, error) {
	c := config{
		NATSURL:    envOr(envNATSURL, defaultNATSURL),
		S3Endpoint: envOr(envS3Endpoint, defaultS3Endpoint),
		AccessKey:  os.Getenv(envAccessKey),
		SecretKey:  os.Getenv(envSecretKey),
	}
	var missing []string
	if c.AccessKey == "" {
		missing = append(missing, envAccessKey)
	}
	if c.SecretKey == "" {
		missing = append(missing, envSecretKey)
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%s not set: the S3 credentials (for the dev stack, see README: Configuration)", strings.Join(missing, " and "))
	}
	return c, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// connect opens the bus and the store, and checks the topology exists. With wait, it keeps
// trying until the services answer (workers started before NATS or MinIO); otherwise it
// fails after a few seconds with what did not answer.
func connect(ctx context.Context, g *globals, cfg config, name string, wait bool) (*bus.Bus, *objectstore.Store, error) {
	store, err := objectstore.New(cfg.S3Endpoint, cfg.AccessKey, cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		b, err := tryConnect(ctx, g, cfg, name, store)
		if err == nil {
			return b, store, nil
		}
		if !wait || ctx.Err() != nil {
			return nil, nil, err
		}
		delay := min(time.Duration(attempt)*time.Second, 10*time.Second)
		g.log.Warn("waiting for NATS and S3", "attempt", attempt, "error", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

func tryConnect(ctx context.Context, g *globals, cfg config, name string, store *objectstore.Store) (*bus.Bus, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := bus.Connect(cctx, cfg.NATSURL, bus.WithName(name), bus.WithLogger(g.log))
	if err != nil {
		return nil, err
	}
	if err := b.EnsureTopology(cctx); err != nil {
		b.Close()
		return nil, err
	}
	if err := store.EnsureBuckets(cctx, pipeline.Buckets...); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// openClient connects for a one-shot command.
func openClient(ctx context.Context, g *globals) (*client.Client, func(), error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	b, store, err := connect(ctx, g, cfg, "colophon-cli", false)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(ctx, b, store)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return c, b.Close, nil
}

// isNoDocument reports a missing document, which commands turn into a plain message.
func isNoDocument(err error) bool { return errors.Is(err, bus.ErrNoDocument) }
