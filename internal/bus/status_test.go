package bus

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

// openStatus starts a stack with the topology and opens the status bucket.
func openStatus(t *testing.T) (*Status, context.Context) {
	t.Helper()
	b := startBus(t, true)
	ctx := testCtx(t)
	s, err := b.OpenStatus(ctx)
	if err != nil {
		t.Fatalf("OpenStatus: %v", err)
	}
	return s, ctx
}

// revision is the KV revision of a page's entry (0 when it has none).
func revision(t *testing.T, ctx context.Context, s *Status, doc string, page int) uint64 {
	t.Helper()
	_, rev, _, err := s.page(ctx, doc, page)
	if err != nil {
		t.Fatalf("read %s page %d: %v", doc, page, err)
	}
	return rev
}

func TestDocumentRoundTrip(t *testing.T) {
	s, ctx := openStatus(t)
	want := pipeline.DocumentStatus{
		Doc:       "doc-20260101-abcdef0123",
		Source:    "Archiv Köln — Box 3",
		Date:      "1923-04",
		Pages:     3,
		Languages: []string{"deu", "fra"},
		Created:   time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
	}
	if err := s.PutDocument(ctx, want); err != nil {
		t.Fatalf("PutDocument: %v", err)
	}
	got, err := s.Document(ctx, want.Doc)
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Document = %+v, want %+v", got, want)
	}

	// A second put replaces the entry.
	want.Pages = 4
	if err := s.PutDocument(ctx, want); err != nil {
		t.Fatalf("PutDocument again: %v", err)
	}
	if got, err := s.Document(ctx, want.Doc); err != nil || got.Pages != 4 {
		t.Fatalf("Document after second put = %+v, %v; want Pages 4", got, err)
	}

	for _, doc := range []string{"doc-unknown", "doc-20260101-abcdef012"} { // the second is a prefix of a real ID
		_, err := s.Document(ctx, doc)
		if !errors.Is(err, ErrNoDocument) {
			t.Errorf("Document(%s) = %v, want errors.Is(err, ErrNoDocument)", doc, err)
		}
	}
	if _, err := s.Pages(ctx, "doc-unknown"); !errors.Is(err, ErrNoDocument) {
		t.Errorf("Pages(doc-unknown) = %v, want errors.Is(err, ErrNoDocument)", err)
	}
}

func TestUpdatePageCreatesThenUpdates(t *testing.T) {
	s, ctx := openStatus(t)
	const doc = "doc-a"

	if _, found, err := s.Page(ctx, doc, 1); err != nil || found {
		t.Fatalf("Page before any update: found %v, err %v; want not found", found, err)
	}

	var sawFound []bool
	steps := []struct {
		state   pipeline.PageState
		version int
	}{
		{pipeline.StateQueued, 1},
		{pipeline.StateOCR, 1},
		{pipeline.StateMetadata, 1},
	}
	var lastRev uint64
	for i, st := range steps {
		before := time.Now().UTC()
		got, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, found bool) error {
			sawFound = append(sawFound, found)
			if found && p.State != steps[i-1].state {
				t.Errorf("step %d: mutate saw state %q, want the previous step's %q", i, p.State, steps[i-1].state)
			}
			p.State, p.Version = st.state, st.version
			if !found {
				p.FileName, p.ScanSHA256 = "lettre-été.png", "abc123"
			}
			return nil
		})
		if err != nil {
			t.Fatalf("step %d: UpdatePage: %v", i, err)
		}
		if got.Doc != doc || got.Page != 1 || got.State != st.state || got.Updated.Before(before.Add(-time.Second)) {
			t.Fatalf("step %d: UpdatePage returned %+v", i, got)
		}
		stored, found, err := s.Page(ctx, doc, 1)
		if err != nil || !found {
			t.Fatalf("step %d: Page: found %v, err %v", i, found, err)
		}
		if stored.State != st.state || stored.FileName != "lettre-été.png" || stored.ScanSHA256 != "abc123" {
			t.Fatalf("step %d: stored %+v; want state %s and the fields set on create kept", i, stored, st.state)
		}
		rev := revision(t, ctx, s, doc, 1)
		if rev <= lastRev {
			t.Fatalf("step %d: revision %d did not advance past %d", i, rev, lastRev)
		}
		lastRev = rev
	}
	if want := []bool{false, true, true}; !reflect.DeepEqual(sawFound, want) {
		t.Fatalf("mutate saw found = %v, want %v", sawFound, want)
	}
}

func TestUpdatePageMutatorErrors(t *testing.T) {
	s, ctx := openStatus(t)
	const doc = "doc-b"
	if _, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
		p.State, p.Version = pipeline.StateOCR, 2
		return nil
	}); err != nil {
		t.Fatalf("UpdatePage: %v", err)
	}
	stored, _, _ := s.Page(ctx, doc, 1)
	rev := revision(t, ctx, s, doc, 1)

	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		page    int
		mutErr  error
		wantErr error // nil: UpdatePage returns nil
	}{
		{"ErrUnchanged on an existing entry", 1, ErrUnchanged, nil},
		{"wrapped ErrUnchanged", 1, errors.Join(errors.New("nothing to do"), ErrUnchanged), nil},
		{"other error on an existing entry", 1, errBoom, errBoom},
		{"ErrUnchanged with no entry", 2, ErrUnchanged, nil},
		{"other error with no entry", 2, errBoom, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.UpdatePage(ctx, doc, tt.page, func(p *pipeline.PageStatus, _ bool) error {
				p.State, p.Error = pipeline.StateFailed, "must not be written"
				return tt.mutErr
			})
			if tt.wantErr == nil && err != nil {
				t.Fatalf("UpdatePage = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("UpdatePage = %v, want %v", err, tt.wantErr)
			}
			if tt.page == 1 {
				if tt.wantErr == nil && !reflect.DeepEqual(got, stored) {
					t.Errorf("UpdatePage returned %+v, want the entry as read %+v", got, stored)
				}
				if r := revision(t, ctx, s, doc, 1); r != rev {
					t.Errorf("revision = %d, want %d: the entry was written", r, rev)
				}
				if now, _, _ := s.Page(ctx, doc, 1); !reflect.DeepEqual(now, stored) {
					t.Errorf("entry = %+v, want it unchanged %+v", now, stored)
				}
			} else if _, found, _ := s.Page(ctx, doc, tt.page); found {
				t.Errorf("page %d has an entry; nothing should have been created", tt.page)
			}
		})
	}
}

// Several writers on one page must not lose updates: UpdatePage is compare-and-set with retries.
func TestUpdatePageConcurrentIncrements(t *testing.T) {
	s, ctx := openStatus(t)
	const (
		doc        = "doc-c"
		goroutines = 8
		increments = 25
	)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*increments)
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			for range increments {
				if _, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
					p.Version++
					return nil
				}); err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("UpdatePage: %v", err)
	}
	p, found, err := s.Page(ctx, doc, 1)
	if err != nil || !found {
		t.Fatalf("Page: found %v, err %v", found, err)
	}
	if p.Version != goroutines*increments {
		t.Fatalf("Version = %d after %d×%d increments: updates were lost", p.Version, goroutines, increments)
	}
}

func TestFailPage(t *testing.T) {
	s, ctx := openStatus(t)
	const reason = "page 1 (x.png): tesseract crashed"
	tests := []struct {
		name      string
		existing  *pipeline.PageStatus // nil: no entry
		version   int                  // FailPage's version
		wantState pipeline.PageState
		wantVer   int
		wantError string
		unchanged bool
	}{
		{"done page of the same version stays done", &pipeline.PageStatus{State: pipeline.StateDone, Version: 1}, 1, pipeline.StateDone, 1, "", true},
		{"done page of a later version stays done", &pipeline.PageStatus{State: pipeline.StateDone, Version: 2}, 1, pipeline.StateDone, 2, "", true},
		{"queued page of a later version stays queued", &pipeline.PageStatus{State: pipeline.StateQueued, Version: 2}, 1, pipeline.StateQueued, 2, "", true},
		{"queued page is failed", &pipeline.PageStatus{State: pipeline.StateQueued, Version: 1}, 1, pipeline.StateFailed, 1, reason, false},
		{"page in ocr is failed", &pipeline.PageStatus{State: pipeline.StateOCR, Version: 1}, 1, pipeline.StateFailed, 1, reason, false},
		{"done page of an earlier version is failed", &pipeline.PageStatus{State: pipeline.StateDone, Version: 1}, 2, pipeline.StateFailed, 2, reason, false},
		{"page with no entry is failed", nil, 1, pipeline.StateFailed, 1, reason, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "doc-fail-" + string(rune('a'+i))
			if tt.existing != nil {
				if _, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
					*p = *tt.existing
					p.FileName = "x.png"
					return nil
				}); err != nil {
					t.Fatalf("seed: %v", err)
				}
			}
			rev := revision(t, ctx, s, doc, 1)
			if err := s.FailPage(ctx, doc, 1, tt.version, reason); err != nil {
				t.Fatalf("FailPage: %v", err)
			}
			p, found, err := s.Page(ctx, doc, 1)
			if err != nil || !found {
				t.Fatalf("Page: found %v, err %v", found, err)
			}
			if p.State != tt.wantState || p.Version != tt.wantVer || p.Error != tt.wantError {
				t.Fatalf("after FailPage: state %q version %d error %q; want %q %d %q",
					p.State, p.Version, p.Error, tt.wantState, tt.wantVer, tt.wantError)
			}
			if tt.existing != nil && p.FileName != "x.png" {
				t.Errorf("FailPage lost the file name: %+v", p)
			}
			if r := revision(t, ctx, s, doc, 1); tt.unchanged && r != rev {
				t.Errorf("revision %d → %d: FailPage wrote an entry it should have left alone", rev, r)
			}
		})
	}
}

// TestVerdictOnlyOnDonePages: a done page keeps the verdict it was given; a page that
// moves to any other state (failed, queued again, taken by a worker) loses it.
func TestVerdictOnlyOnDonePages(t *testing.T) {
	s, ctx := openStatus(t)
	const why = pipeline.ReviewLittleText
	tests := []struct {
		name        string
		move        func(doc string) error // what happens to the done page
		wantState   pipeline.PageState
		wantVerdict pipeline.Verdict
		wantReview  string
	}{
		{"done stays done", func(string) error { return nil }, pipeline.StateDone, pipeline.VerdictReview, why},
		{"a later reading replaces it", func(doc string) error {
			_, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
				p.Version, p.Verdict, p.Review = 2, pipeline.VerdictOK, ""
				return nil
			})
			return err
		}, pipeline.StateDone, pipeline.VerdictOK, ""},
		{"failed", func(doc string) error { return s.FailPage(ctx, doc, 1, 2, "page 1 (x.png): tesseract crashed") }, pipeline.StateFailed, "", ""},
		{"queued again", func(doc string) error {
			_, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
				p.State, p.Version = pipeline.StateQueued, 2
				return nil
			})
			return err
		}, pipeline.StateQueued, "", ""},
		{"taken by the OCR worker", func(doc string) error {
			_, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
				p.State, p.Version = pipeline.StateOCR, 2
				return nil
			})
			return err
		}, pipeline.StateOCR, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "doc-verdict-" + string(rune('a'+i))
			if _, err := s.UpdatePage(ctx, doc, 1, func(p *pipeline.PageStatus, _ bool) error {
				p.State, p.Version, p.FileName, p.Verdict, p.Review = pipeline.StateDone, 1, "x.png", pipeline.VerdictReview, why
				return nil
			}); err != nil {
				t.Fatalf("seed: %v", err)
			}
			if err := tt.move(doc); err != nil {
				t.Fatal(err)
			}
			p, _, err := s.Page(ctx, doc, 1)
			if err != nil {
				t.Fatal(err)
			}
			if p.State != tt.wantState || p.Verdict != tt.wantVerdict || p.Review != tt.wantReview {
				t.Errorf("page is %s, verdict %q, review %q; want %s, %q, %q", p.State, p.Verdict, p.Review, tt.wantState, tt.wantVerdict, tt.wantReview)
			}
		})
	}
}

func TestPagesInOrderWithMissingPageFailed(t *testing.T) {
	s, ctx := openStatus(t)
	const doc = "doc-p"
	if err := s.PutDocument(ctx, pipeline.DocumentStatus{Doc: doc, Pages: 4}); err != nil {
		t.Fatal(err)
	}
	// Written out of order; page 2 never gets an entry.
	states := map[int]pipeline.PageState{4: pipeline.StateQueued, 3: pipeline.StateOCR, 1: pipeline.StateDone}
	for _, n := range []int{4, 3, 1} {
		if _, err := s.UpdatePage(ctx, doc, n, func(p *pipeline.PageStatus, _ bool) error {
			p.State, p.Version = states[n], 1
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Another document whose ID extends this one's must not leak in.
	if _, err := s.UpdatePage(ctx, doc+"x", 2, func(p *pipeline.PageStatus, _ bool) error {
		p.State = pipeline.StateDone
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	pages, err := s.Pages(ctx, doc)
	if err != nil {
		t.Fatalf("Pages: %v", err)
	}
	if len(pages) != 4 {
		t.Fatalf("Pages returned %d entries, want 4: %+v", len(pages), pages)
	}
	for i, p := range pages {
		if p.Page != i+1 || p.Doc != doc {
			t.Fatalf("entry %d is %s page %d, want %s page %d", i, p.Doc, p.Page, doc, i+1)
		}
	}
	if pages[1].State != pipeline.StateFailed || pages[1].Error == "" {
		t.Errorf("page 2 has no entry: got %+v, want a failed entry with a reason", pages[1])
	}
	for _, n := range []int{1, 3, 4} {
		if pages[n-1].State != states[n] {
			t.Errorf("page %d state = %q, want %q", n, pages[n-1].State, states[n])
		}
	}
}

func TestWatchPagesSeesLaterUpdates(t *testing.T) {
	s, ctx := openStatus(t)
	const doc = "doc-w"
	set := func(d string, page, version int, state pipeline.PageState) {
		t.Helper()
		if _, err := s.UpdatePage(ctx, d, page, func(p *pipeline.PageStatus, _ bool) error {
			p.State, p.Version = state, version
			return nil
		}); err != nil {
			t.Fatalf("UpdatePage(%s, %d): %v", d, page, err)
		}
	}
	set(doc, 1, 1, pipeline.StateQueued) // before the watch: arrives as an initial value

	var (
		mu   sync.Mutex
		seen []pipeline.PageStatus
	)
	started := make(chan struct{})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.WatchPages(wctx, doc, func(p pipeline.PageStatus) bool {
			mu.Lock()
			seen = append(seen, p)
			mu.Unlock()
			if p.Page == 1 && p.State == pipeline.StateQueued {
				close(started) // the watch is running: what follows happens after it started
			}
			return !(p.Page == 2 && p.State == pipeline.StateDone)
		})
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("WatchPages returned before delivering the initial value: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("WatchPages did not deliver the existing entry")
	}

	set(doc+"x", 1, 1, pipeline.StateDone) // another document: must not be seen
	set(doc, 1, 1, pipeline.StateOCR)
	set(doc, 2, 1, pipeline.StateDone) // ends the watch

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("WatchPages = %v, want nil once fn returned false", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchPages did not see the updates made after it started")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		page  int
		state pipeline.PageState
	}{{1, pipeline.StateQueued}, {1, pipeline.StateOCR}, {2, pipeline.StateDone}}
	if len(seen) != len(want) {
		t.Fatalf("WatchPages saw %+v, want %v", seen, want)
	}
	for i, w := range want {
		if seen[i].Doc != doc || seen[i].Page != w.page || seen[i].State != w.state {
			t.Fatalf("update %d = %s page %d %s, want %s page %d %s", i, seen[i].Doc, seen[i].Page, seen[i].State, doc, w.page, w.state)
		}
	}
}

func TestWatchPagesEndsWithContext(t *testing.T) {
	s, ctx := openStatus(t)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.WatchPages(wctx, "doc-idle", func(pipeline.PageStatus) bool { return true }) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WatchPages after cancel = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchPages did not return after its context was cancelled")
	}
}
