package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

func TestEnsureTopologyIsIdempotent(t *testing.T) {
	stack, _ := devstacktest.StartNATS(t, nil)
	b := connect(t, stack.NATSURL)
	ctx := testCtx(t)

	// On a fresh server nothing exists yet: the first stream is named as missing.
	err := b.CheckTopology(ctx)
	if err == nil {
		t.Fatal("CheckTopology on a fresh server = nil, want an error naming the missing stream")
	}
	if !strings.Contains(err.Error(), pipeline.StreamOCR) {
		t.Fatalf("CheckTopology on a fresh server = %q, want it to name %s", err, pipeline.StreamOCR)
	}

	for i := range 2 {
		if err := b.EnsureTopology(ctx); err != nil {
			t.Fatalf("EnsureTopology call %d: %v", i+1, err)
		}
		if err := b.CheckTopology(ctx); err != nil {
			t.Fatalf("CheckTopology after EnsureTopology call %d: %v", i+1, err)
		}
	}
}

// Every process calls EnsureTopology at start, so several may do so at once.
func TestEnsureTopologyConcurrently(t *testing.T) {
	stack, _ := devstacktest.StartNATS(t, nil)
	ctx := testCtx(t)
	buses := make([]*Bus, 4)
	for i := range buses {
		buses[i] = connect(t, stack.NATSURL)
	}
	errs := make([]error, len(buses))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range buses {
		wg.Go(func() {
			<-start
			errs[i] = b.EnsureTopology(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent EnsureTopology #%d: %v", i, err)
		}
	}
	if err := buses[0].CheckTopology(ctx); err != nil {
		t.Fatalf("CheckTopology after concurrent EnsureTopology: %v", err)
	}
}

func TestCheckTopologyNamesWhatIsMissing(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)
	tests := []struct {
		name   string
		remove func() error
	}{
		{pipeline.StreamOCR, func() error { return b.JS.DeleteStream(ctx, pipeline.StreamOCR) }},
		{pipeline.StreamMetadata, func() error { return b.JS.DeleteStream(ctx, pipeline.StreamMetadata) }},
		{pipeline.StreamDead, func() error { return b.JS.DeleteStream(ctx, pipeline.StreamDead) }},
		{pipeline.KVStatus, func() error { return b.JS.DeleteKeyValue(ctx, pipeline.KVStatus) }},
		{pipeline.KVWorkers, func() error { return b.JS.DeleteKeyValue(ctx, pipeline.KVWorkers) }},
		{pipeline.StreamS3Events, func() error { return b.JS.DeleteStream(ctx, pipeline.StreamS3Events) }},
		{pipeline.KVIngest, func() error { return b.JS.DeleteKeyValue(ctx, pipeline.KVIngest) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.remove(); err != nil {
				t.Fatalf("remove %s: %v", tt.name, err)
			}
			err := b.CheckTopology(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Fatalf("CheckTopology with %s removed = %v, want an error naming it", tt.name, err)
			}
			// EnsureTopology puts it back.
			if err := b.EnsureTopology(ctx); err != nil {
				t.Fatalf("EnsureTopology: %v", err)
			}
			if err := b.CheckTopology(ctx); err != nil {
				t.Fatalf("CheckTopology after EnsureTopology restored %s: %v", tt.name, err)
			}
		})
	}
}

func TestTopologyConfig(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)

	streams := []struct {
		name      string
		subjects  []string
		retention jetstream.RetentionPolicy
	}{
		{pipeline.StreamOCR, []string{pipeline.SubjectOCR}, jetstream.WorkQueuePolicy},
		{pipeline.StreamMetadata, []string{pipeline.SubjectMetadata}, jetstream.WorkQueuePolicy},
		{pipeline.StreamDead, []string{pipeline.SubjectDead + ".>"}, jetstream.LimitsPolicy},
		{pipeline.StreamS3Events, []string{pipeline.SubjectS3Events}, jetstream.WorkQueuePolicy},
	}
	for _, tt := range streams {
		t.Run("stream "+tt.name, func(t *testing.T) {
			s, err := b.JS.Stream(ctx, tt.name)
			if err != nil {
				t.Fatalf("stream %s: %v", tt.name, err)
			}
			cfg := s.CachedInfo().Config
			if cfg.Retention != tt.retention {
				t.Errorf("retention = %v, want %v", cfg.Retention, tt.retention)
			}
			if cfg.Duplicates != pipeline.DuplicateWindow {
				t.Errorf("duplicates window = %v, want %v", cfg.Duplicates, pipeline.DuplicateWindow)
			}
			if cfg.Storage != jetstream.FileStorage {
				t.Errorf("storage = %v, want file", cfg.Storage)
			}
			if fmt.Sprint(cfg.Subjects) != fmt.Sprint(tt.subjects) {
				t.Errorf("subjects = %v, want %v", cfg.Subjects, tt.subjects)
			}
		})
	}

	consumers := []struct{ stream, name string }{
		{pipeline.StreamOCR, pipeline.ConsumerOCR},
		{pipeline.StreamMetadata, pipeline.ConsumerMetadata},
		{pipeline.StreamS3Events, pipeline.ConsumerIngest},
	}
	for _, tt := range consumers {
		t.Run("consumer "+tt.name, func(t *testing.T) {
			c, err := b.Consumer(ctx, tt.stream, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			cfg := c.CachedInfo().Config
			if cfg.Durable != tt.name || cfg.AckPolicy != jetstream.AckExplicitPolicy ||
				cfg.AckWait != pipeline.AckWait || cfg.MaxDeliver != pipeline.MaxDeliver {
				t.Errorf("consumer config: durable %q ack %v wait %v max deliver %d; want %q explicit %v %d",
					cfg.Durable, cfg.AckPolicy, cfg.AckWait, cfg.MaxDeliver, tt.name, pipeline.AckWait, pipeline.MaxDeliver)
			}
		})
	}

	kvs := []struct {
		bucket  string
		history int64
		ttl     time.Duration
	}{
		{pipeline.KVStatus, 1, 0},
		{pipeline.KVWorkers, 1, pipeline.WorkerTTL},
		{pipeline.KVIngest, 1, 0},
	}
	for _, tt := range kvs {
		t.Run("kv "+tt.bucket, func(t *testing.T) {
			kv, err := b.KeyValue(ctx, tt.bucket)
			if err != nil {
				t.Fatal(err)
			}
			st, err := kv.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.History() != tt.history || st.TTL() != tt.ttl {
				t.Errorf("history %d TTL %v, want %d %v", st.History(), st.TTL(), tt.history, tt.ttl)
			}
		})
	}
}

func TestPublishDeduplicatesByMsgID(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)
	steps := []struct {
		msgID         string
		data          string
		wantDuplicate bool
	}{
		{"ocr.doc-1.0001.v1.aaaa", "first", false},
		{"ocr.doc-1.0001.v1.aaaa", "first again", true}, // a retried publish
		{"ocr.doc-1.0002.v1.bbbb", "second", false},
		{"ocr.doc-1.0001.v1.aaaa", "first, third time", true},
	}
	for i, st := range steps {
		dup, err := b.Publish(ctx, pipeline.SubjectOCR, []byte(st.data), st.msgID)
		if err != nil {
			t.Fatalf("step %d: Publish(%s): %v", i, st.msgID, err)
		}
		if dup != st.wantDuplicate {
			t.Fatalf("step %d: Publish(%s) duplicate = %v, want %v", i, st.msgID, dup, st.wantDuplicate)
		}
	}
	s, err := b.JS.Stream(ctx, pipeline.StreamOCR)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2 (one per distinct message ID)", info.State.Msgs)
	}
	// The stored copy of the duplicated ID is the first one published.
	m, err := s.GetMsg(ctx, info.State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != "first" {
		t.Fatalf("first stored message = %q, want %q", m.Data, "first")
	}
}

func TestPublishWithoutTopologyFails(t *testing.T) {
	b := startBus(t, false)
	ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer cancel()
	if _, err := b.Publish(ctx, pipeline.SubjectOCR, []byte("x"), "id-1"); err == nil {
		t.Fatal("Publish with no stream for the subject = nil error, want one")
	}
}

func TestConnectFailureHidesCredentials(t *testing.T) {
	port := devstacktest.FreePort(t) // nothing listens there
	tests := []struct {
		url    string
		secret string
	}{
		{fmt.Sprintf("nats://user:s3cret@127.0.0.1:%d", port), "s3cret"},
		{fmt.Sprintf("nats://t0ken@127.0.0.1:%d", port), "t0ken"},
		{fmt.Sprintf("nats://127.0.0.1:%d,nats://user:s3cret@127.0.0.1:%d", port, port), "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			b, err := Connect(ctx, tt.url, WithLogger(devstacktest.Logger(t)))
			if err == nil {
				b.Close()
				t.Fatal("Connect to a closed port = nil error, want one")
			}
			if time.Since(start) > 6*time.Second {
				t.Errorf("Connect took %v, past its context", time.Since(start))
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("Connect error %q leaks %q", err, tt.secret)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(port)) {
				t.Errorf("Connect error %q does not say where it tried", err)
			}
		})
	}
}

func TestIsTimeout(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{fmt.Errorf("fetch: %w", context.DeadlineExceeded), true},
		{jetstream.ErrNoMessages, true},
		{errors.New("boom"), false},
		{context.Canceled, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsTimeout(tt.err); got != tt.want {
			t.Errorf("IsTimeout(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
