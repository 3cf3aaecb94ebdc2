package pipeline

// PageState is where a page is in the pipeline. A page moves forward only:
// queued → ocr → metadata → done, or to failed from any state.
type PageState string

const (
	StateQueued   PageState = "queued"
	StateOCR      PageState = "ocr"
	StateMetadata PageState = "metadata"
	StateDone     PageState = "done"
	StateFailed   PageState = "failed"
)

// Terminal reports whether a page has finished, well or badly.
func (s PageState) Terminal() bool { return s == StateDone || s == StateFailed }

// Stage names a step for logs and dead letters.
type Stage string

const (
	StageUpload   Stage = "upload"
	StageIngest   Stage = "ingest" // an object dropped into BucketScans becoming pages
	StageOCR      Stage = "ocr"
	StageMetadata Stage = "metadata"
	StageGet      Stage = "get"
	// StageFixity is a scheduled fixity audit (the metadata worker's --audit-every).
	StageFixity Stage = "fixity"
)

// Log attribute keys, so `grep doc=X` tells a page's story the same way in every process.
const (
	LogDoc      = "doc"
	LogPage     = "page"
	LogStage    = "stage"
	LogOutcome  = "outcome"
	LogDuration = "duration_ms"
	LogError    = "error"
	LogAttempt  = "attempt"
)

// Outcomes of a stage event.
const (
	OutcomeStarted   = "started"
	OutcomeOK        = "ok"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
	OutcomeSkipped   = "skipped"
	OutcomeCompleted = "completed"
)
