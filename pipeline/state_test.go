package pipeline_test

import (
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

func TestPageStateTerminal(t *testing.T) {
	tests := []struct {
		s    pipeline.PageState
		want bool
	}{
		{pipeline.StateQueued, false},
		{pipeline.StateOCR, false},
		{pipeline.StateMetadata, false},
		{pipeline.StateDone, true},
		{pipeline.StateFailed, true},
		{"", false},
		{"DONE", false},
		{"unknown", false},
	}
	for _, tt := range tests {
		if got := tt.s.Terminal(); got != tt.want {
			t.Errorf("PageState(%q).Terminal() = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestPageStateValues(t *testing.T) {
	// The states are stored in KV as strings; renaming one strands every stored page.
	want := map[pipeline.PageState]string{
		pipeline.StateQueued:   "queued",
		pipeline.StateOCR:      "ocr",
		pipeline.StateMetadata: "metadata",
		pipeline.StateDone:     "done",
		pipeline.StateFailed:   "failed",
	}
	if len(want) != 5 {
		t.Fatalf("page states are not distinct: %v", want)
	}
	for s, w := range want {
		if string(s) != w {
			t.Errorf("state %q, want %q", s, w)
		}
	}
}

// TestSettle: the rules every change of a page's entry keeps.
func TestSettle(t *testing.T) {
	done := func(v, served int) pipeline.PageStatus {
		return pipeline.PageStatus{State: pipeline.StateDone, Version: v, Served: served, Verdict: pipeline.VerdictOK}
	}
	at := func(s pipeline.PageState, v, served int) pipeline.PageStatus {
		return pipeline.PageStatus{State: s, Version: v, Served: served, Verdict: pipeline.VerdictOK, Unqueued: true}
	}
	tests := []struct {
		name         string
		was, now     pipeline.PageStatus
		wantServed   int
		wantVerdict  bool
		wantUnqueued bool
		wantServe    int // ServedVersion after
	}{
		{"a new page claimed", pipeline.PageStatus{}, at(pipeline.StateQueued, 1, 0), 0, false, true, 0},
		{"taken by a worker", at(pipeline.StateQueued, 1, 0), at(pipeline.StateOCR, 1, 0), 0, false, false, 0},
		{"done", at(pipeline.StateMetadata, 1, 0), done(1, 0), 1, true, false, 1},
		{"reprocessed", done(1, 1), at(pipeline.StateQueued, 2, 1), 1, false, true, 1},
		{"reprocessed, entry written before Served", done(1, 0), at(pipeline.StateQueued, 2, 0), 1, false, true, 1},
		{"reprocess failed", at(pipeline.StateOCR, 2, 1), at(pipeline.StateFailed, 2, 1), 1, false, false, 1},
		{"reprocess done", at(pipeline.StateMetadata, 2, 1), done(2, 1), 2, true, false, 2},
		{"failed, never done", at(pipeline.StateOCR, 1, 0), at(pipeline.StateFailed, 1, 0), 0, false, false, 0},
		{"retried after a failed reprocess", at(pipeline.StateFailed, 2, 1), at(pipeline.StateQueued, 3, 1), 1, false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.now
			p.Settle(tt.was)
			if p.Served != tt.wantServed || (p.Verdict != "") != tt.wantVerdict || p.Unqueued != tt.wantUnqueued || p.ServedVersion() != tt.wantServe {
				t.Errorf("Settle: served %d, verdict %q, unqueued %v, serves %d; want served %d, verdict %v, unqueued %v, serves %d",
					p.Served, p.Verdict, p.Unqueued, p.ServedVersion(), tt.wantServed, tt.wantVerdict, tt.wantUnqueued, tt.wantServe)
			}
		})
	}
}
