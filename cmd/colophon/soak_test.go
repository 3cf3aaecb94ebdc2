package main

import (
	"strings"
	"testing"
)

// TestSoakSmoke runs the soak command small, to show it works and audits; the 1000-page
// figures come from running it by hand (docs/reliability.md).
func TestSoakSmoke(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	r := e.mustRun("soak", "--pages", "5", "--docs-of", "3")
	if !strings.Contains(r.stdout, "pages 5 in 2 documents: done 5, lost 0, doubled 0, failed 0") {
		t.Fatalf("soak report:\n%s", r.stdout)
	}
}
