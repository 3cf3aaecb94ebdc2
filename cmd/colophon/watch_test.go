package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

var watchT0 = time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)

func TestWatchLine(t *testing.T) {
	prog := func(pages, done, failed int) client.DocProgress {
		return client.DocProgress{Doc: "d1", Source: "Tenants' Union, box 12", Pages: pages, Done: done, Failed: failed, Since: watchT0}
	}
	pg := func(n int, file string, state pipeline.PageState, errText string) pipeline.PageStatus {
		return pipeline.PageStatus{Doc: "d1", Page: n, FileName: file, State: state, Error: errText, Version: 1}
	}
	failedAt2 := prog(3, 2, 1)
	failedAt2.Failures = []client.PageReport{{Page: 2, File: "b.png", State: pipeline.StateFailed}}
	toReview := prog(5, 4, 1)
	toReview.Failures = []client.PageReport{{Page: 2, File: "b.png", State: pipeline.StateFailed}}
	toReview.Reviews = []client.PageReport{{Page: 3, File: "c.png", State: pipeline.StateDone, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLittleText},
		{Page: 5, File: "e.png", State: pipeline.StateDone, Verdict: pipeline.VerdictReview, Review: pipeline.ReviewLowScore}}
	judged := func(p pipeline.PageStatus, v pipeline.Verdict, review string) pipeline.PageStatus {
		p.Verdict, p.Review = v, review
		return p
	}
	tests := []struct {
		name string
		ev   client.WatchEvent
		want string
	}{
		{"page done, with rate and time left",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(2 * time.Minute), Progress: prog(10, 4, 0), Page: pg(4, "scan 4.png", pipeline.StateDone, "")},
			`doc=d1 event=page page=4 file="scan 4.png" state=done version=1 done=4 failed=0 pages=10 pages_per_min=2.0 eta=3m0s`},
		{"nothing finished yet: no rate, no time left",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(time.Second), Progress: prog(10, 0, 0), Page: pg(1, "a.png", pipeline.StateOCR, "")},
			`doc=d1 event=page page=1 file=a.png state=ocr version=1 done=0 failed=0 pages=10`},
		{"page failed: the reason, quoted",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(30 * time.Second), Progress: prog(3, 0, 1), Page: pg(2, "b.png", pipeline.StateFailed, `page 2 (b.png): corrupt or truncated image: "IDAT" cut short`)},
			`doc=d1 event=page page=2 file=b.png state=failed version=1 done=0 failed=1 pages=3 pages_per_min=2.0 eta=1m0s error="page 2 (b.png): corrupt or truncated image: \"IDAT\" cut short"`},
		{"last page: no time left shown",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(time.Minute), Progress: prog(2, 2, 0), Page: pg(2, "b.png", pipeline.StateDone, "")},
			`doc=d1 event=page page=2 file=b.png state=done version=1 done=2 failed=0 pages=2 pages_per_min=2.0`},
		{"complete, with its failed pages",
			client.WatchEvent{Kind: client.WatchComplete, At: watchT0.Add(90 * time.Second), Progress: failedAt2},
			`doc=d1 event=complete pages=3 done=2 failed=1 review=0 elapsed=1m30s pages_per_min=2.0 failed_pages=2`},
		{"page done, verdict ok",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(time.Minute), Progress: prog(2, 2, 0), Page: judged(pg(2, "b.png", pipeline.StateDone, ""), pipeline.VerdictOK, "")},
			`doc=d1 event=page page=2 file=b.png state=done version=1 done=2 failed=0 pages=2 pages_per_min=2.0 verdict=ok`},
		{"page done, verdict review: the reason, quoted",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(2 * time.Minute), Progress: prog(10, 4, 0), Page: judged(pg(4, "scan 4.png", pipeline.StateDone, ""), pipeline.VerdictReview, pipeline.ReviewLittleText+"; "+pipeline.ReviewUnsureScale)},
			`doc=d1 event=page page=4 file="scan 4.png" state=done version=1 done=4 failed=0 pages=10 pages_per_min=2.0 eta=3m0s verdict=review review="little text found on a page with ink; text size unsure"`},
		{"page not done: no verdict shown, whatever the entry holds",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(time.Second), Progress: prog(10, 0, 0), Page: judged(pg(1, "a.png", pipeline.StateOCR, ""), pipeline.VerdictReview, "stale")},
			`doc=d1 event=page page=1 file=a.png state=ocr version=1 done=0 failed=0 pages=10`},
		{"complete, with its failed pages and its pages to review",
			client.WatchEvent{Kind: client.WatchComplete, At: watchT0.Add(150 * time.Second), Progress: toReview},
			`doc=d1 event=complete pages=5 done=4 failed=1 review=2 elapsed=2m30s pages_per_min=2.0 failed_pages=2 review_pages=3,5`},
		{"complete before the watch began",
			client.WatchEvent{Kind: client.WatchComplete, At: watchT0, Progress: client.DocProgress{Doc: "d1", Pages: 2, Done: 2, FinishedBefore: 2, Since: watchT0}},
			`doc=d1 event=complete pages=2 done=2 failed=0 review=0 elapsed=0s`},
		{"the state as found",
			client.WatchEvent{Kind: client.WatchStarted, At: watchT0, Progress: prog(3, 1, 0)},
			`doc=d1 event=watching pages=3 done=1 failed=0 in_progress=2`},
		{"not uploaded yet",
			client.WatchEvent{Kind: client.WatchStarted, At: watchT0, Progress: client.DocProgress{Doc: "d1"}},
			`doc=d1 event=waiting reason="no such document yet"`},
		{"a new document",
			client.WatchEvent{Kind: client.WatchDocument, At: watchT0, Progress: prog(2, 0, 0)},
			`doc=d1 event=document pages=2 source="Tenants' Union, box 12"`},
		{"a page left, moments away: never eta=0s",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(100 * time.Millisecond), Progress: prog(2, 0, 1), Page: pg(2, "b.png", pipeline.StateFailed, "")},
			`doc=d1 event=page page=2 file=b.png state=failed version=1 done=0 failed=1 pages=2 pages_per_min=600.0 eta=1s`},
		{"hours",
			client.WatchEvent{Kind: client.WatchPage, At: watchT0.Add(10 * time.Minute), Progress: prog(1000, 10, 0), Page: pg(10, "p.tif", pipeline.StateDone, "")},
			`doc=d1 event=page page=10 file=p.tif state=done version=1 done=10 failed=0 pages=1000 pages_per_min=1.0 eta=16h30m0s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := watchLine(tt.ev); got != tt.want {
				t.Errorf("watchLine:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLogfmtValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"scan-3.png", "scan-3.png"},
		{"", `""`},
		{"a b", `"a b"`},
		{"k=v", `"k=v"`},
		{`say "hi"`, `"say \"hi\""`},
		{"two\nlines", `"two\nlines"`},
		{"été.png", "été.png"},
	}
	for _, tt := range tests {
		if got := logfmtValue(tt.in); got != tt.want {
			t.Errorf("logfmtValue(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestBarDescription(t *testing.T) {
	tests := []struct {
		p    client.DocProgress
		at   time.Duration
		want string
	}{
		{client.DocProgress{Pages: 10}, time.Minute, "d1"},
		{client.DocProgress{Pages: 10, Done: 4}, 2 * time.Minute, "d1  2.0 pages/min  ETA 3m0s"},
		{client.DocProgress{Pages: 10, Done: 3, Failed: 1}, 2 * time.Minute, "d1  2.0 pages/min  ETA 3m0s  1 failed"},
		{client.DocProgress{Pages: 4, Done: 4}, 2 * time.Minute, "d1  2.0 pages/min"},
		{client.DocProgress{Pages: 4, Done: 3, Failed: 1, Reviews: []client.PageReport{{Page: 2}, {Page: 3}}}, 2 * time.Minute, "d1  2.0 pages/min  1 failed  2 to review"},
	}
	for _, tt := range tests {
		tt.p.Since = watchT0
		if got := barDescription("d1", tt.p, watchT0.Add(tt.at)); got != tt.want {
			t.Errorf("barDescription(%+v) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestWatcherOutcome: what watch prints and how it ends, from a run of events.
func TestWatcherOutcome(t *testing.T) {
	at := func(s int) time.Time { return watchT0.Add(time.Duration(s) * time.Second) }
	doc := func(name string, pages, done, failed int, since time.Time) client.DocProgress {
		p := client.DocProgress{Doc: name, Pages: pages, Done: done, Failed: failed, Since: since}
		if failed > 0 {
			p.Failures = []client.PageReport{{Page: pages, File: "torn.png", State: pipeline.StateFailed, Error: "corrupt"}}
		}
		return p
	}
	page := func(n int, s pipeline.PageState) pipeline.PageStatus {
		return pipeline.PageStatus{Page: n, FileName: "p.png", State: s, Version: 1}
	}
	tests := []struct {
		name        string
		doc         string
		untilIdle   bool
		events      []client.WatchEvent
		interrupted bool
		wantLines   []string // each a prefix of its line
		wantCode    int      // -1: no error
		wantErr     string
	}{
		{"DOC done", "a", false, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("a", 2, 0, 0, at(0))}},
			{Kind: client.WatchPage, At: at(30), Progress: doc("a", 2, 1, 0, at(0)), Page: page(1, pipeline.StateDone)},
			{Kind: client.WatchPage, At: at(60), Progress: doc("a", 2, 2, 0, at(0)), Page: page(2, pipeline.StateDone)},
			{Kind: client.WatchComplete, At: at(60), Progress: doc("a", 2, 2, 0, at(0))},
		}, false, []string{"doc=a event=watching pages=2", "doc=a event=page page=1", "doc=a event=page page=2", "doc=a event=complete pages=2 done=2 failed=0"}, -1, ""},
		{"DOC with a failed page", "a", false, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: nil},
			{Kind: client.WatchDocument, At: at(1), Progress: doc("a", 2, 0, 0, at(1))},
			{Kind: client.WatchPage, At: at(30), Progress: doc("a", 2, 1, 1, at(1)), Page: page(2, pipeline.StateFailed)},
			{Kind: client.WatchComplete, At: at(30), Progress: doc("a", 2, 1, 1, at(1))},
		}, false, []string{"doc=a event=waiting", "doc=a event=document", "doc=a event=page page=2", "doc=a event=complete pages=2 done=1 failed=1"}, 1, "page 2 (torn.png): corrupt"},
		{"DOC complete before the watch", "a", false, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("a", 1, 1, 0, at(0))}},
		}, false, []string{"doc=a event=watching", "doc=a event=complete"}, -1, ""},
		{"DOC interrupted", "a", false, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("a", 2, 0, 0, at(0))}},
		}, true, []string{"doc=a event=watching"}, exitInterrupted, "interrupted before document a was complete"},
		{"every document, until interrupted", "", false, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("old", 1, 1, 0, at(0))}},
			{Kind: client.WatchDocument, At: at(1), Progress: doc("b", 1, 0, 0, at(1))},
			{Kind: client.WatchPage, At: at(30), Progress: doc("b", 1, 0, 1, at(1)), Page: page(1, pipeline.StateFailed)},
			{Kind: client.WatchComplete, At: at(30), Progress: doc("b", 1, 0, 1, at(1))},
		}, true, []string{"event=watching documents=1 incomplete=0", "doc=b event=document", "doc=b event=page", "doc=b event=complete"}, -1, ""},
		{"until idle: nothing to wait for", "", true, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("old", 1, 0, 1, at(0))}},
		}, false, []string{"event=watching documents=1 incomplete=0"}, -1, ""},
		{"until idle: a document finishes with a failed page", "", true, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("a", 2, 1, 0, at(0)), doc("old", 1, 1, 0, at(0))}},
			{Kind: client.WatchPage, At: at(30), Progress: doc("a", 2, 1, 1, at(0)), Page: page(2, pipeline.StateFailed)},
			{Kind: client.WatchComplete, At: at(30), Progress: doc("a", 2, 1, 1, at(0))},
		}, false, []string{"event=watching documents=2 incomplete=1", "doc=a event=watching", "doc=a event=page", "doc=a event=complete"}, 1, "document a: 1 of 2 page(s) failed"},
		{"until idle, interrupted", "", true, []client.WatchEvent{
			{Kind: client.WatchStarted, At: at(0), Docs: []client.DocProgress{doc("a", 2, 1, 0, at(0))}},
		}, true, []string{"event=watching documents=1 incomplete=1", "doc=a event=watching"}, exitInterrupted, "interrupted before every document was idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := &watcher{doc: tt.doc, untilIdle: tt.untilIdle, out: newWatchOutput(&out), followed: map[string]client.DocProgress{}}
			stopped := false
			for i, ev := range tt.events {
				if stopped {
					t.Fatalf("event %d given after the watcher asked to stop", i)
				}
				stopped = !w.handle(ev)
			}
			if want := !tt.interrupted; stopped != want {
				t.Errorf("watcher stopped: %v, want %v", stopped, want)
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(tt.wantLines) {
				t.Fatalf("printed %d lines, want %d:\n%s", len(lines), len(tt.wantLines), out.String())
			}
			for i, want := range tt.wantLines {
				if !strings.HasPrefix(lines[i], want) {
					t.Errorf("line %d = %q, want it to begin %q", i+1, lines[i], want)
				}
			}
			err := w.result(tt.interrupted)
			code := -1
			if err != nil {
				code = 1
				var ee *exitError
				if errors.As(err, &ee) {
					code = ee.code
				}
			}
			if code != tt.wantCode || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("result: %v (exit %d), want exit %d with %q", err, code, tt.wantCode, tt.wantErr)
			}
		})
	}
}
