package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

func TestPermanent(t *testing.T) {
	base := errors.New("scan is not an image")
	tests := []struct {
		name          string
		err           error
		wantPermanent bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"marked", Permanent(base), true},
		{"marked, then wrapped", fmt.Errorf("decode page 3: %w", Permanent(base)), true},
		{"marked, wrapped twice", fmt.Errorf("job: %w", fmt.Errorf("decode: %w", Permanent(base))), true},
		{"joined with a plain error", errors.Join(io.EOF, Permanent(base)), true},
		{"wrapped without %w", fmt.Errorf("decode: %v", Permanent(base)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPermanent(tt.err); got != tt.wantPermanent {
				t.Fatalf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.wantPermanent)
			}
		})
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	p := Permanent(base)
	if !errors.Is(p, base) || p.Error() != base.Error() {
		t.Errorf("Permanent(err) = %q, must keep err's message and unwrap to it", p)
	}
}

func TestReasonOf(t *testing.T) {
	base := errors.New("scan abc checksum mismatch")
	tests := []struct {
		name string
		err  error
		want pipeline.FailReason
	}{
		{"labelled", Because(pipeline.ReasonChecksum, base), pipeline.ReasonChecksum},
		{"labelled, permanent", Permanent(Because(pipeline.ReasonChecksum, base)), pipeline.ReasonChecksum},
		{"permanent, labelled", Because(pipeline.ReasonBadImage, Permanent(base)), pipeline.ReasonBadImage},
		{"labelled, then wrapped", fmt.Errorf("page 2: %w", Because(pipeline.ReasonTimeout, base)), pipeline.ReasonTimeout},
		{"unlabelled, may pass", fmt.Errorf("store text: gave up after 9 attempts: %w", base), pipeline.ReasonUnavailable},
		{"unlabelled, permanent", Permanent(base), pipeline.ReasonOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReasonOf(tt.err); got != tt.want {
				t.Errorf("ReasonOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
	// The label changes nothing else about the error.
	e := Permanent(Because(pipeline.ReasonChecksum, base))
	if !IsPermanent(Because(pipeline.ReasonChecksum, Permanent(base))) || !errors.Is(e, base) || e.Error() != base.Error() {
		t.Errorf("Because changed the error: %q", e)
	}
	if Because(pipeline.ReasonOther, nil) != nil {
		t.Error("Because(reason, nil) != nil")
	}
}

func TestGiveUp(t *testing.T) {
	transient := errors.New("store unreachable")
	tests := []struct {
		err       error
		delivered uint64
		want      bool
	}{
		{transient, 1, false},
		{transient, pipeline.MaxDeliver - 1, false},
		{transient, pipeline.MaxDeliver, true},
		{transient, pipeline.MaxDeliver + 1, true},
		{Permanent(transient), 1, true},
		{fmt.Errorf("wrapped: %w", Permanent(transient)), 1, true},
		{nil, 1, false},
	}
	for _, tt := range tests {
		if got := GiveUp(tt.err, tt.delivered); got != tt.want {
			t.Errorf("GiveUp(%v, %d) = %v, want %v", tt.err, tt.delivered, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		delivered := uint64(i + 1)
		if got := Backoff(delivered); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", delivered, got, w)
		}
	}
	for _, delivered := range []uint64{0, 100, 1 << 40} {
		if got := Backoff(delivered); got < 2*time.Second || got > 30*time.Second {
			t.Errorf("Backoff(%d) = %v, want within 2s..30s", delivered, got)
		}
	}
}

// ocrConsumer starts a stack with the topology, publishes bodies on SubjectOCR and returns
// the shared OCR consumer.
func ocrConsumer(t *testing.T, bodies ...string) (*Bus, jetstream.Consumer) {
	t.Helper()
	b := startBus(t, true)
	ctx := testCtx(t)
	for i, body := range bodies {
		if dup, err := b.Publish(ctx, pipeline.SubjectOCR, []byte(body), fmt.Sprintf("job-%d", i)); err != nil || dup {
			t.Fatalf("Publish %q: duplicate %v, err %v", body, dup, err)
		}
	}
	cons, err := b.Consumer(ctx, pipeline.StreamOCR, pipeline.ConsumerOCR)
	if err != nil {
		t.Fatal(err)
	}
	return b, cons
}

func TestPullHandlesEachJobOnce(t *testing.T) {
	bodies := []string{"job A", "job B", "job C"}
	b, cons := ocrConsumer(t, bodies...)

	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	var (
		mu      sync.Mutex
		handled = map[string]int{}
		order   []string
	)
	pulled := make(chan struct{})
	go func() {
		defer close(pulled)
		Pull(ctx, cons, 2*time.Second, devstacktest.Logger(t), func(jctx context.Context, msg jetstream.Msg) {
			if jctx.Err() != nil {
				t.Errorf("handler got a done context: %v", jctx.Err())
			}
			if n := Delivered(msg); n != 1 {
				t.Errorf("%q delivered %d times, want 1", msg.Data(), n)
			}
			if err := msg.DoubleAck(jctx); err != nil {
				t.Errorf("ack %q: %v", msg.Data(), err)
			}
			mu.Lock()
			defer mu.Unlock()
			handled[string(msg.Data())]++
			order = append(order, string(msg.Data()))
			if len(order) == len(bodies) {
				cancel()
			}
		})
	}()
	select {
	case <-pulled:
	case <-time.After(15 * time.Second):
		t.Fatal("Pull did not return after its context was cancelled")
	}

	mu.Lock()
	defer mu.Unlock()
	if len(order) != len(bodies) {
		t.Fatalf("handled %q, want each of %q once", order, bodies)
	}
	for i, body := range bodies {
		if handled[body] != 1 {
			t.Errorf("%q handled %d times, want once", body, handled[body])
		}
		if order[i] != body {
			t.Errorf("job %d handled was %q, want %q (stream order)", i, order[i], body)
		}
	}
	// Acknowledged work-queue messages are gone from the stream.
	s, err := b.JS.Stream(testCtx(t), pipeline.StreamOCR)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Errorf("stream still holds %d messages after every job was acked", info.State.Msgs)
	}
}

func TestPullShutdown(t *testing.T) {
	const grace = 300 * time.Millisecond
	tests := []struct {
		name            string
		work            time.Duration // how long the handler works after shutdown starts
		wantRedelivered bool
	}{
		{"job finishing within grace is acked", 100 * time.Millisecond, false},
		{"job outlasting grace is handed back", 10 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cons := ocrConsumer(t, "slow job")
			ctx, cancel := context.WithCancel(testCtx(t))
			defer cancel()

			started := make(chan struct{})
			release := make(chan struct{}) // ends an outlasting handler once the test is done with it
			handlerDone := make(chan struct{})
			var handlerErr error
			pulled := make(chan struct{})
			go func() {
				defer close(pulled)
				Pull(ctx, cons, grace, devstacktest.Logger(t), func(jctx context.Context, msg jetstream.Msg) {
					defer close(handlerDone)
					close(started)
					select {
					case <-time.After(tt.work):
						// The shutdown must not have cancelled the job's own context.
						if jctx.Err() != nil {
							handlerErr = fmt.Errorf("job context done after %v: %w", tt.work, jctx.Err())
							return
						}
						handlerErr = msg.DoubleAck(jctx)
					case <-release:
					}
				})
			}()
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler was never called")
			}
			cancel()
			shutdown := time.Now()
			select {
			case <-pulled:
			case <-time.After(5 * time.Second):
				t.Fatal("Pull did not return after ctx cancel and grace")
			}
			took := time.Since(shutdown)

			if tt.wantRedelivered {
				if took < grace-20*time.Millisecond || took > grace+2*time.Second {
					t.Errorf("Pull returned %v after cancel, want about the grace of %v", took, grace)
				}
			} else {
				<-handlerDone
				if handlerErr != nil {
					t.Fatalf("handler: %v", handlerErr)
				}
				if took > grace {
					t.Errorf("Pull returned %v after cancel, want as soon as the job finished (%v)", took, tt.work)
				}
			}

			// The job is handed back at once (nak), not after AckWait; an acked one is gone.
			wait := 2 * time.Second
			if !tt.wantRedelivered {
				wait = 500 * time.Millisecond
			}
			fctx, fcancel := context.WithTimeout(testCtx(t), wait)
			defer fcancel()
			msg, err := cons.Next(jetstream.FetchContext(fctx))
			if !tt.wantRedelivered {
				if err == nil {
					t.Fatalf("acked job delivered again: %q (delivery %d)", msg.Data(), Delivered(msg))
				}
				if !IsTimeout(err) {
					t.Fatalf("fetch: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("the job was not handed back: fetch: %v", err)
			}
			if string(msg.Data()) != "slow job" || Delivered(msg) != 2 {
				t.Fatalf("fetched %q on delivery %d, want %q on delivery 2", msg.Data(), Delivered(msg), "slow job")
			}
			if err := msg.Ack(); err != nil {
				t.Fatal(err)
			}
			close(release)
			<-handlerDone
		})
	}
}

// An idle Pull is waiting in a fetch of up to 5 s; cancelling must end it at once.
func TestPullIdleReturnsOnCancel(t *testing.T) {
	_, cons := ocrConsumer(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	pulled := make(chan struct{})
	go func() {
		defer close(pulled)
		Pull(ctx, cons, time.Second, devstacktest.Logger(t), func(context.Context, jetstream.Msg) {
			t.Error("handler called on an empty queue")
		})
	}()
	time.Sleep(200 * time.Millisecond) // let it block in the fetch
	cancel()
	start := time.Now()
	select {
	case <-pulled:
		if took := time.Since(start); took > time.Second {
			t.Errorf("idle Pull returned %v after cancel, want at once", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("idle Pull did not return after its context was cancelled")
	}
}

func TestRetryForNATS(t *testing.T) {
	p := DefaultRetry.ForNATS()
	if p.AttemptTimeout != NATSAttemptTimeout || p.Budget != DefaultRetry.Budget {
		t.Errorf("DefaultRetry.ForNATS() = %+v, want the budget kept and attempts of %s", p, NATSAttemptTimeout)
	}
	short := RetryPolicy{Budget: time.Second, AttemptTimeout: time.Second}
	if got := short.ForNATS(); got != short {
		t.Errorf("%+v.ForNATS() = %+v, want it unchanged", short, got)
	}
}
