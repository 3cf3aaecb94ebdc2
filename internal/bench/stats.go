package bench

import (
	"math"
	"slices"

	"github.com/colophon-archive/colophon/internal/textmetrics"
)

// Percentile is the p-th percentile (0 <= p <= 100) of xs by linear interpolation between
// the two nearest ranks (the "type 7" definition of R and NumPy's default): the sorted
// values sit at ranks 0..n-1 and the percentile at rank p/100*(n-1). So p=0 is the minimum,
// p=100 the maximum, p=50 of an even count the mean of the middle two. NaN for no values
// or p outside [0, 100]. xs is not modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 || !(p >= 0 && p <= 100) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	if lo == hi {
		return s[lo]
	}
	return s[lo] + (rank-float64(lo))*(s[hi]-s[lo])
}

// Mean is the arithmetic mean of xs; NaN for none.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// PagesPerMinute is pages over elapsed seconds, in pages a minute; 0 when nothing was timed.
func PagesPerMinute(pages int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(pages) / seconds * 60
}

// MeanCER is the mean character error rate (textmetrics.CER) of texts, one per page in
// order, against the pages' ground truth, over the pages that have it; nil when none has
// or the texts are not one per page.
func (s PageSet) MeanCER(texts []string) *float64 {
	if len(texts) != len(s.Pages) {
		return nil
	}
	var cers []float64
	for i, p := range s.Pages {
		if p.HasTruth {
			cers = append(cers, textmetrics.CER(texts[i], p.Truth))
		}
	}
	if len(cers) == 0 {
		return nil
	}
	m := Mean(cers)
	return &m
}

// MeanCERBetween is the mean CER of hyps against refs, page by page (equal lengths); how
// far two engines' readings of the same pages differ. nil when the lengths differ or are 0.
func MeanCERBetween(hyps, refs []string) *float64 {
	if len(hyps) != len(refs) || len(hyps) == 0 {
		return nil
	}
	cers := make([]float64, len(hyps))
	for i := range hyps {
		cers[i] = textmetrics.CER(hyps[i], refs[i])
	}
	m := Mean(cers)
	return &m
}
