// Package audit is the fixity audit behind `colophon verify` and the metadata worker's
// scheduled checks: it re-hashes every scan and output in the store against its provenance
// record, checks each record's signature, and checks each record against the record log, so
// a rewritten text, a rewritten record and a deleted record are all found and named.
package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/objectstore"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
)

// Store is what an audit reads of the object store.
type Store interface {
	Get(ctx context.Context, bucket, key string) (objectstore.Object, error)
	List(ctx context.Context, bucket, prefix string) ([]string, error)
}

// Log is what an audit reads of the record log.
type Log interface {
	RecordEntries(ctx context.Context, doc string) ([]pipeline.RecordEntry, error)
	RecordDocs(ctx context.Context) ([]string, error)
}

// Status is what an audit reads of the pages' status.
type Status interface {
	Pages(ctx context.Context, doc string) ([]pipeline.PageStatus, error)
}

// What each check is of, in the order a row shows them.
const (
	CheckScan      = "scan"
	CheckRecord    = "record"
	CheckSignature = "signature"
	CheckChain     = "chain"
)

// Columns are the checks of a row, in order: the scan, each output format, then the record.
var Columns = []string{CheckScan, pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF, CheckRecord, CheckSignature, CheckChain}

// Outcomes of a check.
const (
	OK      = "ok"
	Failed  = "FAIL"
	Missing = "-" // the record has no such output
)

// Row is one provenance record's checks: a page at one version.
type Row struct {
	Doc     string            `json:"doc"`
	Page    int               `json:"page"`
	Version int               `json:"version"`
	Checks  map[string]string `json:"checks"` // column -> OK, Failed or Missing
	// Problems say what failed and how, each naming the object.
	Problems []string `json:"problems,omitempty"`
}

// Failed reports whether any check of the row failed.
func (r Row) Failed() bool { return len(r.Problems) > 0 }

// Report is an audit's outcome.
type Report struct {
	Docs []string `json:"docs"`
	Rows []Row    `json:"rows"`
	// Objects is how many stored objects were re-hashed (a scan shared by pages, once).
	Objects int `json:"objects"`
	// Pending are pages still being recognised: not yet expected to have a record.
	Pending int `json:"pending"`
	// Unlogged counts the records in the store that the record log does not hold (a lost or
	// replaced log, or records not written by the pipeline): each is a failed row too.
	Unlogged int `json:"unlogged,omitempty"`
}

// Failures counts the rows with a failed check.
func (r Report) Failures() int {
	n := 0
	for _, row := range r.Rows {
		if row.Failed() {
			n++
		}
	}
	return n
}

// Options tune an audit.
type Options struct {
	// Trusted are the public keys records must be signed with; none: the key each record
	// carries (which shows a record is intact since signed, not who signed it).
	Trusted []ed25519.PublicKey
}

// ErrUnknownDocument is a document with no record, no log entry and no status.
var ErrUnknownDocument = errors.New("unknown document")

// RebuildCommand is the command that rebuilds a lost record log from the stored records,
// named wherever records are found that the log does not hold.
const RebuildCommand = "colophon rebuild-log"

// Run audits docs (when docs is empty, every document in the record log or in the store:
// a lost log must not hide the records the store still holds).
func Run(ctx context.Context, store Store, log Log, status Status, docs []string, o Options) (Report, error) {
	var rep Report
	if len(docs) == 0 {
		all, err := Docs(ctx, store, log)
		if err != nil {
			return rep, err
		}
		docs = all
	}
	a := &auditor{store: store, opts: o, hashes: map[string]string{}}
	for _, doc := range docs {
		rows, pending, unlogged, err := a.doc(ctx, log, status, doc)
		if err != nil {
			return rep, fmt.Errorf("audit %s: %w", doc, err)
		}
		rep.Docs = append(rep.Docs, doc)
		rep.Rows = append(rep.Rows, rows...)
		rep.Pending += pending
		rep.Unlogged += unlogged
	}
	rep.Objects = len(a.hashes)
	return rep, nil
}

// Docs lists, sorted, every document with an entry in the record log or a record in the
// store.
func Docs(ctx context.Context, store Store, log Log) ([]string, error) {
	logged, err := log.RecordDocs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the record log's documents: %w", err)
	}
	stored, err := StoredDocs(ctx, store)
	if err != nil {
		return nil, err
	}
	docs := append(logged, stored...)
	slices.Sort(docs)
	return slices.Compact(docs), nil
}

// StoredDocs lists, sorted, every document with a provenance record in the store.
func StoredDocs(ctx context.Context, store Store) ([]string, error) {
	keys, err := store.List(ctx, pipeline.BucketProvenance, "")
	if err != nil {
		return nil, fmt.Errorf("list the stored provenance records: %w", err)
	}
	var docs []string
	for _, key := range keys {
		if doc, _, ok := strings.Cut(key, "/"); ok && isRecordKey(key) {
			docs = append(docs, doc)
		}
	}
	slices.Sort(docs)
	return slices.Compact(docs), nil
}

// RecordKeys lists the keys of doc's provenance records in the store, in lexical order.
func RecordKeys(ctx context.Context, store Store, doc string) ([]string, error) {
	keys, err := store.List(ctx, pipeline.BucketProvenance, doc+"/")
	if err != nil {
		return nil, fmt.Errorf("list the stored provenance records of %s: %w", doc, err)
	}
	return slices.DeleteFunc(keys, func(k string) bool { return !isRecordKey(k) }), nil
}

// isRecordKey reports whether key is a provenance record's (<doc>/0001/v1.json).
func isRecordKey(key string) bool {
	page, version := pageVersion(key)
	return page > 0 && version > 0 && strings.HasSuffix(key, ".json")
}

type auditor struct {
	store  Store
	opts   Options
	hashes map[string]string // bucket/key -> SHA-256, or "" when missing; each object read once
}

// sha256Of reads an object and hashes it; "" with a nil error when it is not in the store.
func (a *auditor) sha256Of(ctx context.Context, bucket, key string) (string, error) {
	id := bucket + "/" + key
	if h, ok := a.hashes[id]; ok {
		return h, nil
	}
	obj, err := a.store.Get(ctx, bucket, key)
	if errors.Is(err, objectstore.ErrNotFound) {
		a.hashes[id] = ""
		return "", nil
	}
	if err != nil {
		return "", err
	}
	h := objectstore.SHA256(obj.Data)
	a.hashes[id] = h
	return h, nil
}

func (a *auditor) doc(ctx context.Context, log Log, status Status, doc string) (rows []Row, pending, unlogged int, err error) {
	entries, err := log.RecordEntries(ctx, doc)
	if err != nil {
		return nil, 0, 0, err
	}
	// A document with no status entry is audited all the same: a status bucket lost or
	// wiped must not hide its records.
	pages, err := status.Pages(ctx, doc)
	if err != nil && !errors.Is(err, bus.ErrNoDocument) {
		return nil, 0, 0, err
	}
	stored, err := RecordKeys(ctx, a.store, doc)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(entries) == 0 && len(pages) == 0 && len(stored) == 0 {
		return nil, 0, 0, ErrUnknownDocument
	}

	logged := map[string]bool{}
	for i, e := range entries {
		logged[e.Key] = true
		row := newRow(doc, e.Page, e.Version)
		// The log's own line: each entry follows the one before it.
		row.Checks[CheckChain] = OK
		if e.Seq != i+1 || (i == 0) != (e.Prev == nil) || (i > 0 && *e.Prev != entries[i-1].RecordRef) {
			row.fail(CheckChain, "record log entry %d does not follow the entry before it", i+1)
		}
		a.record(ctx, &row, e)
		rows = append(rows, row)
	}

	// Records in the store that the log does not hold: the log was lost or replaced, or
	// they were not written by a metadata worker. The one exception is a record whose
	// append was cut short: the metadata worker stores a record before it appends its log
	// entry, so the page is then not done, and its job's redelivery appends it.
	inFlight := map[string]bool{}
	for _, p := range pages {
		if p.State != pipeline.StateDone && p.State != pipeline.StateFailed {
			pending++
			inFlight[pipeline.ProvenanceKey(doc, p.Page, p.Version)] = true
		}
	}
	unloggedRows := map[string]*Row{}
	for _, key := range stored {
		if logged[key] || inFlight[key] {
			continue
		}
		page, version := pageVersion(key)
		row := newRow(doc, page, version)
		row.Checks[CheckRecord] = Failed
		row.fail(CheckChain, "record %s is in the store but not in the record log (a lost or replaced log: %s rebuilds it from the signed records)", key, RebuildCommand)
		unloggedRows[key] = &row
		unlogged++
	}
	for _, p := range pages {
		key := pipeline.ProvenanceKey(doc, p.Page, p.Version)
		if p.State != pipeline.StateDone || logged[key] {
			continue
		}
		if row, ok := unloggedRows[key]; ok {
			row.fail(CheckChain, "page is done but the record log has no record of version %d", p.Version)
			continue
		}
		row := newRow(doc, p.Page, p.Version)
		row.fail(CheckChain, "page is done but the record log has no record of version %d", p.Version)
		rows = append(rows, row)
	}
	for _, row := range unloggedRows {
		rows = append(rows, *row)
	}
	slices.SortStableFunc(rows, func(x, y Row) int {
		if x.Page != y.Page {
			return x.Page - y.Page
		}
		return x.Version - y.Version
	})
	return rows, pending, unlogged, nil
}

// newRow is a row with every check not (yet) made.
func newRow(doc string, page, version int) Row {
	row := Row{Doc: doc, Page: page, Version: version, Checks: map[string]string{}}
	for _, c := range Columns {
		row.Checks[c] = Missing
	}
	return row
}

// record checks one logged record: that it is in the store unchanged, signed, in its place
// in the chain, and that every object it names is unchanged.
func (a *auditor) record(ctx context.Context, row *Row, e pipeline.RecordEntry) {
	obj, err := a.store.Get(ctx, pipeline.BucketProvenance, e.Key)
	if errors.Is(err, objectstore.ErrNotFound) {
		row.fail(CheckRecord, "record %s is missing from the store: deleted (the record log has it as entry %d)", e.Key, e.Seq)
		return
	}
	if err != nil {
		row.fail(CheckRecord, "record %s: %v", e.Key, err)
		return
	}
	row.Checks[CheckRecord] = OK
	if got := objectstore.SHA256(obj.Data); got != e.SHA256 {
		row.fail(CheckRecord, "record %s was rewritten: it hashes to %s, the record log has %s", e.Key, got, e.SHA256)
	}
	var rec pipeline.Provenance
	if err := json.Unmarshal(obj.Data, &rec); err != nil {
		row.fail(CheckRecord, "record %s is unreadable: %v", e.Key, err)
		return
	}
	row.Checks[CheckSignature] = OK
	if err := provenance.Verify(rec, a.opts.Trusted...); err != nil {
		row.fail(CheckSignature, "record %s: %v", e.Key, err)
	}
	if rec.Chain == nil || rec.Chain.Seq != e.Seq || !sameRef(rec.Chain.Prev, e.Prev) {
		row.fail(CheckChain, "record %s does not name its place in the chain the record log gives (entry %d)", e.Key, e.Seq)
	}
	if rec.Doc != row.Doc || rec.Page != e.Page || rec.Version != e.Version {
		row.fail(CheckRecord, "record %s is for %s page %d version %d", e.Key, rec.Doc, rec.Page, rec.Version)
	}

	objects := []struct {
		column string
		ref    pipeline.ObjectRef
	}{{CheckScan, rec.Scan}}
	for _, f := range []string{pipeline.FormatText, pipeline.FormatHOCR, pipeline.FormatALTO, pipeline.FormatPDF} {
		if ref, ok := rec.Outputs()[f]; ok {
			objects = append(objects, struct {
				column string
				ref    pipeline.ObjectRef
			}{f, ref})
		}
	}
	for _, o := range objects {
		got, err := a.sha256Of(ctx, o.ref.Bucket, o.ref.Key)
		switch {
		case err != nil:
			row.fail(o.column, "%s %s: %v", o.column, o.ref.Key, err)
		case got == "":
			row.fail(o.column, "%s %s is missing from the store", o.column, o.ref.Key)
		case got != o.ref.SHA256:
			row.fail(o.column, "%s %s was changed: it hashes to %s, the record says %s", o.column, o.ref.Key, got, o.ref.SHA256)
		default:
			row.Checks[o.column] = OK
		}
	}
}

func (r *Row) fail(column, format string, args ...any) {
	r.Checks[column] = Failed
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func sameRef(a, b *pipeline.RecordRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// pageVersion reads the page and version from a record key (<doc>/0001/v1.json); 0s when
// it is not in that form.
func pageVersion(key string) (page, version int) {
	parts := strings.Split(key, "/")
	if len(parts) < 3 {
		return 0, 0
	}
	fmt.Sscanf(parts[len(parts)-2], "%d", &page)
	fmt.Sscanf(parts[len(parts)-1], "v%d.json", &version)
	return page, version
}
