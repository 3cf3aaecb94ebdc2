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

// Settle applies the rules every change of a page's entry keeps, given the entry as it was
// (the zero value for a new one); every writer goes through it (bus.Status.UpdatePage).
//   - A page not done has no verdict: the verdict is that of the reading that made it done.
//   - Served is the latest version that was done, whatever happens to later ones.
//   - Only a queued page can be waiting for its job to be published.
func (p *PageStatus) Settle(was PageStatus) {
	if p.State != StateDone {
		p.Verdict, p.Review = "", ""
	}
	if was.State == StateDone {
		p.Served = max(p.Served, was.Version)
	}
	if p.State == StateDone {
		p.Served = max(p.Served, p.Version)
	}
	if p.State != StateQueued {
		p.Unqueued = false
	}
}

// ServedVersion is the version of a page whose text is to be served, 0 when none is: the
// current version once it is done, else the last version that was.
func (p PageStatus) ServedVersion() int {
	if p.State == StateDone {
		return p.Version
	}
	return p.Served
}

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
