package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestDuringElection(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"no responders", live, fmt.Errorf("read record log of d: %w", nats.ErrNoResponders), true},
		{"no stream response", live, jetstream.ErrNoStreamResponse, true},
		{"request timed out", live, nats.ErrTimeout, true},
		{"attempt ran out of time, caller still waiting", live, context.DeadlineExceeded, true},
		{"caller ran out of time", timedOut, context.DeadlineExceeded, false},
		{"caller gave up", ended, context.Canceled, false},
		{"stream not found", live, jetstream.ErrStreamNotFound, false},
		{"unreadable entry", live, errors.New("record log entry 3 is unreadable"), false},
	}
	for _, tt := range tests {
		if got := duringElection(tt.ctx, tt.err); got != tt.want {
			t.Errorf("%s: duringElection = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRideOutElection(t *testing.T) {
	defer func(g time.Duration) { electionGrace = g }(electionGrace)
	electionGrace = 2 * time.Second
	other := errors.New("stream not found")
	tests := []struct {
		name      string
		errs      []error // what each attempt returns; past the end, the last again
		wantErr   error
		wantTries int
	}{
		{"answered at once", []error{nil}, nil, 1},
		{"answered once a leader is elected", []error{nats.ErrNoResponders, nats.ErrNoResponders, nil}, nil, 3},
		{"another error is not waited out", []error{other}, other, 1},
		{"an election that outlasts the grace", []error{nats.ErrNoResponders}, nats.ErrNoResponders, 4}, // 0.25+0.5+1 s, then 2 s would pass it
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			err := rideOutElection(context.Background(), func(context.Context) error {
				e := tt.errs[min(tries, len(tt.errs)-1)]
				tries++
				return e
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || tries != tt.wantTries {
				t.Errorf("err %v after %d tries, want %v after %d", err, tries, tt.wantErr, tt.wantTries)
			}
		})
	}
}

// A record-log read against a server whose JetStream does not answer (here: none at all,
// as while a cluster elects its leaders) keeps trying for the grace, then says why.
func TestRecordLogReadsWaitOutNoResponders(t *testing.T) {
	defer func(g time.Duration) { electionGrace = g }(electionGrace)
	electionGrace = 1500 * time.Millisecond
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(5 * time.Second) {
		t.Fatal("NATS server not ready")
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bus{NC: nc, JS: js}
	for _, read := range []struct {
		name string
		f    func(context.Context) error
	}{
		{"RecordEntries", func(ctx context.Context) error { _, err := b.RecordEntries(ctx, "d"); return err }},
		{"RecordDocs", func(ctx context.Context) error { _, err := b.RecordDocs(ctx); return err }},
		{"RecordEntry", func(ctx context.Context) error { _, _, err := b.RecordEntry(ctx, "d", 1, 1); return err }},
	} {
		start := time.Now()
		err := read.f(testCtx(t))
		took := time.Since(start)
		if !errors.Is(err, nats.ErrNoResponders) || took < 700*time.Millisecond || took > 5*time.Second {
			t.Errorf("%s: %v after %s; want no responders, after waiting about the grace (1.5 s)", read.name, err, took.Round(time.Millisecond))
		}
	}
}
