package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/colophon-archive/colophon/internal/bus"
	"github.com/colophon-archive/colophon/internal/devstack/devstacktest"
	"github.com/colophon-archive/colophon/internal/provenance"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/metadata"
)

// rawS3 is a plain S3 client on the test's MinIO: tampering is done straight in the store,
// past Colophon, as someone with the storage keys could.
func rawS3(t *testing.T, e *env) *minio.Client {
	t.Helper()
	u, err := url.Parse(e.stack.S3Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(devstacktest.AccessKey, devstacktest.SecretKey, ""), Secure: u.Scheme == "https"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVerify runs the fixity audit on untouched data, then after each kind of tampering done
// directly in the store, each undone before the next.
func TestVerify(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	e.mustRun("upload", "--doc", "audited", "--source", "box 7", "--wait", samplePages(t, 2)[0], samplePages(t, 2)[1])
	ctx := context.Background()
	s3 := rawS3(t, e)

	// Records are signed with the deployment's key and chained in the order written.
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "audited").stdout)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	pub, err := provenance.LoadPublicKeys(testPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[int]pipeline.Provenance{}
	for _, r := range recs {
		if err := provenance.Verify(r, pub...); err != nil {
			t.Errorf("page %d: %v", r.Page, err)
		}
		if r.Chain == nil {
			t.Fatalf("page %d has no place in a chain", r.Page)
		}
		seqs[r.Chain.Seq] = r
	}
	if first, second := seqs[1], seqs[2]; first.Chain == nil || second.Chain == nil || first.Chain.Prev != nil ||
		second.Chain.Prev == nil || second.Chain.Prev.Key != pipeline.ProvenanceKey("audited", first.Page, 1) {
		t.Errorf("chain: %+v", seqs)
	}

	// The records are write-once in the store, the scans and texts versioned.
	if on, mode, days, err := e.store.ObjectLock(ctx, pipeline.BucketProvenance); err != nil || !on || mode != "governance" || days != pipeline.DefaultRecordRetentionDays {
		t.Errorf("provenance bucket lock: %v %q %d %v", on, mode, days, err)
	}
	for _, b := range pipeline.VersionedBuckets {
		if v, err := e.store.Versioned(ctx, b); err != nil || !v {
			t.Errorf("bucket %s versioned: %v %v", b, v, err)
		}
	}

	verify := func(args ...string) result { return e.colophon(append([]string{"verify"}, args...)...) }
	if r := verify("audited"); r.code != 0 || !strings.Contains(r.stdout, "2 records of 1 documents") || !strings.Contains(r.stdout, "all verified") {
		t.Fatalf("untouched: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := verify("--all", "--json"); r.code != 0 {
		t.Fatalf("--all: exit %d\n%s", r.code, r.stderr)
	} else if rep := decodeJSON[map[string]any](t, r.stdout); len(rep["rows"].([]any)) != 2 {
		t.Errorf("--all rows: %v", rep["rows"])
	}

	get := func(bucket, key string) []byte {
		t.Helper()
		o, err := e.store.Get(ctx, bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		return o.Data
	}
	put := func(bucket, key string, data []byte) {
		t.Helper()
		if err := e.store.Put(ctx, bucket, key, data, "application/octet-stream", nil); err != nil {
			t.Fatal(err)
		}
	}
	del := func(bucket, key string) {
		t.Helper()
		if err := s3.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	text1, rec1Key, rec2Key := pipeline.TextKey("audited", 1, 1), pipeline.ProvenanceKey("audited", 1, 1), pipeline.ProvenanceKey("audited", 2, 1)
	other, _ := provenance.GenerateKey()

	tests := []struct {
		name   string
		tamper func() (undo func())
		want   string // the line naming the page and what failed
		get    string // what get says, refusing the text; "" when get is not concerned (scans)
	}{
		{"text rewritten", func() func() {
			orig := get(pipeline.BucketTexts, text1)
			put(pipeline.BucketTexts, text1, append([]byte("FORGED "), orig...))
			return func() { put(pipeline.BucketTexts, text1, orig) }
		}, "audited page 1 version 1: text audited/0001/v1.txt was changed", "page 1"},
		{"record rewritten", func() func() {
			orig := get(pipeline.BucketProvenance, rec2Key)
			var r pipeline.Provenance
			if err := json.Unmarshal(orig, &r); err != nil {
				t.Fatal(err)
			}
			r.Source = "box 8"
			forged, _ := pipeline.Encode(r)
			put(pipeline.BucketProvenance, rec2Key, forged)
			return func() { put(pipeline.BucketProvenance, rec2Key, orig) }
		}, "audited page 2 version 1: record audited/0002/v1.json was rewritten", "provenance record audited/0002/v1.json was rewritten"},
		{"record rewritten and signed again with another key", func() func() {
			orig := get(pipeline.BucketProvenance, rec2Key)
			var r pipeline.Provenance
			if err := json.Unmarshal(orig, &r); err != nil {
				t.Fatal(err)
			}
			r.Source = "box 8"
			if err := provenance.NewSigner(other).Sign(&r); err != nil {
				t.Fatal(err)
			}
			forged, _ := pipeline.Encode(r)
			put(pipeline.BucketProvenance, rec2Key, forged)
			return func() { put(pipeline.BucketProvenance, rec2Key, orig) }
		}, "audited page 2 version 1: record audited/0002/v1.json: signed by key " + provenance.KeyID(other.Public().(ed25519.PublicKey)) + ", which is not a trusted key", "provenance record audited/0002/v1.json was rewritten"},
		{"record deleted", func() func() {
			orig := get(pipeline.BucketProvenance, rec1Key)
			del(pipeline.BucketProvenance, rec1Key)
			return func() { put(pipeline.BucketProvenance, rec1Key, orig) }
		}, "audited page 1 version 1: record audited/0001/v1.json is missing from the store: deleted", "provenance record audited/0001/v1.json is missing"},
		{"record added outside the pipeline", func() func() {
			key := pipeline.ProvenanceKey("audited", 1, 2)
			put(pipeline.BucketProvenance, key, get(pipeline.BucketProvenance, rec1Key))
			return func() { del(pipeline.BucketProvenance, key) }
		}, "audited page 1 version 2: record audited/0001/v2.json is in the store but not in the record log", ""},
		{"scan deleted", func() func() {
			key := recs[0].Scan.Key
			orig := get(pipeline.BucketScans, key)
			del(pipeline.BucketScans, key)
			return func() { put(pipeline.BucketScans, key, orig) }
		}, "scan " + recs[0].Scan.Key + " is missing from the store", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			undo := tt.tamper()
			r := verify("audited")
			g := e.colophon("get", "audited")
			undo()
			// Whoever retrieves the text is refused it too, told which page and why.
			if tt.get != "" && (g.code == 0 || g.stdout != "" || !strings.Contains(g.stderr, tt.get)) {
				t.Errorf("get: exit %d, %d bytes on stdout, want a refusal naming %q\n%s", g.code, len(g.stdout), tt.get, g.stderr)
			}
			if r.code == 0 || !strings.Contains(r.stdout, tt.want) || !strings.Contains(r.stdout, "1 FAILED") {
				t.Errorf("exit %d, want 1 and a line with %q\n%s\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
			if r := verify("audited"); r.code != 0 {
				t.Fatalf("after undoing: exit %d\n%s", r.code, r.stdout)
			}
		})
	}

	if r := verify("no-such-doc"); r.code == 0 || !strings.Contains(r.stderr, "unknown document") {
		t.Errorf("unknown document: exit %d\n%s", r.code, r.stderr)
	}
	if r := verify(); r.code == 0 || !strings.Contains(r.stderr, "--all") {
		t.Errorf("no documents named: exit %d\n%s", r.code, r.stderr)
	}
}

// TestScheduledAudit: a metadata worker with --audit-every logs a fixity-check event for
// each document on its schedule: ok while the data is untouched, failed, naming the page
// and the object, once a text is rewritten in the store.
func TestScheduledAudit(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	files := samplePages(t, 1)
	e.mustRun("upload", "--doc", "watched", "--source", "box 7", "--wait", files[0])

	logs := startAuditor(t)
	waitFor(t, 30*time.Second, "a passing fixity check", func() bool {
		return strings.Contains(grepLines(logs.String(), "doc=watched"), `event="fixity check" outcome=ok`)
	})
	key := pipeline.TextKey("watched", 1, 1)
	if err := e.store.Put(context.Background(), pipeline.BucketTexts, key, []byte("forged"), "text/plain", nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a failed fixity check", func() bool {
		return strings.Contains(grepLines(logs.String(), "doc=watched"), `event="fixity check" outcome=failed`)
	})
	if l := grepLines(logs.String(), "fixity check failed"); !strings.Contains(l, "page=1") || !strings.Contains(l, "text "+key+" was changed") {
		t.Errorf("the failure line does not name the page and the text:\n%s", l)
	}
}

// startAuditor runs a metadata worker that audits every 200ms, until the test ends, and
// returns its log.
func startAuditor(t *testing.T) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	g := &globals{stdout: logs, stderr: logs, log: slog.New(slog.NewTextHandler(logs, nil))}
	b, store, err := connect(context.Background(), g, cfg, "auditor", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := metadata.New(ctx, b, store, metadata.WithLogger(g.log), metadata.WithSigner(testSigner(t)),
		metadata.WithAuditEvery(200*time.Millisecond), metadata.WithID("auditor"))
	if err != nil {
		cancel()
		b.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })
	return logs
}

// TestRecordLogLost: the record log is lost (its stream deleted; or with the status bucket,
// all of the NATS state) while the store keeps the records. verify --all and the scheduled
// audit fail naming each record, upload of the document is refused naming rebuild-log, and
// rebuild-log puts back the very entries that were lost, after which verify --all passes.
// A document whose stored records do not check out, or whose log says otherwise, is refused
// and nothing of it appended.
func TestRecordLogLost(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	files := samplePages(t, 2)
	upload := append([]string{"upload", "--doc", "lost", "--source", "box 7"}, files...)
	e.mustRun(append(upload, "--wait")...)
	ctx := context.Background()
	before, err := e.bus.RecordEntries(ctx, "lost")
	if err != nil || len(before) != 2 {
		t.Fatalf("record log before: %d entries, %v", len(before), err)
	}
	if r := e.colophon("verify", "--all"); r.code != 0 || !strings.Contains(r.stdout, "2 records of 1 documents") {
		t.Fatalf("verify --all before: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	audits := startAuditor(t)

	// wipe deletes what a lost NATS state loses; the next command's connect makes the
	// streams and buckets again, empty.
	wipe := func(what ...string) {
		t.Helper()
		for _, w := range what {
			var err error
			if w == pipeline.KVStatus {
				err = e.bus.JS.DeleteKeyValue(ctx, w)
			} else {
				err = e.bus.JS.DeleteStream(ctx, w)
			}
			if err != nil {
				t.Fatalf("delete %s: %v", w, err)
			}
		}
		if err := e.bus.EnsureTopology(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rec1, rec2 := pipeline.ProvenanceKey("lost", 1, 1), pipeline.ProvenanceKey("lost", 2, 1)
	logged := func() int {
		t.Helper()
		entries, err := e.bus.RecordEntries(ctx, "lost")
		if err != nil {
			t.Fatal(err)
		}
		return len(entries)
	}

	tests := []struct {
		name string
		lose []string
		// served: get still finds the pages (their status survived).
		served bool
	}{
		{"record log deleted", []string{pipeline.StreamRecords}, true},
		{"all NATS state: record log and status", []string{pipeline.StreamRecords, pipeline.KVStatus}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			statesBefore := pageStates(e, "lost")
			mark := len(audits.String())
			wipe(tt.lose...)
			if n := logged(); n != 0 {
				t.Fatalf("the record log still holds %d entries", n)
			}

			r := e.colophon("verify", "--all")
			for _, want := range []string{"lost page 1 version 1: record " + rec1 + " is in the store but not in the record log",
				"lost page 2 version 1: record " + rec2 + " is in the store but not in the record log", "2 FAILED", "rebuild-log"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("verify --all does not say %q", want)
				}
			}
			if r.code == 0 || t.Failed() {
				t.Fatalf("verify --all on a lost log: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			waitFor(t, 30*time.Second, "the scheduled audit to fail on the lost log", func() bool {
				l := grepLines(audits.String()[mark:], "fixity check failed")
				return strings.Contains(l, "doc=lost") && strings.Contains(l, rec2+" is in the store but not in the record log")
			})

			// Uploading the document again would start a second chain: refused, naming the cure,
			// and nothing queued.
			r = e.colophon(upload...)
			if r.code == 0 || !strings.Contains(r.stderr, "none in the record log") || !strings.Contains(r.stderr, "colophon rebuild-log lost") {
				t.Errorf("upload on a lost log: exit %d, want a refusal naming colophon rebuild-log lost\n%s", r.code, r.stderr)
			}
			if tt.served {
				if got := pageStates(e, "lost"); len(got) != len(statesBefore) || got[0].Version != statesBefore[0].Version {
					t.Errorf("the refused upload changed the pages: %+v, were %+v", got, statesBefore)
				}
			} else if got := pageStates(e, "lost"); got != nil {
				t.Errorf("the refused upload made pages: %+v", got)
			}

			r = e.colophon("rebuild-log", "--all", "--dry-run")
			if r.code != 0 || !strings.Contains(r.stdout, "lost: 2 records checked, 2 to append (dry run") || logged() != 0 {
				t.Fatalf("dry run: exit %d, %d entries in the log\n%s\n%s", r.code, logged(), r.stdout, r.stderr)
			}
			r = e.colophon("rebuild-log", "--all")
			if r.code != 0 || !strings.Contains(r.stdout, "lost: 2 records checked, 2 appended to the record log") {
				t.Fatalf("rebuild-log --all: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			after, err := e.bus.RecordEntries(ctx, "lost")
			if err != nil || len(after) != len(before) {
				t.Fatalf("record log after: %d entries, %v", len(after), err)
			}
			for i := range before {
				b, a := before[i], after[i]
				if a.RecordRef != b.RecordRef || a.Seq != b.Seq || !a.Created.Equal(b.Created) || (a.Prev == nil) != (b.Prev == nil) || (a.Prev != nil && *a.Prev != *b.Prev) {
					t.Errorf("entry %d rebuilt as %+v, was %+v", i+1, a, b)
				}
			}
			if r := e.colophon("verify", "--all"); r.code != 0 || !strings.Contains(r.stdout, "2 records of 1 documents") || !strings.Contains(r.stdout, "all verified") {
				t.Errorf("verify --all after the rebuild: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if r := e.colophon("rebuild-log", "lost"); r.code != 0 || !strings.Contains(r.stdout, "lost: 2 records, all in the record log already") || logged() != 2 {
				t.Errorf("rebuild-log again: exit %d, %d entries\n%s\n%s", r.code, logged(), r.stdout, r.stderr)
			}
			if tt.served {
				if r := e.colophon("get", "lost"); r.code != 0 {
					t.Errorf("get after the rebuild: exit %d\n%s", r.code, r.stderr)
				}
			}
		})
	}

	// Refusals: the log is lost again, and what the store or the log holds does not check out.
	get := func(key string) []byte {
		t.Helper()
		o, err := e.store.Get(ctx, pipeline.BucketProvenance, key)
		if err != nil {
			t.Fatal(err)
		}
		return o.Data
	}
	put := func(key string, data []byte) {
		t.Helper()
		if err := e.store.Put(ctx, pipeline.BucketProvenance, key, data, "application/json", nil); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := provenance.GenerateKey()
	// The pages were recorded in whichever order their readings finished.
	first, second := before[0], before[1]
	refusals := []struct {
		name   string
		tamper func() (undo func())
		want   string
	}{
		{"record signed again with another key", func() func() {
			orig := get(rec2)
			var r pipeline.Provenance
			if err := json.Unmarshal(orig, &r); err != nil {
				t.Fatal(err)
			}
			if err := provenance.NewSigner(other).Sign(&r); err != nil {
				t.Fatal(err)
			}
			forged, _ := pipeline.Encode(r)
			put(rec2, forged)
			return func() { put(rec2, orig) }
		}, "page 2 version 1 (" + rec2 + "): signed by key " + provenance.KeyID(other.Public().(ed25519.PublicKey)) + ", which is not a trusted key"},
		{"record rewritten, breaking the link to it", func() func() {
			orig := get(first.Key)
			var r pipeline.Provenance
			if err := json.Unmarshal(orig, &r); err != nil {
				t.Fatal(err)
			}
			r.Source = "box 8"
			if err := testSigner(t).Sign(&r); err != nil {
				t.Fatal(err)
			}
			forged, _ := pipeline.Encode(r)
			put(first.Key, forged)
			return func() { put(first.Key, orig) }
		}, fmt.Sprintf("page %d version 1 (%s): the record before it, %s, hashes to", second.Page, second.Key, first.Key)},
		{"the log holds another first entry", func() func() {
			forged := before[0]
			forged.SHA256 = strings.Repeat("0", 64)
			if err := e.bus.AppendRecord(ctx, forged, bus.ChainHead{}); err != nil {
				t.Fatal(err)
			}
			return func() {}
		}, "the record log already holds entry 1 for lost"},
	}
	for _, tt := range refusals {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			wipe(pipeline.StreamRecords)
			undo := tt.tamper()
			r := e.colophon("rebuild-log", "lost")
			undo()
			if r.code == 0 || !strings.Contains(r.stdout, "lost: REFUSED: ") || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit %d, want 1 and a refusal saying %q\n%s\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
			if n := logged(); n > 1 {
				t.Errorf("the refused rebuild left %d entries in the log", n)
			}
			// Once the store checks out again (and the log is empty), the rebuild takes.
			wipe(pipeline.StreamRecords)
			if r := e.colophon("rebuild-log", "lost"); r.code != 0 {
				t.Fatalf("rebuild-log after undoing: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	if r := e.colophon("verify", "--all"); r.code != 0 {
		t.Errorf("verify --all at the end: exit %d\n%s", r.code, r.stdout)
	}
	if r := e.colophon("rebuild-log", "--all", "--public-key", ""); r.code != 0 {
		t.Errorf("rebuild-log with COLOPHON_PUBLIC_KEY: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv(provenance.EnvPublicKey, "")
	if r := e.colophon("rebuild-log", "--all"); r.code == 0 || !strings.Contains(r.stderr, "needs the trusted public key") {
		t.Errorf("rebuild-log without a trusted key: exit %d\n%s", r.code, r.stderr)
	}
}
