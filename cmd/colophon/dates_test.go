package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
)

// TestDatesFound uploads a page that states its date in words: the record keeps the date
// given at upload and lists the date found in the text beside it.
func TestDatesFound(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	text := "HARBOR COURT TENANTS' ASSOCIATION\n\nMinutes of the general meeting held on the 25th July 2009 " +
		"in the community room. Forty-one members attended. The secretary read the letter from the " +
		"housing office and the meeting agreed to reply before the end of the month."
	pages, err := sample.Render(text)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "minutes.png")
	if err := os.WriteFile(path, pages[0].PNG, 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("upload", "--doc", "dated", "--source", "box 9", "--date", "2009", "--wait", path)
	recs := decodeJSON[[]pipeline.Provenance](t, e.mustRun("provenance", "dated").stdout)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Date != "2009" {
		t.Errorf("record date %q, want the date given at upload, 2009", r.Date)
	}
	want := pipeline.DateFound{Page: 1, Text: "25th July 2009", Date: "2009-07-25", Confidence: 0.9}
	if len(r.DatesFound) != 1 || r.DatesFound[0] != want {
		t.Errorf("dates found %+v, want [%+v]", r.DatesFound, want)
	}
}
