package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// PageText is a page's text, verified against its provenance record.
type PageText struct {
	Page   int
	Text   []byte // the output's bytes: the text, or the hOCR or PDF asked for
	Record pipeline.Provenance
}

// VerifyError lists every page that could not be verified, each naming the page and, for a
// checksum mismatch, both checksums.
type VerifyError struct {
	Doc      string
	Problems []string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("document %s: %d page(s) not verified:\n  %s", e.Doc, len(e.Problems), strings.Join(e.Problems, "\n  "))
}

// Records reads the provenance records of the versions served of a document's pages (page
// 0: all pages), in page order: a page's current version once it is done, else the last
// version that was (a page read again keeps serving its verified text while the new reading
// is under way, and after it failed). Pages without a record are collected into a
// *VerifyError, returned with the records found.
func (c *Client) Records(ctx context.Context, doc string, page int) ([]pipeline.Provenance, error) {
	pages, err := c.selectPages(ctx, doc, page)
	if err != nil {
		return nil, err
	}
	var recs []pipeline.Provenance
	verr := &VerifyError{Doc: doc}
	for _, p := range pages {
		served := p.ServedVersion()
		if served == 0 {
			msg := fmt.Sprintf("page %d (%s): no verified text: page is %s", p.Page, p.FileName, p.State)
			if p.Error != "" {
				msg += ": " + p.Error
			}
			verr.Problems = append(verr.Problems, msg)
			continue
		}
		rec, err := c.record(ctx, doc, p.Page, served)
		if err != nil {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %v", p.Page, err))
			continue
		}
		recs = append(recs, rec)
	}
	if len(verr.Problems) > 0 {
		return recs, verr
	}
	return recs, nil
}

func (c *Client) record(ctx context.Context, doc string, page, version int) (pipeline.Provenance, error) {
	rec, _, err := c.recordObject(ctx, doc, page, version)
	return rec, err
}

// recordObject reads a page's record and the stored object it was decoded from, and checks
// the record itself: it is the one the record log holds (not rewritten, not made outside the
// pipeline) and its signature holds.
func (c *Client) recordObject(ctx context.Context, doc string, page, version int) (pipeline.Provenance, objectstore.Object, error) {
	var rec pipeline.Provenance
	key := pipeline.ProvenanceKey(doc, page, version)
	obj, err := c.store.Get(ctx, pipeline.BucketProvenance, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		return rec, obj, fmt.Errorf("provenance record %s is missing", key)
	}
	if err != nil {
		return rec, obj, err
	}
	if err := json.Unmarshal(obj.Data, &rec); err != nil {
		return rec, obj, fmt.Errorf("provenance record %s is unreadable: %w", key, err)
	}
	if rec.Doc != doc || rec.Page != page || rec.Version != version {
		return rec, obj, fmt.Errorf("provenance record %s is for %s page %d version %d", key, rec.Doc, rec.Page, rec.Version)
	}
	entry, found, err := c.bus.RecordEntry(ctx, doc, page, version)
	if err != nil {
		return rec, obj, err
	}
	if !found {
		return rec, obj, fmt.Errorf("provenance record %s is not in the record log", key)
	}
	if got := objectstore.SHA256(obj.Data); got != entry.SHA256 {
		return rec, obj, fmt.Errorf("provenance record %s was rewritten: it hashes to %s, the record log has %s", key, got, entry.SHA256)
	}
	if err := provenance.Verify(rec, c.trusted...); err != nil {
		return rec, obj, fmt.Errorf("provenance record %s: %w", key, err)
	}
	return rec, obj, nil
}

// RecordVersions reads every stored version of the provenance records of a document's
// pages (page 0: all pages): page order, then version order. A page's versions are the
// records under its prefix in the provenance bucket, whatever its current state: a page
// recognised again keeps its older records. Pages with no record at all, and records that
// cannot be read, are collected into a *VerifyError, returned with the records found.
func (c *Client) RecordVersions(ctx context.Context, doc string, page int) ([]pipeline.Provenance, error) {
	pages, err := c.selectPages(ctx, doc, page)
	if err != nil {
		return nil, err
	}
	var recs []pipeline.Provenance
	verr := &VerifyError{Doc: doc}
	for _, p := range pages {
		versions, err := c.recordVersions(ctx, doc, p.Page)
		if err != nil {
			return recs, err
		}
		if len(versions) == 0 {
			msg := fmt.Sprintf("page %d (%s): no provenance record: page is %s", p.Page, p.FileName, p.State)
			if p.Error != "" {
				msg += ": " + p.Error
			}
			verr.Problems = append(verr.Problems, msg)
			continue
		}
		for _, v := range versions {
			rec, err := c.record(ctx, doc, p.Page, v)
			if err != nil {
				verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %v", p.Page, err))
				continue
			}
			recs = append(recs, rec)
		}
	}
	if len(verr.Problems) > 0 {
		return recs, verr
	}
	return recs, nil
}

// recordVersions lists the versions of a page's records in the store, in ascending order.
func (c *Client) recordVersions(ctx context.Context, doc string, page int) ([]int, error) {
	prefix := pageKeyPrefix(doc, page)
	keys, err := c.store.List(ctx, pipeline.BucketProvenance, prefix)
	if err != nil {
		return nil, err
	}
	var versions []int
	for _, k := range keys {
		var v int
		if n, err := fmt.Sscanf(strings.TrimPrefix(k, prefix), "v%d.json", &v); err != nil || n != 1 || v < 1 ||
			k != pipeline.ProvenanceKey(doc, page, v) {
			continue // not a record of this page (a stray object)
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions, nil
}

// pageKeyPrefix is the prefix of every object of a page: "<doc>/0001/".
func pageKeyPrefix(doc string, page int) string {
	return strings.TrimSuffix(pipeline.ProvenanceKey(doc, page, 1), "v1.json")
}

// Text reads a document's text (page 0: all pages) and verifies each page's bytes against
// the SHA-256 in its provenance record. It returns text only when every page asked for
// verifies; otherwise a *VerifyError naming each page that did not.
func (c *Client) Text(ctx context.Context, doc string, page int) ([]PageText, error) {
	return c.Output(ctx, doc, page, pipeline.FormatText)
}

// Output is Text for any output format (pipeline.FormatText, FormatHOCR, FormatALTO,
// FormatPDF). A
// page recorded without that output is a verification problem like a missing text.
func (c *Client) Output(ctx context.Context, doc string, page int, format string) ([]PageText, error) {
	switch format {
	case pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF:
	default:
		return nil, fmt.Errorf("unknown output format %q: want %s, %s, %s or %s", format, pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF)
	}
	recs, err := c.Records(ctx, doc, page)
	verr := &VerifyError{Doc: doc}
	if err != nil {
		if !errors.As(err, &verr) {
			return nil, err
		}
	}
	var out []PageText
	for _, rec := range recs {
		ref, ok := rec.Outputs()[format]
		if !ok {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: recorded without %s output (recognised before Colophon made it; `colophon reprocess %s --page %d` makes it)", rec.Page, format, doc, rec.Page))
			continue
		}
		obj, err := c.store.Get(ctx, ref.Bucket, ref.Key)
		if errors.Is(err, objectstore.ErrNotFound) {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %s %s is missing from the store", rec.Page, format, ref.Key))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", rec.Page, err)
		}
		if got := objectstore.SHA256(obj.Data); got != ref.SHA256 {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %s checksum mismatch: provenance record says %s, store has %s", rec.Page, format, ref.SHA256, got))
			continue
		}
		out = append(out, PageText{Page: rec.Page, Text: obj.Data, Record: rec})
	}
	if len(verr.Problems) > 0 {
		return nil, verr
	}
	return out, nil
}

// selectPages reads the status of a document's pages: all of them (page 0) or page alone.
func (c *Client) selectPages(ctx context.Context, doc string, page int) ([]pipeline.PageStatus, error) {
	if err := pipeline.ValidateDocID(doc); err != nil {
		return nil, err
	}
	pages, err := c.status.Pages(ctx, doc)
	if err != nil {
		return nil, err
	}
	if page == 0 {
		return pages, nil
	}
	if page < 1 || page > len(pages) {
		return nil, fmt.Errorf("document %s has pages 1 to %d; there is no page %d", doc, len(pages), page)
	}
	return pages[page-1 : page], nil
}
