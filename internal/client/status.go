package client

import (
	"context"
	"fmt"

	"github.com/colophon-archive/colophon/pipeline"
)

// PageReport is one page's state as people and scripts see it.
type PageReport struct {
	Page  int                `json:"page"`
	File  string             `json:"file"`
	State pipeline.PageState `json:"state"`
	Error string             `json:"error"`
	// Version is the page's current version: bumped each time it is recognised again
	// (reprocess, or a retry after a failure); 0 for a page never queued.
	Version int `json:"version"`
	// Verdict is a done page's quality verdict, ok or review (empty: none given); Review is
	// why a person should check the text against the scan.
	Verdict pipeline.Verdict `json:"verdict,omitempty"`
	Review  string           `json:"review,omitempty"`
	// Served is the version whose verified text `get` serves (0: none): Version once it is
	// done, an earlier one while a later version is under way or after it failed.
	Served int `json:"served,omitempty"`
}

// pageReport is a page's entry as reported. A failed version with an earlier one served
// says so in its error, so nobody takes the page for lost; a page claimed by an upload that
// stopped before queueing its job says so too, since nothing will move it.
func pageReport(p pipeline.PageStatus) PageReport {
	r := PageReport{Page: p.Page, File: p.FileName, State: p.State, Error: p.Error, Version: p.Version, Verdict: p.Verdict, Review: p.Review,
		Served: p.ServedVersion()}
	switch {
	case p.State == pipeline.StateFailed && r.Served > 0:
		r.Error = fmt.Sprintf("version %d failed: %s; version %d served", p.Version, p.Error, r.Served)
	case p.State == pipeline.StateQueued && p.Unqueued:
		r.Error = fmt.Sprintf("page %d (%s): claimed by an upload that has not queued its OCR job (it is about to, or it stopped): "+
			"if it stopped, upload the file again with the same --doc", p.Page, p.FileName)
	}
	return r
}

// ToReview reports whether the page is one a person should check: done with verdict review.
func (p PageReport) ToReview() bool {
	return p.State == pipeline.StateDone && p.Verdict == pipeline.VerdictReview
}

// Report is a document's state: the JSON of `colophon status --json`.
type Report struct {
	Doc        string `json:"doc"`
	Source     string `json:"source"`
	Date       string `json:"date,omitempty"`
	Pages      int    `json:"pages"`
	Done       int    `json:"done"`
	Failed     int    `json:"failed"`
	InProgress int    `json:"in_progress"`
	// Review counts the done pages whose verdict is review: done, but to be checked.
	Review     int          `json:"review"`
	Complete   bool         `json:"complete"` // every page done or failed
	PageStates []PageReport `json:"page_states"`
}

// Status reports a document's pages.
func (c *Client) Status(ctx context.Context, doc string) (Report, error) {
	if err := pipeline.ValidateDocID(doc); err != nil {
		return Report{}, err
	}
	d, err := c.status.Document(ctx, doc)
	if err != nil {
		return Report{}, err
	}
	pages, err := c.status.Pages(ctx, doc)
	if err != nil {
		return Report{}, err
	}
	return report(d, pages), nil
}

func report(d pipeline.DocumentStatus, pages []pipeline.PageStatus) Report {
	r := Report{Doc: d.Doc, Source: d.Source, Date: d.Date, Pages: d.Pages, PageStates: []PageReport{}}
	for _, p := range pages {
		pr := pageReport(p)
		r.PageStates = append(r.PageStates, pr)
		if pr.ToReview() {
			r.Review++
		}
		switch p.State {
		case pipeline.StateDone:
			r.Done++
		case pipeline.StateFailed:
			r.Failed++
		default:
			r.InProgress++
		}
	}
	r.Complete = r.InProgress == 0
	return r
}

// ToReview lists the pages to review, in page order.
func (r Report) ToReview() []PageReport {
	var out []PageReport
	for _, p := range r.PageStates {
		if p.ToReview() {
			out = append(out, p)
		}
	}
	return out
}

// Wait follows a document until every page is done or failed, calling progress (if not
// nil) whenever a page changes state, and returns the final report.
func (c *Client) Wait(ctx context.Context, doc string, progress func(Report, pipeline.PageStatus)) (Report, error) {
	d, err := c.status.Document(ctx, doc)
	if err != nil {
		return Report{}, err
	}
	states := map[int]pipeline.PageStatus{}
	var final Report
	current := func() Report {
		pages := make([]pipeline.PageStatus, 0, d.Pages)
		for n := 1; n <= d.Pages; n++ {
			p, ok := states[n]
			if !ok {
				p = pipeline.PageStatus{Doc: doc, Page: n, State: pipeline.StateQueued}
			}
			pages = append(pages, p)
		}
		return report(d, pages)
	}
	err = c.status.WatchPages(ctx, doc, func(p pipeline.PageStatus) bool {
		if old, ok := states[p.Page]; ok && old.State == p.State && old.Error == p.Error {
			return true
		}
		states[p.Page] = p
		r := current()
		if progress != nil {
			progress(r, p)
		}
		if len(states) == d.Pages && r.Complete {
			final = r
			return false
		}
		return true
	})
	if err != nil {
		return current(), fmt.Errorf("wait for %s: %w", doc, err)
	}
	return final, nil
}
