package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/pipeline"
)

// DefaultMaxFileBytes bounds one scan: a 600 dpi uncompressed A3 greyscale TIFF is ~70 MB.
const DefaultMaxFileBytes = 256 << 20

// MaxSourceBytes bounds --source.
const MaxSourceBytes = 1024

// UploadRequest is one document: its files are its pages, in order; a PDF or multi-page
// TIFF gives as many consecutive pages as it holds.
type UploadRequest struct {
	Doc          string // empty: a new ID is made
	Source       string
	Date         string // ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD, or empty
	Languages    []string
	Files        []string
	MaxFileBytes int64 // 0: DefaultMaxFileBytes
	MaxPixels    int64 // 0: imageinfo.DefaultMaxPixels
	// Uploader is who uploads, recorded in each page's provenance; empty: DefaultUploader().
	Uploader string
}

// DefaultUploader names the person running the command: "user@host".
func DefaultUploader() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	return cmp.Or(name, "unknown") + "@" + cmp.Or(host, "unknown")
}

// PageResult says what upload did with one page.
type PageResult struct {
	Page     int
	File     string
	FilePage int // the page's place in a multi-page file, from 1; 0 for a one-page file
	State    pipeline.PageState
	// Error is why the page was refused; the page is failed in the status bucket too.
	Error string
	// Unchanged is true when the page already held this very scan: nothing new was queued.
	Unchanged bool
}

// UploadResult is the document's ID and what happened to each page.
type UploadResult struct {
	Doc   string
	Pages []PageResult
}

// Refused lists the pages refused at upload.
func (r UploadResult) Refused() []PageResult {
	var out []PageResult
	for _, p := range r.Pages {
		if p.Error != "" {
			out = append(out, p)
		}
	}
	return out
}

// ValidateUpload checks everything that can be checked before anything is stored: the
// document ID, date, source, languages, and that every file exists and can be read. It
// returns the request with defaults filled in.
func ValidateUpload(req UploadRequest, now time.Time) (UploadRequest, error) {
	if req.Doc == "" {
		req.Doc = pipeline.NewDocID(now)
	}
	if err := pipeline.ValidateDocID(req.Doc); err != nil {
		return req, err
	}
	if req.Source == "" {
		return req, errors.New("--source is required: say where the pages come from (archive, collection, box)")
	}
	// The source travels in every job and S3 header; bounded so a job always fits a message.
	if len(req.Source) > MaxSourceBytes || !utf8.ValidString(req.Source) {
		return req, fmt.Errorf("--source must be valid UTF-8 of at most %d bytes", MaxSourceBytes)
	}
	if req.Date != "" {
		if _, err := pipeline.ParseDate(req.Date); err != nil {
			return req, err
		}
	}
	if len(req.Languages) == 0 {
		req.Languages = []string{"eng"}
	}
	if req.Uploader == "" {
		req.Uploader = DefaultUploader()
	}
	if len(req.Uploader) > MaxSourceBytes || !utf8.ValidString(req.Uploader) {
		return req, fmt.Errorf("--uploader must be valid UTF-8 of at most %d bytes", MaxSourceBytes)
	}
	if err := pipeline.ValidateLanguages(req.Languages); err != nil {
		return req, err
	}
	if len(req.Files) == 0 {
		return req, errors.New("no files to upload")
	}
	if len(req.Files) > pipeline.MaxPages {
		return req, fmt.Errorf("%d files: at most %d pages in one document", len(req.Files), pipeline.MaxPages)
	}
	if req.MaxFileBytes <= 0 {
		req.MaxFileBytes = DefaultMaxFileBytes
	}
	for i, f := range req.Files {
		st, err := os.Stat(f)
		if err != nil {
			return req, fmt.Errorf("page %d (%s): %w", i+1, f, err)
		}
		if !st.Mode().IsRegular() {
			return req, fmt.Errorf("page %d (%s): not a regular file", i+1, f)
		}
		fh, err := os.Open(f)
		if err != nil {
			return req, fmt.Errorf("page %d (%s): %w", i+1, f, err)
		}
		fh.Close()
	}
	return req, nil
}

// Upload stores each page's scan and queues its OCR job, page by page, so recognition of
// the first page starts while later ones are still uploading. A page whose file is not a
// readable scan is refused (failed, with the reason) and the others go on. Uploading the
// same scan to the same page again queues nothing new.
func (c *Client) Upload(ctx context.Context, req UploadRequest) (UploadResult, error) {
	req, err := ValidateUpload(req, time.Now())
	if err != nil {
		return UploadResult{}, err
	}
	files, err := planFiles(ctx, req)
	if err != nil {
		return UploadResult{Doc: req.Doc}, err
	}
	total := 0
	for _, f := range files {
		total += f.pages
	}
	if total > pipeline.MaxPages {
		return UploadResult{Doc: req.Doc}, fmt.Errorf("%d pages in %d files: at most %d pages in one document", total, len(files), pipeline.MaxPages)
	}
	res := UploadResult{Doc: req.Doc}
	if err := c.refuseLostRecordLog(ctx, req.Doc); err != nil {
		return res, err
	}
	if err := c.putDocument(ctx, req, total); err != nil {
		return res, err
	}
	page := 1
	for _, f := range files {
		prs, err := c.uploadFile(ctx, req, page, f)
		res.Pages = append(res.Pages, prs...)
		if err != nil {
			return res, err
		}
		page += f.pages
	}
	return res, nil
}

// fileplan is one file of an upload: how many pages it holds, or why it is refused (it
// then stands for one failed page).
type fileplan struct {
	path    string
	pages   int
	refusal string
}

// planFiles reads every file once to count its pages, so the document's page count is
// known before its first page is queued.
func planFiles(ctx context.Context, req UploadRequest) ([]fileplan, error) {
	out := make([]fileplan, 0, len(req.Files))
	for i, f := range req.Files {
		p := fileplan{path: f, pages: 1}
		_, n, refusal, err := readScan(ctx, f, req.MaxFileBytes, req.MaxPixels)
		if err != nil {
			return nil, fmt.Errorf("file %d (%s): %w", i+1, f, err)
		}
		if refusal == "" {
			p.pages = n
		}
		p.refusal = refusal
		out = append(out, p)
	}
	return out, nil
}

// putDocument writes the document's entry, or checks an existing one agrees. The write is
// a compare-and-set: ingest appends pages to documents, and a plain write could undo its count.
func (c *Client) putDocument(ctx context.Context, req UploadRequest, pages int) error {
	_, _, err := c.status.UpdateDocument(ctx, req.Doc, func(d *pipeline.DocumentStatus, _ uint64, found bool) error {
		switch {
		case !found:
			*d = pipeline.DocumentStatus{Doc: req.Doc, Source: req.Source, Date: req.Date, Created: time.Now().UTC()}
		case d.Source != req.Source || d.Date != req.Date:
			return fmt.Errorf("document %s exists with source %q and date %q; upload with the same, or use another --doc", req.Doc, d.Source, d.Date)
		case pages <= d.Pages && slices.Equal(d.Languages, req.Languages):
			return bus.ErrUnchanged // an upload again of pages it already has
		}
		d.Pages = max(d.Pages, pages)
		d.Languages = req.Languages
		return nil
	})
	return err
}

// uploadFile uploads one file as pages first, first+1, ...: one page for an image, one for
// each page of a PDF or multi-page TIFF. The file is stored once, under its first page.
func (c *Client) uploadFile(ctx context.Context, req UploadRequest, first int, plan fileplan) ([]PageResult, error) {
	path, name := plan.path, filepath.Base(plan.path)
	if plan.refusal != "" {
		return c.QueueScanFile(ctx, req, first, ScanFile{Path: path, Name: name, Refusal: plan.refusal})
	}
	data, n, refusal, err := readScan(ctx, path, req.MaxFileBytes, req.MaxPixels)
	switch {
	case err != nil:
		return nil, fmt.Errorf("page %d (%s): %w", first, path, err)
	case refusal == "" && n != plan.pages:
		return nil, fmt.Errorf("page %d (%s): the file changed during the upload (%d pages, then %d)", first, path, plan.pages, n)
	}
	return c.QueueScanFile(ctx, req, first, ScanFile{Path: path, Name: name, Data: data, Pages: n, Refusal: refusal})
}

// ScanFile is one file to become consecutive pages of a document.
type ScanFile struct {
	Path    string // where it came from, for results and errors: a local path, or an S3 key
	Name    string // its name, recorded with each page
	Data    []byte
	Pages   int    // how many pages it holds (CheckScan)
	Refusal string // why it is not a usable scan (CheckScan): it then stands for one failed page
}

// QueueScanFile stores f once, under the ScanKey of its first page, and queues its pages
// first, first+1, … for OCR, each with its status entry, exactly as upload does (upload and
// S3-native ingest both come here). A refused file fails page first with the reason.
// req gives the document, source, date, languages and uploader, already validated.
func (c *Client) QueueScanFile(ctx context.Context, req UploadRequest, first int, f ScanFile) ([]PageResult, error) {
	path, name := f.Path, f.Name
	if f.Refusal != "" {
		pr, err := c.refusePage(ctx, req, first, path, name, f.Refusal)
		return []PageResult{pr}, err
	}
	data, n := f.Data, f.Pages
	if n < 1 || first < 1 || first+n-1 > pipeline.MaxPages {
		return nil, fmt.Errorf("page %d (%s): %d pages from page %d: out of range 1..%d", first, path, n, first, pipeline.MaxPages)
	}
	info, _ := imageinfo.Inspect(data, imageinfo.Limits{MaxPixels: req.MaxPixels})
	sum := objectstore.SHA256(data)
	scan := pipeline.ObjectRef{
		Bucket: pipeline.BucketScans,
		Key:    pipeline.ScanKey(req.Doc, first, sum, imageinfo.Ext(info.Format)),
		SHA256: sum,
		Bytes:  int64(len(data)),
	}
	stored := false
	store := func() error {
		if stored {
			return nil
		}
		meta := map[string]string{
			pipeline.MetaSHA256:   sum,
			pipeline.MetaDoc:      req.Doc,
			pipeline.MetaPage:     fmt.Sprint(first),
			pipeline.MetaSource:   req.Source,
			pipeline.MetaDate:     req.Date,
			pipeline.MetaFileName: name,
		}
		// Conditional: the key names the content, so a scan already there (another upload of
		// the same file) is this one, and is not stored a second time.
		ct := imageinfo.ContentType(info.Format)
		created, err := c.store.PutIfAbsent(ctx, scan.Bucket, scan.Key, data, ct, meta)
		if err == nil && !created {
			err = c.mendScan(ctx, scan, data, ct, meta)
		}
		if err != nil {
			return fmt.Errorf("page %d (%s): store scan: %w", first, path, err)
		}
		stored = true
		return nil
	}
	var out []PageResult
	for k := 1; k <= n; k++ {
		job := pipeline.OCRJob{
			Doc:       req.Doc,
			Page:      first + k - 1,
			Version:   1,
			Scan:      scan,
			FileName:  name,
			Source:    req.Source,
			Date:      req.Date,
			Languages: req.Languages,
			Submitted: time.Now().UTC(),
			Uploader:  req.Uploader,
		}
		if n > 1 {
			job.FilePage = k
		}
		pr, err := c.queuePage(ctx, job, path, store)
		out = append(out, pr)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// mendScan checks a scan found already stored under its key still holds data, and stores
// data again (a new version) when it does not: damaged in the store, its bytes unreadable or
// changed, it would fail every reading, and uploading the file again is how to mend it.
func (c *Client) mendScan(ctx context.Context, scan pipeline.ObjectRef, data []byte, contentType string, meta map[string]string) error {
	obj, err := c.store.Get(ctx, scan.Bucket, scan.Key)
	switch {
	case err == nil && objectstore.SHA256(obj.Data) == scan.SHA256:
		return nil
	case err != nil && !errors.Is(err, objectstore.ErrUnreadable) && !errors.Is(err, objectstore.ErrNotFound):
		return fmt.Errorf("check the scan already stored: %w", err)
	}
	return c.store.Put(ctx, scan.Bucket, scan.Key, data, contentType, meta)
}

// refusePage records a file that is not a usable scan as a failed page, with the reason.
func (c *Client) refusePage(ctx context.Context, req UploadRequest, page int, path, name, refusal string) (PageResult, error) {
	pr := PageResult{Page: page, File: path}
	pr.State, pr.Error = pipeline.StateFailed, fmt.Sprintf("page %d (%s): %s", page, name, refusal)
	_, err := c.status.UpdatePage(ctx, req.Doc, page, func(p *pipeline.PageStatus, found bool) error {
		if found && (p.State != pipeline.StateFailed || p.Served > 0) && p.ScanSHA256 != "" {
			// Done, served or under way with a good scan: a bad file does not undo that.
			pr.State, pr.Error = p.State, ""
			return fmt.Errorf("page %d (%s): %s; the page keeps its earlier scan", page, name, refusal)
		}
		// The version stays: no job is queued for this file (0 on a page never queued).
		p.FileName, p.State, p.Error, p.ScanSHA256, p.ScanKey, p.ScanBytes = name, pipeline.StateFailed, pr.Error, "", "", 0
		return nil
	})
	return pr, err
}

// queuePage queues job's page for OCR when it needs it: it decides from the page's entry,
// stores the scan (store), claims the page, publishes the job, and marks the job queued.
// The scan is stored before the claim, so a store that refuses leaves no page claimed with no
// job; a claim whose upload stops before publishing is marked Unqueued, which status reports.
func (c *Client) queuePage(ctx context.Context, job pipeline.OCRJob, path string, store func() error) (PageResult, error) {
	page, name := job.Page, job.FileName
	pr := PageResult{Page: page, File: path, FilePage: job.FilePage}
	if job.FilePage > 0 {
		name = fmt.Sprintf("%s, page %d", job.FileName, job.FilePage)
	}
	p, found, err := c.status.Page(ctx, job.Doc, page)
	if err != nil {
		return pr, err
	}
	cl, err := decideClaim(p, found, &job, name)
	if err != nil {
		return pr, err
	}
	if cl.publish {
		if err := store(); err != nil {
			pr.State, pr.Error = pipeline.StateFailed, err.Error()
			return pr, c.storeFailed(ctx, job, err)
		}
		// Decided again on the entry as it is now, in a compare-and-set, so two uploads
		// cannot give one page two different scans. (A scan stored for a claim lost here stays
		// in the store, unused, under its content-addressed key.)
		_, err = c.status.UpdatePage(ctx, job.Doc, page, func(q *pipeline.PageStatus, found bool) error {
			if cl, err = decideClaim(*q, found, &job, name); err != nil {
				return err
			}
			if !cl.write {
				return bus.ErrUnchanged
			}
			q.FileName, q.State, q.Error, q.Version, q.Unqueued = job.FileName, pipeline.StateQueued, "", job.Version, true
			q.ScanSHA256, q.ScanKey, q.ScanBytes, q.FilePage = job.Scan.SHA256, job.Scan.Key, job.Scan.Bytes, job.FilePage
			return nil
		})
		if err != nil {
			return pr, err
		}
	}
	if !cl.publish {
		pr.State, pr.Unchanged = cl.state, true
		return pr, nil
	}
	msg, err := pipeline.Encode(job)
	if err != nil {
		return pr, err
	}
	dup, err := c.bus.Publish(ctx, pipeline.SubjectOCR, msg, job.MsgID())
	if err != nil {
		return pr, fmt.Errorf("page %d (%s): queue OCR job: %w", page, path, err)
	}
	// Also clears the mark of an upload that claimed the page and stopped before this.
	_, err = c.status.UpdatePage(ctx, job.Doc, page, func(q *pipeline.PageStatus, _ bool) error {
		if q.Version != job.Version || q.State != pipeline.StateQueued || !q.Unqueued {
			return bus.ErrUnchanged // a worker has it already, or it was never marked
		}
		q.Unqueued = false
		return nil
	})
	if err != nil {
		return pr, fmt.Errorf("page %d (%s): job queued, but marking it queued failed: %w", page, path, err)
	}
	pr.State, pr.Unchanged = pipeline.StateQueued, !cl.write && dup
	return pr, nil
}

// claim is what an upload does for a page: publish its job (storing the scan first), and
// write its entry queued at the job's version; state is the page's, reported when it is not
// written.
type claim struct {
	publish, write bool
	state          pipeline.PageState
}

// decideClaim is queuePage's rule: what page p (found: it has an entry) needs for job's scan.
// It sets job.Version. A page's scan is never replaced once a version of it was done.
func decideClaim(p pipeline.PageStatus, found bool, job *pipeline.OCRJob, name string) (claim, error) {
	page, sum := job.Page, job.Scan.SHA256
	job.Version = 1
	switch {
	case !found:
		return claim{publish: true, write: true}, nil
	case p.ScanSHA256 != sum && (p.State != pipeline.StateFailed || p.Served > 0):
		held := p.FileName
		if held == "" {
			held = "another file"
		}
		return claim{}, fmt.Errorf("page %d (%s): document %s already has a different scan as page %d (%s, sha256 %s), and a page's scan is never replaced; "+
			"nothing was stored for this page. Upload to another --doc for a different document, or run `colophon reprocess %s --page %d` to recognise the stored scan again",
			page, name, job.Doc, page, held, p.ScanSHA256, job.Doc, page)
	case p.State == pipeline.StateFailed:
		// A retry after a failure is a new version: the failed job's Nats-Msg-Id may
		// still be in JetStream's duplicate window, which would drop a job of the same
		// version and scan and leave the page queued for ever.
		job.Version = p.Version + 1
		return claim{publish: true, write: true}, nil
	case p.State == pipeline.StateQueued:
		// Queued: store and publish again without claiming it again. If the job got
		// through, its Nats-Msg-Id (same version, same scan) makes JetStream drop the
		// copy; if the upload that claimed the page stopped before queueing it, this heals it.
		job.Version = p.Version
		return claim{publish: true, state: p.State}, nil
	default:
		// Done with this very scan (nothing to do), or a worker has the job (ocr, metadata):
		// nothing to store or queue.
		return claim{state: p.State}, nil
	}
}

// storeFailed records why a page's scan could not be stored (err), on a page that has no
// entry or a failed one, so status names the failure; nothing was claimed or queued. It
// returns err, with the failure to record it if that failed too.
func (c *Client) storeFailed(ctx context.Context, job pipeline.OCRJob, err error) error {
	err = fmt.Errorf("%w; nothing was queued: upload the file again once the store takes it", err)
	reason := err.Error()
	_, uerr := c.status.UpdatePage(ctx, job.Doc, job.Page, func(p *pipeline.PageStatus, found bool) error {
		if found && p.State != pipeline.StateFailed {
			return bus.ErrUnchanged // done or under way: its entry stands
		}
		if !found {
			p.FileName = job.FileName
		}
		p.State, p.Error = pipeline.StateFailed, reason
		return nil
	})
	if uerr != nil {
		return fmt.Errorf("%w (and recording it in the page's status failed: %w)", err, uerr)
	}
	return err
}

// readScan reads a file and decides whether it is a scan we can take, and how many pages
// it holds. A file that cannot be read is an error; a file that is not a usable scan gives
// a refusal reason.
func readScan(ctx context.Context, path string, maxBytes, maxPixels int64) (data []byte, pages int, refusal string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, "", err
	}
	if st.Size() > maxBytes {
		return nil, 0, fmt.Sprintf("file is %d bytes, over the %d-byte limit", st.Size(), maxBytes), nil
	}
	// Read one byte past the limit in case the file grew since Stat.
	data, err = io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, 0, "", fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, 0, fmt.Sprintf("file is over the %d-byte limit", maxBytes), nil
	}
	n, refusal, err := CheckScan(ctx, data, maxPixels)
	if err != nil || refusal != "" {
		return nil, 0, refusal, err
	}
	return data, n, "", nil
}

// CheckScan decides whether data is a scan Colophon can take and how many pages it holds.
// A file that is not a usable scan gives a refusal reason; err is only for ctx ending.
func CheckScan(ctx context.Context, data []byte, maxPixels int64) (pages int, refusal string, err error) {
	n, _, err := imageinfo.Count(ctx, data, imageinfo.Limits{MaxPixels: maxPixels})
	if err != nil {
		if ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		return 0, err.Error(), nil
	}
	return n, "", nil
}
