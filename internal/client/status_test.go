package client

import (
	"reflect"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

// TestReportReview: a done page with verdict review is done and counted to review; ok and
// no verdict are done only; the pages to review come in page order.
func TestReportReview(t *testing.T) {
	ps := func(n int, state pipeline.PageState, verdict pipeline.Verdict, review string) pipeline.PageStatus {
		return pipeline.PageStatus{Doc: "d1", Page: n, FileName: "p.png", State: state, Version: 1, Verdict: verdict, Review: review}
	}
	tests := []struct {
		name                        string
		pages                       []pipeline.PageStatus
		wantDone, wantFailed, wantR int
		wantToReview                []int
	}{
		{"no verdicts (before the OCR worker gives them)", []pipeline.PageStatus{ps(1, pipeline.StateDone, "", ""), ps(2, pipeline.StateOCR, "", "")}, 1, 0, 0, nil},
		{"ok and review", []pipeline.PageStatus{
			ps(1, pipeline.StateDone, pipeline.VerdictOK, ""),
			ps(2, pipeline.StateDone, pipeline.VerdictReview, pipeline.ReviewLittleText),
			ps(3, pipeline.StateFailed, "", ""),
			ps(4, pipeline.StateDone, pipeline.VerdictReview, pipeline.ReviewLowScore),
		}, 3, 1, 2, []int{2, 4}},
		{"a review verdict on a page not done is not one to review", []pipeline.PageStatus{ps(1, pipeline.StateQueued, pipeline.VerdictReview, "stale")}, 0, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report(pipeline.DocumentStatus{Doc: "d1", Pages: len(tt.pages)}, tt.pages)
			if r.Done != tt.wantDone || r.Failed != tt.wantFailed || r.Review != tt.wantR {
				t.Errorf("done %d failed %d review %d, want %d %d %d", r.Done, r.Failed, r.Review, tt.wantDone, tt.wantFailed, tt.wantR)
			}
			var got []int
			for _, p := range r.ToReview() {
				got = append(got, p.Page)
				if p.Review == "" {
					t.Errorf("page %d to review has no reason", p.Page)
				}
			}
			if !reflect.DeepEqual(got, tt.wantToReview) {
				t.Errorf("ToReview pages %v, want %v", got, tt.wantToReview)
			}
			for i, p := range r.PageStates {
				if p.Verdict != tt.pages[i].Verdict || p.Review != tt.pages[i].Review {
					t.Errorf("page %d reported verdict %q review %q, want %q %q", p.Page, p.Verdict, p.Review, tt.pages[i].Verdict, tt.pages[i].Review)
				}
			}
		})
	}
}

// TestProgressReport: watch's report of a document names its failed pages and its pages to
// review, in page order, with the review count.
func TestProgressReport(t *testing.T) {
	p := DocProgress{Doc: "d1", Pages: 4, Done: 3, Failed: 1,
		Failures: []PageReport{{Page: 3, State: pipeline.StateFailed, Error: "corrupt"}},
		Reviews: []PageReport{{Page: 2, State: pipeline.StateDone, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLowScore},
			{Page: 4, State: pipeline.StateDone, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLittleText}}}
	r := p.Report()
	var pages []int
	for _, ps := range r.PageStates {
		pages = append(pages, ps.Page)
	}
	if !reflect.DeepEqual(pages, []int{2, 3, 4}) || r.Review != 2 || r.Failed != 1 || !r.Complete {
		t.Errorf("report pages %v, review %d, failed %d, complete %v; want [2 3 4], 2, 1, true", pages, r.Review, r.Failed, r.Complete)
	}
	if got := len(r.ToReview()); got != 2 {
		t.Errorf("ToReview has %d pages, want 2", got)
	}
}

// TestPageReportNotes: a failed version with an earlier one served, and a page claimed with
// no job queued, say so in their error; other pages report theirs as is.
func TestPageReportNotes(t *testing.T) {
	tests := []struct {
		name       string
		p          pipeline.PageStatus
		wantServed int
		wantError  string
	}{
		{"done", pipeline.PageStatus{Page: 1, FileName: "a.png", State: pipeline.StateDone, Version: 2, Served: 2}, 2, ""},
		{"failed, never done", pipeline.PageStatus{Page: 1, FileName: "a.png", State: pipeline.StateFailed, Version: 1, Error: "page 1 (a.png): torn"}, 0, "page 1 (a.png): torn"},
		{"reprocess failed", pipeline.PageStatus{Page: 1, FileName: "a.png", State: pipeline.StateFailed, Version: 2, Served: 1, Error: "page 1 (a.png): torn"}, 1,
			"version 2 failed: page 1 (a.png): torn; version 1 served"},
		{"reprocess under way", pipeline.PageStatus{Page: 1, FileName: "a.png", State: pipeline.StateOCR, Version: 2, Served: 1}, 1, ""},
		{"queued", pipeline.PageStatus{Page: 3, FileName: "c.png", State: pipeline.StateQueued, Version: 1}, 0, ""},
		{"claimed, no job", pipeline.PageStatus{Page: 3, FileName: "c.png", State: pipeline.StateQueued, Version: 1, Unqueued: true}, 0,
			"page 3 (c.png): claimed by an upload that has not queued its OCR job"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := pageReport(tt.p)
			if r.Served != tt.wantServed || !strings.HasPrefix(r.Error, tt.wantError) || (tt.wantError == "") != (r.Error == "") {
				t.Errorf("pageReport: served %d, error %q; want served %d, error starting %q", r.Served, r.Error, tt.wantServed, tt.wantError)
			}
		})
	}
}
