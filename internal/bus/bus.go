// Package bus is Colophon's adapter to NATS JetStream: the connection, the streams,
// consumers and key-value buckets of the pipeline contract, and de-duplicated publishing.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// Bus is a connection to NATS with JetStream.
type Bus struct {
	NC *nats.Conn
	JS jetstream.JetStream

	replicas int // of each stream and bucket EnsureTopology makes; see WithReplicas
}

type options struct {
	name     string
	logger   *slog.Logger
	nats     []nats.Option
	replicas int
}

// Option configures Connect.
type Option func(*options)

// WithName names the connection, as the NATS server shows it.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithLogger receives connection events (disconnects, reconnects).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// MaxReplicas is the most copies JetStream keeps of a stream.
const MaxReplicas = 5

// WithReplicas sets how many copies of each stream and key-value bucket EnsureTopology
// asks JetStream to keep: 1 (the default) on a single server, 3 on a cluster of three or
// more, so a node can be lost with nothing lost. Consumers follow their stream.
func WithReplicas(n int) Option { return func(o *options) { o.replicas = n } }

// WithNATSOptions passes options through to nats.Connect: credentials (nats.UserInfo,
// nats.Token, nats.NkeyOptionFromSeed, nats.UserCredentials) and TLS (nats.RootCAs,
// nats.ClientCert). Credentials in the URL work too. Neither the URL's credentials nor
// these options' secrets appear in Connect's errors or in the connection's log lines.
func WithNATSOptions(opts ...nats.Option) Option {
	return func(o *options) { o.nats = append(o.nats, opts...) }
}

// Connect dials url and keeps reconnecting for ever: a worker outlives a NATS restart.
func Connect(ctx context.Context, url string, opts ...Option) (*Bus, error) {
	o := options{name: "colophon", logger: slog.Default(), replicas: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.replicas < 1 || o.replicas > MaxReplicas {
		return nil, fmt.Errorf("replicas %d: want 1 to %d", o.replicas, MaxReplicas)
	}
	log := o.logger
	nopts := []nats.Option{
		nats.Name(o.name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		// Without a handler nats.go prints async errors to stderr itself. A watcher whose
		// server went away reports "consumer not active" every few hundred ms: debug noise.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			lvl := slog.LevelWarn
			if errors.Is(err, nats.ErrConsumerNotActive) {
				lvl = slog.LevelDebug
			}
			log.Log(context.Background(), lvl, "nats async error", "error", err)
		}),
		// Not ConnectedUrlRedacted: it hides a password but not a token given as nats://TOKEN@host.
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", redact(c.ConnectedUrl())) }),
	}
	nopts = append(nopts, o.nats...)

	type result struct {
		nc  *nats.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(url, nopts...)
		ch <- result{nc, err}
	}()
	var nc *nats.Conn
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), r.err)
		}
		nc = r.nc
	case <-ctx.Done():
		return nil, fmt.Errorf("connect to NATS at %s: %w", redact(url), ctx.Err())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream context: %w", err)
	}
	return &Bus{NC: nc, JS: js, replicas: o.replicas}, nil
}

// Close drains nothing: callers stop their consumers first.
func (b *Bus) Close() {
	if b != nil && b.NC != nil {
		b.NC.Close()
	}
}

// EnsureTopology creates or updates the streams, consumers and key-value buckets of the
// pipeline contract. Every process calls it at start, so any of them may be first.
//
// Each stream and bucket gets the Bus's replicas (WithReplicas), or keeps the replicas it
// already has if that is more: a stream made with one copy is scaled up, but a one-off
// command run without the setting never scales a cluster's streams down.
func (b *Bus) EnsureTopology(ctx context.Context) error {
	if err := checkServerVersion(b.NC.ConnectedServerVersion()); err != nil {
		return err
	}
	streams := []jetstream.StreamConfig{
		{
			Name:       pipeline.StreamOCR,
			Subjects:   []string{pipeline.SubjectOCR},
			Retention:  jetstream.WorkQueuePolicy,
			Storage:    jetstream.FileStorage,
			Duplicates: pipeline.DuplicateWindow,
		},
		{
			Name:       pipeline.StreamMetadata,
			Subjects:   []string{pipeline.SubjectMetadata},
			Retention:  jetstream.WorkQueuePolicy,
			Storage:    jetstream.FileStorage,
			Duplicates: pipeline.DuplicateWindow,
		},
		{
			Name:       pipeline.StreamDead,
			Subjects:   []string{pipeline.SubjectDead + ".>"},
			Retention:  jetstream.LimitsPolicy,
			Storage:    jetstream.FileStorage,
			Duplicates: pipeline.DuplicateWindow,
		},
		recordLogConfig,
		{
			// MinIO publishes here (no Nats-Msg-Id: the ingest worker de-duplicates). Kept
			// a week at most, so events published with no ingest worker running do not
			// pile up for ever; they wait for one that long.
			Name:       pipeline.StreamS3Events,
			Subjects:   []string{pipeline.SubjectS3Events},
			Retention:  jetstream.WorkQueuePolicy,
			Storage:    jetstream.FileStorage,
			Duplicates: pipeline.DuplicateWindow,
			MaxAge:     7 * 24 * time.Hour,
		},
	}
	for _, cfg := range streams {
		r, err := b.replicasFor(ctx, cfg.Name)
		if err != nil {
			return err
		}
		cfg.Replicas = r
		if _, err := b.JS.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %s (%d replicas): %w", cfg.Name, r, err)
		}
	}
	consumers := []struct{ stream, name string }{
		{pipeline.StreamOCR, pipeline.ConsumerOCR},
		{pipeline.StreamMetadata, pipeline.ConsumerMetadata},
		{pipeline.StreamS3Events, pipeline.ConsumerIngest},
	}
	for _, c := range consumers {
		// Replicas left 0: the consumer has its stream's, and follows it when it is scaled.
		_, err := b.JS.CreateOrUpdateConsumer(ctx, c.stream, jetstream.ConsumerConfig{
			Durable:       c.name,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       pipeline.AckWait,
			MaxDeliver:    pipeline.MaxDeliver,
			MaxAckPending: 256,
		})
		if err != nil {
			return fmt.Errorf("ensure consumer %s on %s: %w", c.name, c.stream, err)
		}
	}
	kvs := []jetstream.KeyValueConfig{
		{Bucket: pipeline.KVStatus, History: 1, Storage: jetstream.FileStorage},
		{Bucket: pipeline.KVWorkers, History: 1, TTL: pipeline.WorkerTTL, Storage: jetstream.MemoryStorage},
		{Bucket: pipeline.KVIngest, History: 1, Storage: jetstream.FileStorage},
	}
	for _, cfg := range kvs {
		r, err := b.replicasFor(ctx, kvStream(cfg.Bucket))
		if err != nil {
			return err
		}
		cfg.Replicas = r
		if _, err := b.JS.CreateOrUpdateKeyValue(ctx, cfg); err != nil {
			return fmt.Errorf("ensure key-value bucket %s (%d replicas): %w", cfg.Bucket, r, err)
		}
	}
	return nil
}

// replicasFor is the replicas stream should have: the Bus's, or its own if it has more.
func (b *Bus) replicasFor(ctx context.Context, stream string) (int, error) {
	s, err := b.JS.Stream(ctx, stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.replicas, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ensure stream %s: %w", stream, err)
	}
	return max(b.replicas, s.CachedInfo().Config.Replicas), nil
}

// kvStream is the stream that holds a key-value bucket.
func kvStream(bucket string) string { return "KV_" + bucket }

// CheckTopology returns an error naming the first stream or bucket that is missing.
func (b *Bus) CheckTopology(ctx context.Context) error {
	for _, s := range []string{pipeline.StreamOCR, pipeline.StreamMetadata, pipeline.StreamDead, pipeline.StreamRecords, pipeline.StreamS3Events} {
		if _, err := b.JS.Stream(ctx, s); err != nil {
			return fmt.Errorf("stream %s: %w", s, err)
		}
	}
	for _, kv := range []string{pipeline.KVStatus, pipeline.KVWorkers, pipeline.KVIngest} {
		if _, err := b.JS.KeyValue(ctx, kv); err != nil {
			return fmt.Errorf("key-value bucket %s: %w", kv, err)
		}
	}
	return nil
}

// Publish sends data on subject with a Nats-Msg-Id and waits for JetStream to store it.
// duplicate is true when JetStream already had a message with that ID: nothing new was queued.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte, msgID string) (duplicate bool, err error) {
	ack, err := b.JS.Publish(ctx, subject, data, jetstream.WithMsgID(msgID))
	if err != nil {
		return false, fmt.Errorf("publish %s on %s: %w", msgID, subject, err)
	}
	return ack.Duplicate, nil
}

// Consumer returns the durable consumer name on stream.
func (b *Bus) Consumer(ctx context.Context, stream, name string) (jetstream.Consumer, error) {
	c, err := b.JS.Consumer(ctx, stream, name)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", name, stream, err)
	}
	return c, nil
}

// KeyValue opens a key-value bucket.
func (b *Bus) KeyValue(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	kv, err := b.JS.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("key-value bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// IsTimeout reports whether err is a fetch that found no message in time: the normal
// result of polling an empty queue, not a failure.
func IsTimeout(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages)
}

// RedactURL returns a NATS URL (or comma-separated list) with every server's credentials
// hidden, user:password@ and token@ alike: what may be printed or logged.
func RedactURL(raw string) string { return redact(raw) }

// checkServerVersion refuses a NATS server older than 2.11: the record log appends with an
// expected last sequence on a wildcard subject (Nats-Expected-Last-Subject-Sequence-Subject),
// which an older server ignores, and the chain would then break under concurrent appends.
func checkServerVersion(v string) error {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return fmt.Errorf("NATS server version %q: cannot read it", v)
	}
	if major < 2 || major == 2 && minor < 11 {
		return fmt.Errorf("NATS server %s is too old: Colophon's record log needs 2.11 or later", v)
	}
	return nil
}
