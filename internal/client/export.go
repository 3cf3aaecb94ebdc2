package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// StoredFile is a stored object's bytes with the reference they were checked against.
type StoredFile struct {
	Ref  pipeline.ObjectRef
	Data []byte
}

// ExportPage is one page read for export: its current record, the record's own stored
// bytes, and the scan and outputs the record names, each re-hashed against it.
type ExportPage struct {
	Record     pipeline.Provenance
	RecordFile StoredFile
	// Files are the scan, then the outputs (text, hOCR, ALTO, PDF, as recorded). Pages of
	// one multi-page file share its scan: the same key and bytes.
	Files []StoredFile
}

// DocumentExport is a document read for export.
type DocumentExport struct {
	Doc   string
	Pages []ExportPage // the pages that are done, in page order
	// Missing are the pages not done (failed or still under way), left out.
	Missing []PageReport
	// Checked is when the last file was re-hashed.
	Checked time.Time
}

// IncompleteError is returned by ReadForExport when pages are not done and incomplete
// documents were not allowed.
type IncompleteError struct {
	Doc     string
	Pages   int
	Missing []PageReport
}

func (e *IncompleteError) Error() string {
	lines := make([]string, len(e.Missing))
	for i, p := range e.Missing {
		lines[i] = p.Describe()
	}
	return fmt.Sprintf("document %s: %d of %d page(s) not done:\n  %s", e.Doc, len(e.Missing), e.Pages, strings.Join(lines, "\n  "))
}

// Describe says which page it is and its state: "page 3 (junk.png): failed: why".
func (p PageReport) Describe() string {
	s := fmt.Sprintf("page %d (%s): %s", p.Page, p.File, p.State)
	if p.Error != "" {
		s += ": " + p.Error
	}
	return s
}

// ReadForExport reads every done page's current record, and the scan and every output it
// names, and checks each file's SHA-256 and size against the record (and the record's
// bytes against the SHA-256 stored beside it). Any difference is a *VerifyError naming
// the page and the object, and nothing is returned: an export carries only what its
// records vouch for. Pages not done are an *IncompleteError unless allowIncomplete, when
// they are listed in Missing instead.
func (c *Client) ReadForExport(ctx context.Context, doc string, allowIncomplete bool) (DocumentExport, error) {
	r, err := c.Status(ctx, doc)
	if err != nil {
		return DocumentExport{}, err
	}
	ex := DocumentExport{Doc: doc}
	for _, p := range r.PageStates {
		if p.State != pipeline.StateDone {
			ex.Missing = append(ex.Missing, p)
		}
	}
	if len(ex.Missing) > 0 && !allowIncomplete {
		return DocumentExport{}, &IncompleteError{Doc: doc, Pages: r.Pages, Missing: ex.Missing}
	}
	if len(ex.Missing) == len(r.PageStates) {
		return DocumentExport{}, fmt.Errorf("document %s: no page is done, nothing to export", doc)
	}

	verr := &VerifyError{Doc: doc}
	fetched := map[string]StoredFile{} // by bucket/key: a shared scan is read once
	fetch := func(page int, what string, ref pipeline.ObjectRef) (StoredFile, error) {
		id := ref.Bucket + "/" + ref.Key
		if f, ok := fetched[id]; ok {
			return f, nil
		}
		obj, err := c.store.Get(ctx, ref.Bucket, ref.Key)
		if errors.Is(err, objectstore.ErrNotFound) {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %s %s is missing from the store", page, what, id))
			return StoredFile{}, nil
		}
		if err != nil {
			return StoredFile{}, fmt.Errorf("document %s page %d: read %s: %w", doc, page, what, err)
		}
		// A size of 0 is a record that did not say; the checksum decides either way.
		if got := objectstore.SHA256(obj.Data); got != ref.SHA256 || (ref.Bytes != 0 && int64(len(obj.Data)) != ref.Bytes) {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %s %s checksum mismatch: provenance record says %s (%d bytes), store has %s (%d bytes)",
				page, what, id, ref.SHA256, ref.Bytes, got, len(obj.Data)))
			return StoredFile{}, nil
		}
		f := StoredFile{ref, obj.Data}
		fetched[id] = f
		return f, nil
	}

	for _, p := range r.PageStates {
		if p.State != pipeline.StateDone {
			continue
		}
		rec, obj, err := c.recordObject(ctx, doc, p.Page, p.Version)
		if err != nil {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: %v", p.Page, err))
			continue
		}
		recRef := pipeline.ObjectRef{Bucket: pipeline.BucketProvenance, Key: pipeline.ProvenanceKey(doc, p.Page, p.Version),
			SHA256: objectstore.SHA256(obj.Data), Bytes: int64(len(obj.Data))}
		if want := obj.Metadata[pipeline.MetaSHA256]; want != "" && want != recRef.SHA256 {
			verr.Problems = append(verr.Problems, fmt.Sprintf("page %d: provenance record %s/%s checksum mismatch: stored with %s, store has %s",
				p.Page, recRef.Bucket, recRef.Key, want, recRef.SHA256))
			continue
		}
		page := ExportPage{Record: rec, RecordFile: StoredFile{recRef, obj.Data}}
		outs := rec.Outputs()
		for _, what := range []string{"scan", pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF} {
			ref, ok := outs[what]
			if what == "scan" {
				ref, ok = rec.Scan, true
			}
			if !ok {
				continue
			}
			f, err := fetch(p.Page, what, ref)
			if err != nil {
				return DocumentExport{}, err
			}
			page.Files = append(page.Files, f)
		}
		ex.Pages = append(ex.Pages, page)
	}
	if len(verr.Problems) > 0 {
		return DocumentExport{}, verr
	}
	ex.Checked = time.Now().UTC()
	return ex, nil
}
