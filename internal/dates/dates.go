// Package dates finds dates written in a text ("25th July 2009", "July 25, 2009",
// "1974-03-12", "March 1974", "12/03/1974"), for the metadata worker to record beside the
// date given at upload, never in its place.
package dates

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Candidate is a date found in a text.
type Candidate struct {
	Text string `json:"text"` // the words as they stand in the text
	Date string `json:"date"` // normalised: YYYY-MM-DD, or YYYY-MM when no day is written
	// Confidence, 0-1: how surely the words are a date and read one way. A full date with
	// the month in words is near 1; a month and year less (it may name a period); a date
	// in figures that reads both day-first and month-first much less.
	Confidence float64 `json:"confidence"`
	start, end int
}

const month = `(January|February|March|April|May|June|July|August|September|October|November|December|` +
	`Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?`

var (
	iso         = regexp.MustCompile(`\b(\d{4})-(\d{2})-(\d{2})\b`)
	dayMonth    = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+(?:day\s+)?of)?\s+` + month + `,?\s+(\d{4})\b`)
	monthDay    = regexp.MustCompile(`(?i)\b` + month + `\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	monthYear   = regexp.MustCompile(`(?i)\b` + month + `,?\s+(\d{4})\b`)
	figures     = regexp.MustCompile(`\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b`)
	monthByName = map[string]int{}
)

func init() {
	for m := time.January; m <= time.December; m++ {
		name := strings.ToLower(m.String())
		monthByName[name] = int(m)
		monthByName[name[:3]] = int(m)
	}
	monthByName["sept"] = 9
}

// Find returns the dates in text, in the order they appear. Where two readings overlap
// the longer (a full date over the month and year within it) is kept. Years outside
// 1500-2100 and impossible days (30 February) are not dates.
func Find(text string) []Candidate {
	var all []Candidate
	add := func(m []int, y, mo, d int, conf float64) {
		if date, ok := normalise(y, mo, d); ok {
			all = append(all, Candidate{Text: text[m[0]:m[1]], Date: date, Confidence: conf, start: m[0], end: m[1]})
		}
	}
	for _, m := range iso.FindAllStringSubmatchIndex(text, -1) {
		add(m, atoi(text, m, 1), atoi(text, m, 2), atoi(text, m, 3), 0.95)
	}
	for _, m := range dayMonth.FindAllStringSubmatchIndex(text, -1) {
		add(m, atoi(text, m, 3), monthOf(text, m, 2), atoi(text, m, 1), 0.9)
	}
	for _, m := range monthDay.FindAllStringSubmatchIndex(text, -1) {
		add(m, atoi(text, m, 3), monthOf(text, m, 1), atoi(text, m, 2), 0.9)
	}
	for _, m := range monthYear.FindAllStringSubmatchIndex(text, -1) {
		add(m, atoi(text, m, 2), monthOf(text, m, 1), noDay, 0.6)
	}
	for _, m := range figures.FindAllStringSubmatchIndex(text, -1) {
		a, b, y := atoi(text, m, 1), atoi(text, m, 2), atoi(text, m, 3)
		switch {
		case a > 12 && b <= 12: // only day-first reads
			add(m, y, b, a, 0.6)
		case b > 12 && a <= 12: // only month-first reads
			add(m, y, a, b, 0.6)
		case a == b:
			add(m, y, a, b, 0.6)
		default: // both read: day-first is the more common outside the United States
			add(m, y, b, a, 0.3)
		}
	}
	// Longest first, then earliest; keep those that overlap nothing kept.
	slices.SortStableFunc(all, func(x, y Candidate) int {
		if lx, ly := x.end-x.start, y.end-y.start; lx != ly {
			return ly - lx
		}
		return x.start - y.start
	})
	var kept []Candidate
	for _, c := range all {
		if !slices.ContainsFunc(kept, func(k Candidate) bool { return c.start < k.end && k.start < c.end }) {
			kept = append(kept, c)
		}
	}
	slices.SortFunc(kept, func(x, y Candidate) int { return x.start - y.start })
	for i := range kept {
		kept[i].Text = strings.Join(strings.Fields(kept[i].Text), " ") // a date broken over lines
	}
	return kept
}

func atoi(text string, m []int, group int) int {
	n, _ := strconv.Atoi(text[m[2*group]:m[2*group+1]])
	return n
}

func monthOf(text string, m []int, group int) int {
	return monthByName[strings.ToLower(strings.TrimSuffix(text[m[2*group]:m[2*group+1]], "."))]
}

// noDay is the day of a date written as a month and year.
const noDay = -1

// normalise checks y-mo-d is a real date (d noDay: the month alone) and writes it as ISO
// 8601.
func normalise(y, mo, d int) (string, bool) {
	if y < 1500 || y > 2100 || mo < 1 || mo > 12 {
		return "", false
	}
	if d == noDay {
		return time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"), true
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != mo {
		return "", false
	}
	return t.Format("2006-01-02"), true
}
