package bus

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestHandleExhausted: a job whose every delivery ends without an answer (its workers
// crashed) is caught from JetStream's max-deliveries advisory: the page is failed with the
// reason, the job dead-lettered once and removed from the work queue. A consumer of its own
// with a short ack wait and two deliveries stands in for the pipeline's (30 s, 5).
func TestHandleExhausted(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)
	const stream, consumer = "TEST_EXHAUSTED", "crashy"
	if _, err := b.JS.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{"test.exhausted"}, Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	cons, err := b.JS.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: consumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 300 * time.Millisecond, MaxDeliver: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.OpenStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdatePage(ctx, "doomed", 3, func(p *pipeline.PageStatus, _ bool) error {
		p.State, p.Version, p.FileName = pipeline.StateOCR, 1, "scan-3.png"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	job := pipeline.OCRJob{Doc: "doomed", Page: 3, Version: 1, FileName: "scan-3.png"}
	data, _ := json.Marshal(job)
	if _, err := b.Publish(ctx, "test.exhausted", data, "doomed-3"); err != nil {
		t.Fatal(err)
	}
	// Two workers (two handlers, as every worker of a stage runs one) watch for exhaustion.
	hctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var counted atomic.Int32
	for range 2 {
		if err := b.HandleExhausted(hctx, stream, consumer, pipeline.StageOCR, st, func() { counted.Add(1) }, devstacktest.Logger(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Deliver it twice and never answer: a worker that dies each time.
	for range 2 {
		if _, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// A pull consumer redelivers, and so notices the limit, when a worker asks for work: as
	// the surviving workers do.
	go func() { _, _ = cons.Next(jetstream.FetchMaxWait(3 * time.Second)) }()
	ok := eventually(10*time.Second, func() bool {
		p, _, err := st.Page(ctx, "doomed", 3)
		return err == nil && p.State == pipeline.StateFailed
	})
	p, _, _ := st.Page(ctx, "doomed", 3)
	if !ok || !strings.Contains(p.Error, "page 3 (scan-3.png)") || !strings.Contains(p.Error, "gave up after 2 deliveries") {
		t.Fatalf("page after exhaustion: %s %q", p.State, p.Error)
	}
	s, err := b.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if !eventually(5*time.Second, func() bool { info, err := s.Info(ctx); return err == nil && info.State.Msgs == 0 }) {
		t.Error("the exhausted job is still in the work queue")
	}
	dead, err := b.JS.Stream(ctx, pipeline.StreamDead)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let a second handler's copy arrive, if it were to
	info, err := dead.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("dead-letter stream holds %d jobs, want 1", info.State.Msgs)
	}
	if n := counted.Load(); n != 1 {
		t.Errorf("onFailed called %d times by two handlers, want once", n)
	}
	m, err := dead.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	var dl pipeline.DeadLetter
	if err := json.Unmarshal(m.Data, &dl); err != nil || dl.Doc != "doomed" || dl.Page != 3 || dl.Deliveries != 2 || dl.Job != string(data) {
		t.Errorf("dead letter = %+v (%v)", dl, err)
	}
}
