package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/pipeline"
)

func newHealthCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "health",
		Short: "Check NATS, S3 and the workers; exit 0 only when all are up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
			defer cancel()
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			ok := true
			line := func(component string, err error, detail string) {
				state := "ok"
				if err != nil {
					state, ok = "FAIL: "+err.Error(), false
				}
				if detail != "" && err == nil {
					state += " (" + detail + ")"
				}
				fmt.Fprintf(g.stdout, "%-17s %s\n", component+":", state)
			}

			store, err := cfg.newStore()
			if err == nil {
				err = store.Ping(ctx)
			}
			if err == nil {
				err = store.CheckBuckets(ctx, pipeline.Buckets...)
			}
			line("s3", err, redactEndpoint(cfg.S3Endpoint))

			var b *bus.Bus
			nopts, err := cfg.natsOptions()
			if err == nil {
				b, err = bus.Connect(ctx, cfg.NATSURL, bus.WithName("colophon-health"), bus.WithLogger(g.log), bus.WithNATSOptions(nopts...))
			}
			if err == nil {
				defer b.Close()
				err = b.CheckTopology(ctx)
			}
			line("nats", err, "JetStream streams and buckets present")
			if b == nil {
				line("ocr workers", errors.New("unknown: NATS unreachable"), "")
				line("metadata workers", errors.New("unknown: NATS unreachable"), "")
				line("ingest workers", errors.New("unknown: NATS unreachable"), "")
			} else {
				workers, err := b.LiveWorkers(ctx)
				for _, kind := range []string{pipeline.WorkerOCR, pipeline.WorkerMetadata, pipeline.WorkerIngest} {
					var ids []string
					for _, w := range workers {
						if w.Kind == kind {
							ids = append(ids, w.ID)
						}
					}
					sort.Strings(ids)
					werr := err
					if werr == nil && len(ids) == 0 {
						werr = errors.New("none alive")
					}
					line(kind+" workers", werr, fmt.Sprintf("%d alive: %s", len(ids), strings.Join(ids, ", ")))
				}
			}
			if !ok {
				return &exitError{code: 1, err: errors.New("unhealthy"), silent: true}
			}
			return nil
		},
	}
}
