package pipeline

import "strings"

// Verdict says whether a page's text can be trusted as read, or needs a person to look at
// it against the scan. Every done page has one; a page read badly is never a silent done.
type Verdict string

const (
	// VerdictOK: the reading's measures say it is good.
	VerdictOK Verdict = "ok"
	// VerdictReview: a person should check the text against the scan; Quality.Reasons
	// (and PageStatus.Review) say why.
	VerdictReview Verdict = "review"
)

// Reasons for a review verdict, as recorded; each is a short phrase a person can act on.
const (
	// ReviewLowScore: the judge's predicted reading quality is low (few words the
	// language's dictionary knows, low confidence).
	ReviewLowScore = "low reading score"
	// ReviewLittleText: the page has ink, but little of it became text (an empty or
	// near-empty reading of a non-blank image).
	ReviewLittleText = "little text found on a page with ink"
	// ReviewUnsureOrientation: which way up the page lies could not be settled.
	ReviewUnsureOrientation = "orientation unsure"
	// ReviewUnsureScale: the text's size could not be measured on a page whose declared
	// resolution is implausible.
	ReviewUnsureScale = "text size unsure"
)

// ReviewLabelOther is the metric label of a review reason not listed in reviewLabels.
const ReviewLabelOther = "other"

// reviewLabels pairs each review reason with its metric label: a reason is a phrase for
// people, and a label must be a short fixed word.
var reviewLabels = [][2]string{
	{ReviewLowScore, "low_score"},
	{ReviewLittleText, "little_text"},
	{ReviewUnsureOrientation, "orientation_unsure"},
	{ReviewUnsureScale, "scale_unsure"},
}

// ReviewLabel is a review reason's metric label; a reason not listed is ReviewLabelOther,
// so the label set stays bounded whatever a reading records.
func ReviewLabel(reason string) string {
	for _, rl := range reviewLabels {
		if rl[0] == reason {
			return rl[1]
		}
	}
	return ReviewLabelOther
}

// ReviewLabels lists every review reason's label, then ReviewLabelOther, so each label can
// exist (at 0) before a page is judged.
func ReviewLabels() []string {
	out := make([]string, 0, len(reviewLabels)+1)
	for _, rl := range reviewLabels {
		out = append(out, rl[1])
	}
	return append(out, ReviewLabelOther)
}

// Quality is the judge's view of the kept reading, in the page's record.
type Quality struct {
	Verdict Verdict  `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"` // why review; empty for ok
	// Score is the judge's estimate of the share of characters read right, 0-1: the one
	// number readings are ranked by (see workers/ocr/judge.go for how it is made).
	Score float64 `json:"score"`
	// KnownWords is the share of the words of two letters or more that the dictionary of a
	// language read in knows.
	KnownWords float64 `json:"known_words"`
	// InkRead is the share of the page's ink (at the measuring resolution) that lies inside
	// the boxes of words read; 0 for a blank page.
	InkRead float64 `json:"ink_read"`
}

// Review is the one-line reason a person reads in status: the reasons joined.
func (q *Quality) Review() string {
	if q == nil || q.Verdict != VerdictReview {
		return ""
	}
	return strings.Join(q.Reasons, "; ")
}

// Scale is the page's resolution as declared and as measured from the size of its text,
// and how it was scaled for reading.
type Scale struct {
	// DeclaredDPI is what the file's header says (0: nothing, or no unit).
	DeclaredDPI int `json:"declared_dpi"`
	// MeasuredDPI is the resolution the text's size implies (0: too little text to tell).
	MeasuredDPI int `json:"measured_dpi,omitempty"`
	// XHeightPx is the median height of lower-case letters measured, in the scan's pixels.
	XHeightPx float64 `json:"x_height_px,omitempty"`
	// Factor is how the scan was resized before cleanup and reading (1: not at all).
	Factor float64 `json:"factor"`
	// Why says which resolution was taken and why.
	Why string `json:"why,omitempty"`
}
