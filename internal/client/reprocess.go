package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// ReprocessRequest asks for a document's stored scans to be recognised again, on purpose.
type ReprocessRequest struct {
	Doc       string
	Page      int      // 0: every page
	Languages []string // empty: the languages the document was uploaded with
}

// ReprocessedPage says what reprocess did with one page.
type ReprocessedPage struct {
	Page int
	File string
	// Version is the version queued (the page's previous version + 1); 0 when skipped.
	Version int
	// Skipped is why the page was not queued again, naming the page; empty when it was.
	Skipped string
}

// ReprocessResult is what happened to each page asked for, in page order.
type ReprocessResult struct {
	Doc   string
	Pages []ReprocessedPage
}

// Skipped lists the pages that were not queued again.
func (r ReprocessResult) Skipped() []ReprocessedPage {
	var out []ReprocessedPage
	for _, p := range r.Pages {
		if p.Skipped != "" {
			out = append(out, p)
		}
	}
	return out
}

// Reprocess recognises a document's pages (or one page) again from their stored scans: each
// page done or failed gets a new version (its current one + 1), is marked queued and has an
// OCR job of that version published. The workers write the new text and record under the
// new version's keys, so the older texts and records stay where they are; `get` serves the
// new version once it is done.
//
// A page still under way (queued, ocr, metadata) is skipped with a note, not queued a second
// time: its reading is about to finish, and reprocessing can follow. A page with no stored
// scan (its file was refused at upload) is skipped too: upload its file again instead; and
// so is a page whose stored scan is missing, unreadable or no longer hashes to its SHA-256.
// A skipped page keeps the version it has, and `get` goes on serving it.
func (c *Client) Reprocess(ctx context.Context, req ReprocessRequest) (ReprocessResult, error) {
	res := ReprocessResult{Doc: req.Doc}
	if err := pipeline.ValidateDocID(req.Doc); err != nil {
		return res, err
	}
	if len(req.Languages) > 0 {
		if err := pipeline.ValidateLanguages(req.Languages); err != nil {
			return res, err
		}
	}
	d, err := c.status.Document(ctx, req.Doc)
	if err != nil {
		return res, err
	}
	if req.Page != 0 && (req.Page < 1 || req.Page > d.Pages) {
		return res, fmt.Errorf("document %s has pages 1 to %d; there is no page %d", req.Doc, d.Pages, req.Page)
	}
	langs := req.Languages
	if len(langs) == 0 {
		langs = d.Languages
	}
	if len(langs) == 0 {
		langs = []string{"eng"}
	}
	pages, err := c.status.Pages(ctx, req.Doc)
	if err != nil {
		return res, err
	}
	for _, p := range pages {
		if req.Page != 0 && p.Page != req.Page {
			continue
		}
		rp, err := c.reprocessPage(ctx, d, p, langs)
		if err != nil {
			return res, err
		}
		res.Pages = append(res.Pages, rp)
	}
	return res, nil
}

func (c *Client) reprocessPage(ctx context.Context, d pipeline.DocumentStatus, p pipeline.PageStatus, langs []string) (ReprocessedPage, error) {
	rp := ReprocessedPage{Page: p.Page, File: p.FileName}
	name := p.FileName
	if name == "" {
		name = "no file"
	}
	if !p.State.Terminal() {
		rp.Skipped = fmt.Sprintf("page %d (%s): not queued again: version %d is still %s; run reprocess again once it is done or failed",
			p.Page, name, p.Version, p.State)
		return rp, nil
	}
	scan, why, err := c.scanRef(ctx, d.Doc, p)
	if err != nil {
		return rp, fmt.Errorf("page %d (%s): %w", p.Page, name, err)
	}
	if why != "" {
		rp.Skipped = fmt.Sprintf("page %d (%s): not queued again: %s", p.Page, name, why)
		return rp, nil
	}
	job := pipeline.OCRJob{
		Doc:       d.Doc,
		Page:      p.Page,
		Version:   p.Version + 1,
		Scan:      scan,
		FileName:  p.FileName,
		FilePage:  p.FilePage,
		Source:    d.Source,
		Date:      d.Date,
		Languages: langs,
		Submitted: time.Now().UTC(),
		Uploader:  DefaultUploader(), // who queued this reading
	}
	if err := job.Validate(); err != nil {
		return rp, fmt.Errorf("page %d (%s): %w", p.Page, name, err)
	}
	msg, err := pipeline.Encode(job)
	if err != nil {
		return rp, err
	}
	// Publish first, then mark the page queued: a crash in between leaves a job the workers
	// carry out (the OCR worker moves the page to the job's newer version itself), never a
	// page queued with no job. Two reprocesses racing on one page publish the same
	// Nats-Msg-Id (same page, version and scan), so JetStream keeps one job.
	if _, err := c.bus.Publish(ctx, pipeline.SubjectOCR, msg, job.MsgID()); err != nil {
		return rp, fmt.Errorf("page %d (%s): queue OCR job: %w", p.Page, name, err)
	}
	_, err = c.status.UpdatePage(ctx, d.Doc, p.Page, func(q *pipeline.PageStatus, _ bool) error {
		if q.Version >= job.Version {
			return bus.ErrUnchanged // a worker (or another reprocess) got there first
		}
		q.State, q.Error, q.Version = pipeline.StateQueued, "", job.Version
		q.ScanSHA256, q.ScanKey, q.ScanBytes = scan.SHA256, scan.Key, scan.Bytes
		if q.FileName == "" {
			q.FileName = job.FileName
		}
		return nil
	})
	if err != nil {
		return rp, fmt.Errorf("page %d (%s): job queued, but marking the page queued failed: %w", p.Page, name, err)
	}
	rp.Version = job.Version
	return rp, nil
}

// scanRef finds a page's stored scan: from its status entry (upload keeps the key there), or,
// for pages uploaded before it did, by the scan's content-addressed key. why is set, and the
// reference empty, when the page has no scan to recognise again.
func (c *Client) scanRef(ctx context.Context, doc string, p pipeline.PageStatus) (ref pipeline.ObjectRef, why string, err error) {
	if p.ScanSHA256 == "" {
		why = "no stored scan (the file was refused at upload"
		if reason := strings.TrimPrefix(p.Error, fmt.Sprintf("page %d (%s): ", p.Page, p.FileName)); reason != "" {
			why += ": " + reason
		}
		return ref, why + "); upload the document's files again with the same --doc", nil
	}
	ref = pipeline.ObjectRef{Bucket: pipeline.BucketScans, Key: p.ScanKey, SHA256: p.ScanSHA256, Bytes: p.ScanBytes}
	if ref.Key == "" {
		// The key is ScanKey(doc, page, sha256, ext); only the extension is unknown.
		prefix := strings.TrimSuffix(pipeline.ScanKey(doc, p.Page, p.ScanSHA256, "x"), "x")
		keys, err := c.store.List(ctx, ref.Bucket, prefix)
		if err != nil {
			return ref, "", err
		}
		if len(keys) == 0 {
			return pipeline.ObjectRef{}, fmt.Sprintf("its scan (sha256 %s) is missing from the store", p.ScanSHA256), nil
		}
		ref.Key = keys[0]
	}
	// Read and hashed here, so a scan missing or damaged in the store is said now and the
	// page keeps the version it has, rather than a worker failing the new one.
	obj, err := c.store.Get(ctx, ref.Bucket, ref.Key)
	switch {
	case errors.Is(err, objectstore.ErrNotFound):
		return pipeline.ObjectRef{}, fmt.Sprintf("its scan %s is missing from the store", ref.Key), nil
	case errors.Is(err, objectstore.ErrUnreadable):
		return pipeline.ObjectRef{}, fmt.Sprintf("its scan %s is unreadable in the store (damaged on its drives; heal or restore it, then reprocess again): %v", ref.Key, err), nil
	case err != nil:
		return ref, "", fmt.Errorf("read its scan %s: %w", ref.Key, err)
	}
	if got := objectstore.SHA256(obj.Data); got != ref.SHA256 {
		return pipeline.ObjectRef{}, fmt.Sprintf("its scan %s is corrupt in the store: it hashes to %s, not the %s it was stored with (restore the scan, then reprocess again)",
			ref.Key, got, ref.SHA256), nil
	}
	ref.Bytes = int64(len(obj.Data))
	return ref, "", nil
}
