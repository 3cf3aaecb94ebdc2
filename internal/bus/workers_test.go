package bus

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/pipeline"
)

func TestAnnounceAndLiveWorkers(t *testing.T) {
	b := startBus(t, true)
	ctx := testCtx(t)
	log := devstacktest.Logger(t)

	if ws, err := b.LiveWorkers(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("LiveWorkers before any announce = %+v, %v; want none", ws, err)
	}

	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	infos := []WorkerInfo{
		{Kind: pipeline.WorkerOCR, ID: "host-a-101", Concurrency: 2, Started: started},
		{Kind: pipeline.WorkerMetadata, ID: "host-b-202", Concurrency: 1, Started: started},
	}
	cancels := make([]context.CancelFunc, len(infos))
	dones := make([]chan struct{}, len(infos))
	for i, info := range infos {
		actx, cancel := context.WithCancel(ctx)
		cancels[i], dones[i] = cancel, make(chan struct{})
		go func() {
			defer close(dones[i])
			b.Announce(actx, info, log)
		}()
		t.Cleanup(func() { cancel(); <-dones[i] })
	}

	live := func() []WorkerInfo {
		ws, err := b.LiveWorkers(ctx)
		if err != nil {
			t.Fatalf("LiveWorkers: %v", err)
		}
		sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
		return ws
	}
	var ws []WorkerInfo
	if !eventually(5*time.Second, func() bool { ws = live(); return len(ws) == 2 }) {
		t.Fatalf("LiveWorkers = %+v, want both announced workers", ws)
	}
	for i, w := range ws {
		want := infos[i]
		if w.Kind != want.Kind || w.ID != want.ID || w.Concurrency != want.Concurrency || !w.Started.Equal(want.Started) {
			t.Errorf("worker %d = %+v, want %+v", i, w, want)
		}
		if w.Seen.IsZero() || time.Since(w.Seen) > time.Minute {
			t.Errorf("worker %d Seen = %v, want a recent time", i, w.Seen)
		}
	}

	// Stopping one worker removes its entry at once, not after the TTL; the other stays.
	cancels[0]()
	select {
	case <-dones[0]:
	case <-time.After(5 * time.Second):
		t.Fatal("Announce did not return after its context was cancelled")
	}
	ws = live()
	if len(ws) != 1 || ws[0].ID != infos[1].ID {
		t.Fatalf("LiveWorkers after stopping %s = %+v, want only %s", infos[0].ID, ws, infos[1].ID)
	}

	cancels[1]()
	<-dones[1]
	if ws := live(); len(ws) != 0 {
		t.Fatalf("LiveWorkers after stopping every worker = %+v, want none", ws)
	}
}

func TestAnnounceWithoutBucketReturns(t *testing.T) {
	b := startBus(t, false) // no KVWorkers bucket
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Announce(testCtx(t), WorkerInfo{Kind: "ocr", ID: "x"}, devstacktest.Logger(t))
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Announce with no workers bucket did not return")
	}
	if _, err := b.LiveWorkers(testCtx(t)); err == nil {
		t.Fatal("LiveWorkers with no workers bucket = nil error, want one")
	}
}
