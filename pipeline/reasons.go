package pipeline

// FailReason says why a page failed, in a word from a fixed set: the label of the failed
// pages metric. The page's error text is for people; it names files and pages, and as a
// label it would make a new time series for every page.
type FailReason string

const (
	ReasonUnreadableJob FailReason = "unreadable_job"    // a job that does not decode or validate
	ReasonMissingObject FailReason = "missing_object"    // a scan or output not in the store
	ReasonUnreadable    FailReason = "unreadable_object" // in the store, which cannot read it back (bitrot)
	ReasonChecksum      FailReason = "checksum_mismatch" // stored bytes differ from their SHA-256
	ReasonBadImage      FailReason = "bad_image"         // a scan that cannot be decoded
	ReasonTimeout       FailReason = "timeout"           // recognition over the per-page limit
	ReasonRecognition   FailReason = "recognition"       // Tesseract could not read the page
	ReasonRecord        FailReason = "record"            // the provenance record or its chain
	ReasonExhausted     FailReason = "crashed"           // every delivery ended without an answer
	ReasonUnavailable   FailReason = "unavailable"       // S3 or NATS kept failing past the retries
	ReasonOther         FailReason = "other"
)

// FailReasons lists every FailReason, so each label exists (at 0) before a page fails.
var FailReasons = []FailReason{ReasonUnreadableJob, ReasonMissingObject, ReasonUnreadable, ReasonChecksum, ReasonBadImage,
	ReasonTimeout, ReasonRecognition, ReasonRecord, ReasonExhausted, ReasonUnavailable, ReasonOther}
