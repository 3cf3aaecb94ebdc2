package client

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/pipeline"
)

// DocProgress is a document's progress as Watch follows it.
type DocProgress struct {
	Doc    string
	Source string
	Pages  int // from the document's entry; 0 until the watch has seen it
	Done   int
	Failed int
	// Since is when the watch began to follow the document, and FinishedBefore how many of
	// its pages had finished (done or failed) by then: the rate counts only the pages that
	// finish while watched, so a watch started late does not take old work for speed.
	Since          time.Time
	FinishedBefore int
	// Failures are the failed pages, in page order.
	Failures []PageReport
	// Reviews are the done pages whose verdict is review, in page order.
	Reviews []PageReport
}

// Finished is how many pages are done or failed.
func (p DocProgress) Finished() int { return p.Done + p.Failed }

// Complete reports whether every page is done or failed.
func (p DocProgress) Complete() bool { return p.Pages > 0 && p.Finished() >= p.Pages }

// Rate is the pages finished a minute while watched, as of now; 0 until one has finished.
func (p DocProgress) Rate(now time.Time) float64 {
	n, elapsed := p.Finished()-p.FinishedBefore, now.Sub(p.Since)
	if n <= 0 || elapsed <= 0 {
		return 0
	}
	return float64(n) / elapsed.Minutes()
}

// ETA is how long the pages left will take at Rate: 0 for a complete document; ok is false
// while there is no rate to go by.
func (p DocProgress) ETA(now time.Time) (eta time.Duration, ok bool) {
	if p.Complete() {
		return 0, true
	}
	rate := p.Rate(now)
	if rate <= 0 || p.Pages == 0 {
		return 0, false
	}
	return time.Duration(float64(p.Pages-p.Finished()) / rate * float64(time.Minute)), true
}

// Report is the document's progress as a status report, naming only its failed pages and
// its pages to review.
func (p DocProgress) Report() Report {
	r := Report{Doc: p.Doc, Source: p.Source, Pages: p.Pages, Done: p.Done, Failed: p.Failed, Review: len(p.Reviews),
		InProgress: max(0, p.Pages-p.Finished()), Complete: p.Complete(), PageStates: []PageReport{}}
	r.PageStates = append(append(r.PageStates, p.Failures...), p.Reviews...)
	sort.Slice(r.PageStates, func(i, j int) bool { return r.PageStates[i].Page < r.PageStates[j].Page })
	return r
}

// WatchKind says what a WatchEvent is.
type WatchKind string

const (
	// WatchStarted: the state as found when the watch began, in Docs.
	WatchStarted WatchKind = "started"
	// WatchDocument: a document's entry appeared or changed (a new upload).
	WatchDocument WatchKind = "document"
	// WatchPage: a page changed state (or error, or version).
	WatchPage WatchKind = "page"
	// WatchComplete: a document's last page finished; follows that page's event.
	WatchComplete WatchKind = "complete"
)

// WatchEvent is one thing Watch saw.
type WatchEvent struct {
	Kind     WatchKind
	At       time.Time
	Progress DocProgress         // the document's progress after the event (not for WatchStarted)
	Page     pipeline.PageStatus // the page, for WatchPage
	Docs     []DocProgress       // every document found, in ID order, for WatchStarted
}

// Watch follows doc, or every document when doc is "", from the status bucket: fn gets a
// WatchStarted event with the state as found, then an event for each change as it is
// written, one at a time, until ctx ends (the error is then ctx's) or fn returns false.
func (c *Client) Watch(ctx context.Context, doc string, fn func(WatchEvent) bool) error {
	if doc != "" {
		if err := pipeline.ValidateDocID(doc); err != nil {
			return err
		}
	}
	t := newTracker()
	err := c.status.Watch(ctx, doc, func(ch bus.StatusChange) bool {
		for _, ev := range t.apply(ch, time.Now()) {
			if !fn(ev) {
				return false
			}
		}
		return true
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("watch: %w", err)
	}
	return err
}

// tracker turns status entries into events, keeping each document's counts as it goes (a
// document of thousands of pages is not counted again on every change).
type tracker struct {
	caughtUp bool
	docs     map[string]*docTrack
}

type docTrack struct {
	doc      *pipeline.DocumentStatus
	pages    map[int]pipeline.PageStatus
	failed   map[int]bool
	done     int
	since    time.Time
	before   int
	complete bool // as last reported
}

func newTracker() *tracker { return &tracker{docs: map[string]*docTrack{}} }

func (t *tracker) track(doc string, now time.Time) *docTrack {
	d, ok := t.docs[doc]
	if !ok {
		d = &docTrack{pages: map[int]pipeline.PageStatus{}, failed: map[int]bool{}, since: now}
		t.docs[doc] = d
	}
	return d
}

func (d *docTrack) progress(name string) DocProgress {
	p := DocProgress{Doc: name, Done: d.done, Failed: len(d.failed), Since: d.since, FinishedBefore: d.before}
	if d.doc != nil {
		p.Source, p.Pages = d.doc.Source, d.doc.Pages
	}
	for n := range d.failed {
		p.Failures = append(p.Failures, pageReport(d.pages[n]))
	}
	sort.Slice(p.Failures, func(i, j int) bool { return p.Failures[i].Page < p.Failures[j].Page })
	for _, ps := range d.pages {
		if pr := pageReport(ps); pr.ToReview() {
			p.Reviews = append(p.Reviews, pr)
		}
	}
	sort.Slice(p.Reviews, func(i, j int) bool { return p.Reviews[i].Page < p.Reviews[j].Page })
	return p
}

// setPage records a page's entry; changed is false when its state, error, version and
// verdict are as they were.
func (d *docTrack) setPage(p pipeline.PageStatus) (changed bool) {
	old, had := d.pages[p.Page]
	if had && old.State == p.State && old.Error == p.Error && old.Version == p.Version && old.Verdict == p.Verdict && old.Review == p.Review {
		d.pages[p.Page] = p
		return false
	}
	if had && old.State == pipeline.StateDone {
		d.done--
	}
	delete(d.failed, p.Page)
	switch p.State {
	case pipeline.StateDone:
		d.done++
	case pipeline.StateFailed:
		d.failed[p.Page] = true
	}
	d.pages[p.Page] = p
	return true
}

// apply takes one change from the status bucket, seen at now, and returns the events it makes.
func (t *tracker) apply(ch bus.StatusChange, now time.Time) []WatchEvent {
	switch {
	case ch.CaughtUp:
		if t.caughtUp {
			return nil
		}
		t.caughtUp = true
		ev := WatchEvent{Kind: WatchStarted, At: now}
		names := make([]string, 0, len(t.docs))
		for name := range t.docs {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			d := t.docs[name]
			d.since = now
			d.before = d.done + len(d.failed)
			p := d.progress(name)
			d.complete = p.Complete()
			ev.Docs = append(ev.Docs, p)
		}
		return []WatchEvent{ev}
	case ch.Document != nil:
		d := t.track(ch.Document.Doc, now)
		doc := *ch.Document
		d.doc = &doc
		if !t.caughtUp {
			return nil
		}
		return t.after(d, doc.Doc, WatchEvent{Kind: WatchDocument, At: now})
	case ch.Page != nil:
		d := t.track(ch.Page.Doc, now)
		if !d.setPage(*ch.Page) || !t.caughtUp {
			return nil
		}
		return t.after(d, ch.Page.Doc, WatchEvent{Kind: WatchPage, At: now, Page: *ch.Page})
	}
	return nil
}

// after completes ev with the document's progress and adds a WatchComplete event when the
// document has just become complete.
func (t *tracker) after(d *docTrack, name string, ev WatchEvent) []WatchEvent {
	ev.Progress = d.progress(name)
	evs := []WatchEvent{ev}
	complete := ev.Progress.Complete()
	if complete && !d.complete {
		evs = append(evs, WatchEvent{Kind: WatchComplete, At: ev.At, Progress: ev.Progress})
	}
	d.complete = complete
	return evs
}
