package pipeline

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDocIDLen bounds document IDs: they appear in object keys, KV keys and log lines.
const MaxDocIDLen = 128

// ValidateDocID accepts IDs of ASCII letters, digits, '-' and '_', 1 to MaxDocIDLen bytes.
// The narrow alphabet is deliberate: an ID becomes an object-key prefix and a KV key, where
// path separators, "..", dots and control characters would let one document reach another's keys.
func ValidateDocID(id string) error {
	switch {
	case id == "":
		return errors.New("document ID is empty")
	case len(id) > MaxDocIDLen:
		return fmt.Errorf("document ID is %d bytes; at most %d allowed", len(id), MaxDocIDLen)
	}
	for i, r := range id {
		if r == utf8.RuneError || !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("document ID %q: character %q at byte %d is not allowed (use letters, digits, '-' and '_')", id, r, i)
		}
	}
	return nil
}

// NewDocID returns a fresh document ID: the UTC date, for people sorting a listing, and
// random bits, so two uploads in the same second never share an ID.
func NewDocID(now time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return fmt.Sprintf("doc-%s-%x", now.UTC().Format("20060102"), b)
}

// ValidatePage accepts page numbers from 1 to MaxPages.
func ValidatePage(page int) error {
	if page < 1 || page > MaxPages {
		return fmt.Errorf("page %d out of range 1..%d", page, MaxPages)
	}
	return nil
}

// MaxPages bounds the pages in one document; keys zero-pad page numbers to four digits.
const MaxPages = 9999

// ValidateLanguages accepts Tesseract language codes such as "eng", "deu", "chi_sim", "eng+fra".
func ValidateLanguages(langs []string) error {
	if len(langs) == 0 {
		return errors.New("no OCR language given")
	}
	for _, l := range langs {
		if l == "" || len(l) > 32 {
			return fmt.Errorf("OCR language %q: want a Tesseract code such as eng", l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				return fmt.Errorf("OCR language %q: want a Tesseract code such as eng", l)
			}
		}
	}
	return nil
}

// ParseLanguages splits "eng+fra" or "eng,fra" into codes and validates them.
func ParseLanguages(s string) ([]string, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == ',' || r == ' ' })
	if err := ValidateLanguages(f); err != nil {
		return nil, err
	}
	return f, nil
}
