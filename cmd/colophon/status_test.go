package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

// reportOf is a status report of the pages given, counted as client.Status counts them.
func reportOf(pages ...client.PageReport) client.Report {
	r := client.Report{Doc: "d1", Source: "box 1", Pages: len(pages), PageStates: pages}
	for _, p := range pages {
		switch {
		case p.State == pipeline.StateDone:
			r.Done++
		case p.State == pipeline.StateFailed:
			r.Failed++
		default:
			r.InProgress++
		}
		if p.ToReview() {
			r.Review++
		}
	}
	r.Complete = r.InProgress == 0
	return r
}

func TestWriteStatus(t *testing.T) {
	ok := client.PageReport{Page: 1, File: "a.png", State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictOK}
	review := client.PageReport{Page: 2, File: "b.png", State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLittleText}
	failed := client.PageReport{Page: 3, File: "c.png", State: pipeline.StateFailed, Version: 1, Error: "page 3 (c.png): corrupt or truncated image"}
	reread := client.PageReport{Page: 4, File: "d.png", State: pipeline.StateDone, Version: 2, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLowScore + "; " + pipeline.ReviewUnsureOrientation}
	noVerdict := client.PageReport{Page: 1, File: "a.png", State: pipeline.StateDone, Version: 1}
	queued := client.PageReport{Page: 2, File: "b.png", State: pipeline.StateQueued, Version: 1}
	tests := []struct {
		name string
		r    client.Report
		want string
	}{
		{"pages to review", reportOf(ok, review, failed, reread), `document d1 (source "box 1"): 4 page(s), 3 done, 1 failed, 0 in progress, 2 to review
  page 1    done      ok     a.png
  page 2    done      review b.png  review: little text found on a page with ink
  page 3    failed    -      c.png  error: page 3 (c.png): corrupt or truncated image
  page 4    done      review d.png  review: low reading score; orientation unsure
to review:
  page 2 (b.png): little text found on a page with ink
  page 4 (d.png), version 2: low reading score; orientation unsure
`},
		{"no verdicts given: none shown, none to review", reportOf(noVerdict, failed), `document d1 (source "box 1"): 2 page(s), 1 done, 1 failed, 0 in progress, 0 to review
  page 1    done      -      a.png
  page 3    failed    -      c.png  error: page 3 (c.png): corrupt or truncated image
to review: none
`},
		{"still under way", reportOf(ok, queued), `document d1 (source "box 1"): 2 page(s), 1 done, 0 failed, 1 in progress, 0 to review
  page 1    done      ok     a.png
  page 2    queued    -      b.png
to review: none so far
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeStatus(&b, tt.r)
			if got := b.String(); got != tt.want {
				t.Errorf("status text:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestWriteToReview(t *testing.T) {
	review := client.PageReport{Page: 2, File: "b.png", State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLittleText}
	ok := client.PageReport{Page: 1, File: "a.png", State: pipeline.StateDone, Version: 1, Verdict: pipeline.VerdictOK}
	tests := []struct {
		name       string
		r          client.Report
		wantReview string
		wantDone   string
	}{
		{"one to review", reportOf(ok, review),
			"document d1: 1 of 2 page(s) to review (done, but check the text against the scan):\n  page 2 (b.png): little text found on a page with ink\n",
			"document d1: all 2 page(s) done, 1 to review"},
		{"none to review", reportOf(ok), "", "document d1: all 1 page(s) done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			writeToReview(&b, tt.r)
			if b.String() != tt.wantReview {
				t.Errorf("writeToReview:\n%q\nwant\n%q", b.String(), tt.wantReview)
			}
			if got := allDoneLine(tt.r); got != tt.wantDone {
				t.Errorf("allDoneLine = %q, want %q", got, tt.wantDone)
			}
			if err := failedPagesError(tt.r); err != nil {
				t.Errorf("pages to review made an error: %v", err)
			}
			if strings.Contains(b.String(), "failed") {
				t.Errorf("review named as failure: %s", b.String())
			}
		})
	}
}
