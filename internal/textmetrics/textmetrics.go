// Package textmetrics measures OCR fidelity against ground truth text.
//
// Strings are compared as sequences of runes; invalid UTF-8 bytes decode to
// U+FFFD (as in a Go range loop), so two different invalid byte sequences of
// equal length compare as equal.
package textmetrics

import (
	"strings"
	"unicode"
)

// Normalize folds all runs of whitespace (spaces, tabs, newlines, form feeds,
// and any other Unicode space) to one space and trims the result.
//
// Before folding it joins end-of-line hyphenation ("exam-\nple" -> "example"):
// our ground truth has such hyphens removed, and after folding the line break
// that marks them would be gone. A hyphen is joined only when it follows a
// letter, is followed (after optional spaces or tabs) by a single line break
// ("\n" or "\r\n"), and the next line starts (after optional spaces or tabs)
// with a letter, so dashes and blank-line paragraph breaks are left alone.
func Normalize(s string) string {
	return strings.Join(strings.Fields(joinHyphenation(s)), " ")
}

// joinHyphenation removes "-<line break>" between two letters.
func joinHyphenation(s string) string {
	if !strings.Contains(s, "-") {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		if rs[i] == '-' && len(out) > 0 && unicode.IsLetter(out[len(out)-1]) {
			if next, ok := hyphenBreakEnd(rs, i+1); ok {
				i = next - 1 // resume at the letter that continues the word
				continue
			}
		}
		out = append(out, rs[i])
	}
	return string(out)
}

// hyphenBreakEnd reports whether rs[i:] is [ \t]* line-break [ \t]* letter,
// and if so returns the index of that letter.
func hyphenBreakEnd(rs []rune, i int) (int, bool) {
	i = skipBlanks(rs, i)
	switch {
	case i < len(rs) && rs[i] == '\n':
		i++
	case i+1 < len(rs) && rs[i] == '\r' && rs[i+1] == '\n':
		i += 2
	default:
		return 0, false
	}
	i = skipBlanks(rs, i)
	if i < len(rs) && unicode.IsLetter(rs[i]) {
		return i, true
	}
	return 0, false
}

func skipBlanks(rs []rune, i int) int {
	for i < len(rs) && (rs[i] == ' ' || rs[i] == '\t') {
		i++
	}
	return i
}

// Distance is the Levenshtein edit distance between a and b counted in runes
// (insertions, deletions and substitutions each cost 1). It takes O(n*m) time
// and O(min(n,m)) memory.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Keep the DP row as short as possible.
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(rb) == 0 {
		return len(ra)
	}
	// row[j] holds the distance between the current prefix of ra and rb[:j].
	row := make([]int, len(rb)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		diag := row[0] // distance(ra[:i-1], rb[:j-1])
		row[0] = i
		for j := 1; j <= len(rb); j++ {
			up := row[j] // distance(ra[:i-1], rb[:j])
			cost := diag
			if ra[i-1] != rb[j-1] {
				cost = 1 + min(diag, up, row[j-1])
			}
			diag, row[j] = up, cost
		}
	}
	return row[len(rb)]
}

// CER is the character error rate of hyp against the reference ref:
// Distance(Normalize(hyp), Normalize(ref)) divided by the number of runes in
// Normalize(ref). It can exceed 1 when hyp is much longer than ref. An empty
// (after normalization) ref gives 0 if hyp is empty too, else 1, so that a
// blank reference never divides by zero.
func CER(hyp, ref string) float64 {
	h, r := Normalize(hyp), Normalize(ref)
	n := len([]rune(r))
	if n == 0 {
		if h == "" {
			return 0
		}
		return 1
	}
	return float64(Distance(h, r)) / float64(n)
}
