package pipeline

import "time"

// JetStream streams, subjects and consumers. The work streams use the work-queue retention
// policy: a job is removed once acknowledged, so a stream's size is the backlog.
const (
	StreamOCR  = "COLOPHON_OCR"
	SubjectOCR = "colophon.ocr"
	// ConsumerOCR is the durable pull consumer every OCR worker shares.
	ConsumerOCR = "ocr"

	StreamMetadata   = "COLOPHON_METADATA"
	SubjectMetadata  = "colophon.metadata"
	ConsumerMetadata = "metadata"

	// StreamDead keeps jobs that failed for good, for a person to inspect or replay.
	// Its subjects are SubjectDead + "." + stage, e.g. "colophon.dead.ocr".
	StreamDead  = "COLOPHON_DEAD"
	SubjectDead = "colophon.dead"

	// StreamRecords is the record log: one RecordEntry per provenance record written, on
	// RecordSubject. Nothing is ever deleted from it (the stream denies deletes and purges),
	// so it knows every record the store should hold and the order of each document's chain.
	StreamRecords  = "COLOPHON_RECORDS"
	SubjectRecords = "colophon.records"

	// StreamS3Events holds the S3 event notifications MinIO publishes (its NATS target with
	// JetStream on) for objects created in BucketScans: S3-native ingest. A work queue like
	// the job streams; MinIO sets no Nats-Msg-Id, so the ingest worker de-duplicates itself.
	StreamS3Events  = "COLOPHON_S3_EVENTS"
	SubjectS3Events = "colophon.s3events"
	// ConsumerIngest is the durable pull consumer every ingest worker shares.
	ConsumerIngest = "ingest"
)

// MinIO's side of S3-native ingest: the NATS notification target's ID (its settings are
// MINIO_NOTIFY_NATS_*_COLOPHON) and the ARN a bucket notification names it by.
const (
	NotifyTargetID = "COLOPHON"
	NotifyARN      = "arn:minio:sqs::" + NotifyTargetID + ":nats"
)

// Key-value buckets.
const (
	// KVStatus holds a DocumentStatus under the document ID and a PageStatus under
	// StatusPageKey(doc, page).
	KVStatus = "colophon_status"
	// KVWorkers holds one entry per live worker, refreshed every WorkerHeartbeat and expiring
	// after WorkerTTL: the health check reads it.
	KVWorkers = "colophon_workers"
	// KVIngest holds an IngestEntry per S3 object the ingest worker took (under
	// IngestObjectKey) and per S3 event it could not take (under IngestFailureKey), so a
	// redelivered event or an object PUT again unchanged never makes a second page.
	KVIngest = "colophon_ingest"
)

// Object-store buckets.
const (
	BucketScans      = "colophon-scans"
	BucketTexts      = "colophon-texts"
	BucketProvenance = "colophon-provenance"
)

// Buckets lists every object-store bucket the pipeline needs.
var Buckets = []string{BucketScans, BucketTexts, BucketProvenance}

// VersionedBuckets keep every version of an object: a scan or text rewritten or deleted in
// the store leaves the one its record vouches for. BucketProvenance is write-once besides:
// object lock, governance mode by default, for DefaultRecordRetentionDays.
var VersionedBuckets = []string{BucketScans, BucketTexts}

// DefaultRecordRetentionDays is how long each version of a record is locked by default.
const DefaultRecordRetentionDays = 3650

// Delivery policy shared by the consumers and the workers that honour it.
const (
	// AckWait is how long a job may go without an ack or an in-progress heartbeat before
	// JetStream hands it to another worker: the delay before a crashed worker's page is
	// picked up again. Workers heartbeat every AckWait/3 while they work.
	AckWait = 30 * time.Second
	// MaxDeliver bounds redeliveries: after this many the job goes to the dead-letter subject
	// and the page is failed, so a poison job cannot loop forever.
	MaxDeliver = 5
	// DuplicateWindow is how long JetStream remembers a Nats-Msg-Id to drop a repeated publish.
	DuplicateWindow = 10 * time.Minute

	WorkerHeartbeat = 5 * time.Second
	WorkerTTL       = 20 * time.Second
)

// Worker kinds, as they announce themselves in KVWorkers ("ocr.<id>", "metadata.<id>").
const (
	WorkerOCR      = "ocr"
	WorkerMetadata = "metadata"
	WorkerIngest   = "ingest"
)

// Object metadata keys set on stored scans and texts (S3 user metadata, sent as X-Amz-Meta-*).
const (
	MetaSHA256   = "Sha256"
	MetaDoc      = "Doc"
	MetaPage     = "Page"
	MetaSource   = "Source"
	MetaDate     = "Date"
	MetaFileName = "Filename"
	// Read from objects dropped straight into BucketScans (x-amz-meta-lang: "eng+fra";
	// x-amz-meta-uploader: who dropped them), besides Source and Date.
	MetaLanguages = "Lang"
	MetaUploader  = "Uploader"
)
