package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/pipeline"
)

var t0 = time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)

func TestRateAndETA(t *testing.T) {
	tests := []struct {
		name     string
		p        DocProgress
		elapsed  time.Duration
		wantRate float64
		wantETA  time.Duration
		wantOK   bool
	}{
		{"nothing finished yet", DocProgress{Pages: 10}, time.Minute, 0, 0, false},
		{"no time has passed", DocProgress{Pages: 10, Done: 2}, 0, 0, 0, false},
		{"steady", DocProgress{Pages: 10, Done: 4}, 2 * time.Minute, 2, 3 * time.Minute, true},
		{"failed pages count as finished", DocProgress{Pages: 10, Done: 3, Failed: 1}, 2 * time.Minute, 2, 3 * time.Minute, true},
		{"seconds", DocProgress{Pages: 100, Done: 1}, 30 * time.Second, 2, 49*time.Minute + 30*time.Second, true},
		{"pages finished before the watch do not count", DocProgress{Pages: 10, Done: 6, FinishedBefore: 5}, time.Minute, 1, 4 * time.Minute, true},
		{"only old pages", DocProgress{Pages: 10, Done: 5, FinishedBefore: 5}, time.Hour, 0, 0, false},
		{"fewer finished than at the start (reprocess)", DocProgress{Pages: 10, Done: 3, FinishedBefore: 5}, time.Minute, 0, 0, false},
		{"complete", DocProgress{Pages: 4, Done: 4}, time.Minute, 4, 0, true},
		{"complete at the start", DocProgress{Pages: 4, Done: 4, FinishedBefore: 4}, time.Minute, 0, 0, true},
		{"document entry not seen yet", DocProgress{Done: 2}, time.Minute, 2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.Since = t0
			now := t0.Add(tt.elapsed)
			if got := tt.p.Rate(now); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", tt.wantRate) {
				t.Errorf("Rate = %v, want %v", got, tt.wantRate)
			}
			eta, ok := tt.p.ETA(now)
			if ok != tt.wantOK || eta.Round(time.Second) != tt.wantETA {
				t.Errorf("ETA = %v, %v; want %v, %v", eta, ok, tt.wantETA, tt.wantOK)
			}
		})
	}
}

func page(doc string, n int, state pipeline.PageState, errText string) bus.StatusChange {
	return bus.StatusChange{Page: &pipeline.PageStatus{Doc: doc, Page: n, FileName: fmt.Sprintf("p%d.png", n), State: state, Error: errText, Version: 1}}
}

// reviewed is page n of doc done with verdict review for reason ("": verdict ok).
func reviewed(doc string, n int, reason string) bus.StatusChange {
	ch := page(doc, n, pipeline.StateDone, "")
	ch.Page.Verdict, ch.Page.Review = pipeline.VerdictOK, ""
	if reason != "" {
		ch.Page.Verdict, ch.Page.Review = pipeline.VerdictReview, reason
	}
	return ch
}

func document(doc string, pages int) bus.StatusChange {
	return bus.StatusChange{Document: &pipeline.DocumentStatus{Doc: doc, Source: "box 1", Pages: pages}}
}

// TestTrackerEvents follows a bucket's entries: what was there when the watch began makes
// one started event; then every change of state is an event, a repeated entry is none, and
// a document's last page adds a complete event.
func TestTrackerEvents(t *testing.T) {
	tr := newTracker()
	steps := []struct {
		ch   bus.StatusChange
		want string // the events, summarised
	}{
		{document("old", 1), ""},
		{page("old", 1, pipeline.StateDone, ""), ""},
		{document("a", 3), ""},
		{page("a", 1, pipeline.StateDone, ""), ""},
		{page("a", 2, pipeline.StateOCR, ""), ""},
		{bus.StatusChange{CaughtUp: true}, "started[a 1/3 old 1/1]"},
		{page("a", 2, pipeline.StateOCR, ""), ""}, // the same entry again
		{page("a", 2, pipeline.StateMetadata, ""), "page a 2 metadata 1/3"},
		{page("a", 3, pipeline.StateQueued, ""), "page a 3 queued 1/3"},
		{document("b", 1), "document b 0/1"},
		{page("a", 2, pipeline.StateDone, ""), "page a 2 done 2/3"},
		{page("a", 3, pipeline.StateFailed, "page 3 (p3.png): corrupt"), "page a 3 failed 3/3 | complete a 3/3 failures [3] reviews []"},
		{page("a", 3, pipeline.StateFailed, "page 3 (p3.png): corrupt"), ""},
		{page("a", 3, pipeline.StateQueued, ""), "page a 3 queued 2/3"}, // retried: incomplete again
		{reviewed("a", 3, pipeline.ReviewLittleText), "page a 3 done 3/3 | complete a 3/3 failures [] reviews [3]"},
		{reviewed("a", 3, pipeline.ReviewLittleText), ""},
		{page("a", 3, pipeline.StateQueued, ""), "page a 3 queued 2/3"}, // reprocessed: no verdict while read again
		{reviewed("a", 3, ""), "page a 3 done 3/3 | complete a 3/3 failures [] reviews []"},
		{page("b", 1, pipeline.StateDone, ""), "page b 1 done 1/1 | complete b 1/1 failures [] reviews []"},
	}
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Second)
		got := ""
		for j, ev := range tr.apply(s.ch, now) {
			if j > 0 {
				got += " | "
			}
			p := ev.Progress
			switch ev.Kind {
			case WatchStarted:
				got += "started["
				for k, d := range ev.Docs {
					if k > 0 {
						got += " "
					}
					got += fmt.Sprintf("%s %d/%d", d.Doc, d.Finished(), d.Pages)
					if !d.Since.Equal(now) || d.FinishedBefore != d.Finished() {
						t.Errorf("step %d: %s since %v, %d before; want the watch's start and its finished pages", i, d.Doc, d.Since, d.FinishedBefore)
					}
				}
				got += "]"
			case WatchPage:
				got += fmt.Sprintf("page %s %d %s %d/%d", p.Doc, ev.Page.Page, ev.Page.State, p.Finished(), p.Pages)
			case WatchDocument:
				got += fmt.Sprintf("document %s %d/%d", p.Doc, p.Finished(), p.Pages)
			case WatchComplete:
				var pages, reviews []int
				for _, f := range p.Failures {
					pages = append(pages, f.Page)
				}
				for _, r := range p.Reviews {
					reviews = append(reviews, r.Page)
				}
				got += fmt.Sprintf("complete %s %d/%d failures %v reviews %v", p.Doc, p.Finished(), p.Pages, pages, reviews)
			}
		}
		if got != s.want {
			t.Errorf("step %d: events %q, want %q", i, got, s.want)
		}
	}
	// A document first seen after the start is timed from when it appeared.
	if d := tr.docs["b"]; !d.since.Equal(t0.Add(9*time.Second)) || d.before != 0 {
		t.Errorf("b: since %v, %d before", d.since, d.before)
	}
}
