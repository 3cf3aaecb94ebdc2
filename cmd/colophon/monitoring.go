package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/metrics"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/metadata"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// monitor is a process's monitoring endpoints (--metrics-addr): /metrics, /healthz and
// /readyz. A nil monitor (no --metrics-addr) does nothing.
type monitor struct {
	m     *metrics.Metrics
	ready *metrics.Readiness
}

func addMetricsFlag(cmd *cobra.Command, addr *string) {
	cmd.Flags().StringVar(addr, "metrics-addr", "", "serve Prometheus /metrics, /healthz and /readyz on this address (e.g. :9090 or 127.0.0.1:9090)")
}

// startMonitor serves the endpoints on addr until ctx ends; nil when addr is "". It starts
// before the process connects, so /healthz answers (and /readyz says not yet) while a
// worker waits for NATS and S3.
func startMonitor(ctx context.Context, g *globals, addr string) (*monitor, error) {
	if addr == "" {
		return nil, nil
	}
	mo := &monitor{m: metrics.New(), ready: &metrics.Readiness{}}
	a, err := metrics.Serve(ctx, addr, metrics.Handler(mo.m, mo.ready), g.log)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	g.log.Info("serving metrics", "addr", a.String(), "endpoints", "/metrics /healthz /readyz")
	return mo, nil
}

// stageQueues are the stream and consumer each stage's workers take jobs from.
var stageQueues = map[pipeline.Stage]struct{ stream, consumer string }{
	pipeline.StageOCR:      {pipeline.StreamOCR, pipeline.ConsumerOCR},
	pipeline.StageMetadata: {pipeline.StreamMetadata, pipeline.ConsumerMetadata},
	pipeline.StageIngest:   {pipeline.StreamS3Events, pipeline.ConsumerIngest},
}

// connected makes the process ready once it has b and store: /readyz checks that NATS is
// connected, that S3 answers with the pipeline's buckets, and that each stage's consumer
// exists; each scrape reports those stages' queues.
func (mo *monitor) connected(b *bus.Bus, store *objectstore.Store, stages ...pipeline.Stage) {
	if mo == nil {
		return
	}
	natsUp := func() error {
		if !b.NC.IsConnected() {
			return fmt.Errorf("not connected (%s)", b.NC.Status())
		}
		return nil
	}
	checks := []metrics.Check{
		{Name: "nats", Run: func(context.Context) error { return natsUp() }},
		{Name: "s3", Run: func(ctx context.Context) error { return store.CheckBuckets(ctx, pipeline.Buckets...) }},
	}
	for _, stage := range stages {
		q := stageQueues[stage]
		// Asked only while connected: a request to a NATS that is away waits out its context.
		info := func(ctx context.Context) (*jetstream.ConsumerInfo, error) {
			if err := natsUp(); err != nil {
				return nil, errors.New("NATS " + err.Error())
			}
			c, err := b.Consumer(ctx, q.stream, q.consumer)
			if err != nil {
				return nil, err
			}
			return c.CachedInfo(), nil
		}
		checks = append(checks, metrics.Check{Name: "consumer " + q.consumer, Run: func(ctx context.Context) error {
			_, err := info(ctx)
			return err
		}})
		mo.m.WatchQueue(stage, info)
	}
	mo.ready.Set(checks...)
}

// ocrOption has an OCR worker count into the monitor.
func (mo *monitor) ocrOption() ocr.Option {
	if mo == nil {
		return ocr.WithMetrics(nil)
	}
	return ocr.WithMetrics(mo.m.Stage(pipeline.StageOCR))
}

// metadataOption has a metadata worker count into the monitor.
func (mo *monitor) metadataOption() metadata.Option {
	if mo == nil {
		return metadata.WithMetrics(nil)
	}
	return metadata.WithMetrics(mo.m.Stage(pipeline.StageMetadata))
}
