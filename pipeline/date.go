package pipeline

import (
	"fmt"
	"time"
)

// ParseDate accepts an ISO 8601 calendar date at year, month or day precision (YYYY,
// YYYY-MM, YYYY-MM-DD), as archivists date material: often only the year is known. It
// returns the date as given, so the record keeps its precision, and refuses anything else.
func ParseDate(s string) (string, error) {
	layouts := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}
	layout, ok := layouts[len(s)]
	if !ok {
		return "", fmt.Errorf("date %q: want ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD", s)
	}
	if _, err := time.Parse(layout, s); err != nil {
		return "", fmt.Errorf("date %q: want ISO 8601 YYYY, YYYY-MM or YYYY-MM-DD", s)
	}
	return s, nil
}
