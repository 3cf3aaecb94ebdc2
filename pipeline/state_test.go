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
