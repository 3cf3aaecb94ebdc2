package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/pipeline"
)

// Status reads and writes document and page states in the KVStatus bucket.
type Status struct {
	kv jetstream.KeyValue
}

// OpenStatus opens the status bucket.
func (b *Bus) OpenStatus(ctx context.Context) (*Status, error) {
	kv, err := b.KeyValue(ctx, pipeline.KVStatus)
	if err != nil {
		return nil, err
	}
	return &Status{kv: kv}, nil
}

// ErrNoDocument is returned (wrapped) when a document has no status entry.
var ErrNoDocument = errors.New("no such document")

// Document reads a document's entry.
func (s *Status) Document(ctx context.Context, doc string) (pipeline.DocumentStatus, error) {
	var d pipeline.DocumentStatus
	e, err := s.kv.Get(ctx, doc)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return d, fmt.Errorf("document %s: %w", doc, ErrNoDocument)
	}
	if err != nil {
		return d, fmt.Errorf("read status of %s: %w", doc, err)
	}
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return d, fmt.Errorf("decode status of %s: %w", doc, err)
	}
	return d, nil
}

// DocumentRevision reads a document's entry with its revision in the bucket (0 with
// ErrNoDocument when it has none): a later write changes the revision.
func (s *Status) DocumentRevision(ctx context.Context, doc string) (pipeline.DocumentStatus, uint64, error) {
	var d pipeline.DocumentStatus
	e, err := s.kv.Get(ctx, doc)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return d, 0, fmt.Errorf("document %s: %w", doc, ErrNoDocument)
	}
	if err != nil {
		return d, 0, fmt.Errorf("read status of %s: %w", doc, err)
	}
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return d, 0, fmt.Errorf("decode status of %s: %w", doc, err)
	}
	return d, e.Revision(), nil
}

// UpdateDocument is UpdatePage for a document's entry: mutate sees the entry as read (zero
// value with found=false when absent) and its revision, and the change is written only if
// nobody wrote in between, else read and mutated again. Pages are numbered from the entry
// (ingest appends pages), so two writers must never both take the same page count.
// mutate returning ErrUnchanged writes nothing; UpdateDocument returns the entry as read.
// It returns the entry and the revision written.
func (s *Status) UpdateDocument(ctx context.Context, doc string, mutate func(d *pipeline.DocumentStatus, rev uint64, found bool) error) (pipeline.DocumentStatus, uint64, error) {
	for attempt := 0; ; attempt++ {
		d, rev, err := s.DocumentRevision(ctx, doc)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNoDocument) {
			return d, 0, err
		}
		before := d
		if err := mutate(&d, rev, found); err != nil {
			if errors.Is(err, ErrUnchanged) {
				return before, rev, nil
			}
			return d, 0, err
		}
		d.Doc = doc
		b, err := pipeline.Encode(d)
		if err != nil {
			return d, 0, err
		}
		var wrote uint64
		if found {
			wrote, err = s.kv.Update(ctx, doc, b, rev)
		} else {
			wrote, err = s.kv.Create(ctx, doc, b)
		}
		if err == nil {
			return d, wrote, nil
		}
		if !isConflict(err) || attempt >= 50 {
			return d, 0, fmt.Errorf("write status of %s: %w", doc, err)
		}
		select {
		case <-ctx.Done():
			return d, 0, fmt.Errorf("write status of %s: %w", doc, ctx.Err())
		case <-time.After(time.Duration(attempt%10+1) * 5 * time.Millisecond):
		}
	}
}

// PutDocument writes a document's entry.
func (s *Status) PutDocument(ctx context.Context, d pipeline.DocumentStatus) error {
	b, err := pipeline.Encode(d)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, d.Doc, b); err != nil {
		return fmt.Errorf("write status of %s: %w", d.Doc, err)
	}
	return nil
}

// Page reads a page's entry; found is false when it has none.
func (s *Status) Page(ctx context.Context, doc string, page int) (p pipeline.PageStatus, found bool, err error) {
	p, _, found, err = s.page(ctx, doc, page)
	return p, found, err
}

func (s *Status) page(ctx context.Context, doc string, page int) (pipeline.PageStatus, uint64, bool, error) {
	var p pipeline.PageStatus
	key := pipeline.StatusPageKey(doc, page)
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return p, 0, false, nil
	}
	if err != nil {
		return p, 0, false, fmt.Errorf("read status of %s page %d: %w", doc, page, err)
	}
	if err := json.Unmarshal(e.Value(), &p); err != nil {
		return p, 0, false, fmt.Errorf("decode status of %s page %d: %w", doc, page, err)
	}
	return p, e.Revision(), true, nil
}

// ErrUnchanged, returned by an UpdatePage mutator, leaves the entry as it is.
var ErrUnchanged = errors.New("status unchanged")

// UpdatePage reads a page's entry (zero value with found=false when absent), lets mutate
// change it, and writes it back only if nobody else wrote in between, retrying otherwise.
// Compare-and-set matters because upload and both workers touch the same page.
// If mutate returns ErrUnchanged nothing is written and UpdatePage returns the entry as read
// with a nil error; any other error from mutate is returned as is.
// Every writer that moves a page on (upload, reprocess, a worker taking a newer version, a
// failure) goes through here, so the rules of pipeline.PageStatus.Settle hold for all of them.
func (s *Status) UpdatePage(ctx context.Context, doc string, page int, mutate func(p *pipeline.PageStatus, found bool) error) (pipeline.PageStatus, error) {
	key := pipeline.StatusPageKey(doc, page)
	for attempt := 0; ; attempt++ {
		p, rev, found, err := s.page(ctx, doc, page)
		if err != nil {
			return p, err
		}
		before := p
		if err := mutate(&p, found); err != nil {
			if errors.Is(err, ErrUnchanged) {
				return before, nil
			}
			return p, err
		}
		p.Doc, p.Page, p.Updated = doc, page, time.Now().UTC()
		p.Settle(before)
		b, err := pipeline.Encode(p)
		if err != nil {
			return p, err
		}
		if found {
			_, err = s.kv.Update(ctx, key, b, rev)
		} else {
			_, err = s.kv.Create(ctx, key, b)
		}
		if err == nil {
			return p, nil
		}
		if !isConflict(err) || attempt >= 20 {
			return p, fmt.Errorf("write status of %s page %d: %w", doc, page, err)
		}
		// Someone else wrote first: read again and reapply.
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("write status of %s page %d: %w", doc, page, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

// isConflict reports a lost compare-and-set: Update's revision was stale (ErrKeyRevisionMismatch
// covers the single-node and the replicated error codes) or Create found the key already there.
func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// Pages reads every page entry of a document, in page order.
func (s *Status) Pages(ctx context.Context, doc string) ([]pipeline.PageStatus, error) {
	d, err := s.Document(ctx, doc)
	if err != nil {
		return nil, err
	}
	pages := make([]pipeline.PageStatus, 0, d.Pages)
	for n := 1; n <= d.Pages; n++ {
		p, found, err := s.Page(ctx, doc, n)
		if err != nil {
			return nil, err
		}
		if !found {
			// Upload writes the document's entry first and then each page's, so a
			// page with no entry is one whose upload was interrupted.
			p = pipeline.PageStatus{Doc: doc, Page: n, State: pipeline.StateFailed, Error: "page was never queued (upload interrupted?)"}
		}
		pages = append(pages, p)
	}
	sort.Slice(pages, func(i, j int) bool { return pages[i].Page < pages[j].Page })
	return pages, nil
}

// WatchPages calls fn with every change to a document's pages until ctx ends or fn returns false.
func (s *Status) WatchPages(ctx context.Context, doc string, fn func(pipeline.PageStatus) bool) error {
	return s.Watch(ctx, doc, func(c StatusChange) bool {
		if c.Page == nil {
			return true // the document's own entry, or the end of those already written
		}
		return fn(*c.Page)
	})
}

// StatusChange is one entry of the status bucket as Watch gives it: a document's entry or a
// page's, or neither on the call that marks the end of the entries that were already there.
type StatusChange struct {
	Document *pipeline.DocumentStatus
	Page     *pipeline.PageStatus
	// CaughtUp: every entry written before the watch began has been given.
	CaughtUp bool
}

// Watch calls fn with the entries of doc (its own and its pages'), or of every document when
// doc is "": first those already written, then one call with CaughtUp, then each entry as it
// is written, until ctx ends or fn returns false. Entries that do not decode are skipped.
func (s *Status) Watch(ctx context.Context, doc string, fn func(StatusChange) bool) error {
	var (
		w   jetstream.KeyWatcher
		err error
	)
	what := "every document"
	if doc == "" {
		w, err = s.kv.WatchAll(ctx)
	} else {
		what = doc
		w, err = s.kv.WatchFiltered(ctx, []string{doc, pipeline.StatusPagesFilter(doc)})
	}
	if err != nil {
		return fmt.Errorf("watch status of %s: %w", what, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watch status of %s: watcher closed", what)
			}
			var c StatusChange
			switch {
			case e == nil:
				c.CaughtUp = true
			case e.Operation() != jetstream.KeyValuePut:
				continue
			case strings.Contains(e.Key(), "."): // a page: "<doc>.0001"; IDs have no dots
				var p pipeline.PageStatus
				if json.Unmarshal(e.Value(), &p) != nil || p.Doc == "" || p.Page < 1 {
					continue
				}
				c.Page = &p
			default:
				var d pipeline.DocumentStatus
				if json.Unmarshal(e.Value(), &d) != nil || d.Doc == "" {
					continue
				}
				c.Document = &d
			}
			if !fn(c) {
				return nil
			}
		}
	}
}

// FailPage marks a page failed with reason, unless it has already finished this version or
// moved on to a later one.
func (s *Status) FailPage(ctx context.Context, doc string, page, version int, reason string) error {
	_, err := s.UpdatePage(ctx, doc, page, func(p *pipeline.PageStatus, _ bool) error {
		if p.Version > version || (p.Version == version && p.State == pipeline.StateDone) {
			return ErrUnchanged
		}
		p.State, p.Error, p.Version = pipeline.StateFailed, reason, version
		return nil
	})
	return err
}
