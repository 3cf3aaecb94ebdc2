package bench

import (
	"math"
	"strings"
	"testing"
)

func TestWorseThanPlain(t *testing.T) {
	for _, tc := range []struct {
		pipeline, tesseract float64
		want                bool
	}{
		{0, 0, false},
		{0.005, 0, false}, // the slack: a letter or so on a page both read well
		{0.006, 0, true},
		{0.114, 0.1, false}, // within 1.1x + 0.005 = 0.115
		{0.116, 0.1, true},
		{0.2, 0.5, false},
		{1, 0.9, true}, // a failed reading (CER 1) against a poor one
		{1, 1, false},
	} {
		if got := WorseThanPlain(tc.pipeline, tc.tesseract); got != tc.want {
			t.Errorf("WorseThanPlain(%v, %v) = %v, want %v", tc.pipeline, tc.tesseract, got, tc.want)
		}
	}
}

// fpage is a hand-made page result: CERs and the pipeline's verdict ("" for none).
func fpage(set, name string, tessCER, pipeCER float64, verdict string) FidelityPageResult {
	p := FidelityPageResult{Set: set, Name: name, Chars: 1000, Langs: []string{"eng"},
		Tesseract: FidelityReading{CER: tessCER, Edits: int(math.Round(tessCER * 1000)), Seconds: 1},
		Pipeline:  FidelityReading{CER: pipeCER, Edits: int(math.Round(pipeCER * 1000)), Seconds: 2, EngineSeconds: 1, Verdict: verdict}}
	if !isReal(set) {
		p.Text, p.Degradation = "x", "speckle"
	}
	return p
}

func findTarget(t *testing.T, r FidelityReport, prefix string) Target {
	t.Helper()
	for _, tg := range r.Targets {
		if strings.HasPrefix(tg.Name, prefix) {
			return tg
		}
	}
	t.Fatalf("no target %q in %+v", prefix, r.Targets)
	return Target{}
}

// Only real pages are listed, in page order, with the CER the rule allowed.
func TestWorseThanPlainList(t *testing.T) {
	r := FidelityReport{Pages: []FidelityPageResult{
		fpage(SetArchivalTypescript, "a", 0.10, 0.20, "review"),
		fpage(SetArchivalTypescript, "b", 0.10, 0.11, "ok"),
		fpage(SetDegraded, "x-speckle", 0.10, 0.50, ""), // generated: never listed
		fpage(SetOldBooks, "c", 0, 0.01, ""),
	}}
	r.finish()
	var got []string
	for _, w := range r.WorseThanPlain {
		got = append(got, w.Set+"/"+w.Name+"/"+w.Verdict)
	}
	if want := "archival-typescript/a/review old-books/c/-"; strings.Join(got, " ") != want {
		t.Fatalf("worse than plain %q, want %q", strings.Join(got, " "), want)
	}
	if w := r.WorseThanPlain[0]; !near(w.Limit, 0.115) || w.TesseractCER != 0.10 || w.PipelineCER != 0.20 {
		t.Errorf("a: %+v", w)
	}
	if tg := findTarget(t, r, "archival-typescript: pages worse"); tg.Got != "1 of 2: a" || deref(tg.Met) != false {
		t.Errorf("archival-typescript pages: %+v", tg)
	}
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"read worse than plain tesseract (pipeline CER > 1.1 x tesseract's + 0.005): 2",
		"archival-typescript     a   eng         0.1000        0.2000  0.1150   review", "WORSE"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestVerdictTargets(t *testing.T) {
	const above, below = "real pages with pipeline CER > 0.10", "real pages with pipeline CER < 0.03"
	many := func(n int, cer float64, verdict string) []FidelityPageResult {
		var ps []FidelityPageResult
		for range n {
			ps = append(ps, fpage(SetArchivalTypescript, "p", 0.5, cer, verdict))
		}
		return ps
	}
	join := func(groups ...[]FidelityPageResult) []FidelityPageResult {
		var ps []FidelityPageResult
		for _, g := range groups {
			ps = append(ps, g...)
		}
		return ps
	}
	failed := fpage(SetOldBooks, "f", 0.02, 1, NoVerdict)
	failed.Pipeline.Error = "worker refused the page"
	yes, no := met(true), met(false)
	checkTargets(t, []targetCase{
		{"4 of 5 bad readings flagged", join(many(4, 0.2, "review"), many(1, 0.3, "ok")), above, "80% (4 of 5 review)", yes},
		{"3 of 5 bad readings flagged", join(many(3, 0.2, "review"), many(2, 0.3, "ok")), above, "60% (3 of 5 review)", no},
		{"a bad reading without a verdict", join(many(4, 0.2, "review"), many(1, 0.3, NoVerdict)), above, "4 of 5 review, 1 without a verdict", nil},
		{"no bad readings", many(3, 0.05, "ok"), above, "no such pages", nil},
		{"1 of 7 good readings flagged", join(many(6, 0.01, "ok"), many(1, 0.02, "review")), below, "14% (1 of 7 review)", yes},
		{"2 of 7 good readings flagged", join(many(5, 0.01, "ok"), many(2, 0, "review")), below, "29% (2 of 7 review)", no},
		{"between 0.03 and 0.10: neither", join(many(2, 0.01, "ok"), many(3, 0.05, "review"), many(3, 0.10, "review")), below, "0% (0 of 2 review)", yes},
		{"failed and generated pages left out", join(many(1, 0.2, "review"), []FidelityPageResult{failed, fpage(SetDegraded, "x", 0.5, 0.5, "ok")}),
			above, "100% (1 of 1 review)", yes},
		{"the same, below", join(many(1, 0.01, "ok"), []FidelityPageResult{failed, fpage(SetDegraded, "x", 0.5, 0, "review")}),
			below, "0% (0 of 1 review)", yes},
	})
}

// Each real set has its pooled-CER ratio; a set the issue does not name must not be worse
// than plain tesseract; cost is the OCR worker's seconds a page against tesseract's.
func TestRealSetTargets(t *testing.T) {
	checkTargets(t, []targetCase{
		{"archival-typescript at 0.74x", []FidelityPageResult{fpage(SetArchivalTypescript, "a", 0.5, 0.37, "")},
			"archival-typescript: pooled", "0.74x (0.3700 / 0.5000)", met(true)},
		{"archival-typescript at 0.76x", []FidelityPageResult{fpage(SetArchivalTypescript, "a", 0.5, 0.38, "")},
			"archival-typescript: pooled", "0.76x (0.3800 / 0.5000)", met(false)},
		{"old-books as plain", []FidelityPageResult{fpage(SetOldBooks, "a", 0.02, 0.02, "")},
			"old-books: pooled", "1.00x (0.0200 / 0.0200)", met(true)},
		{"old-books absent", []FidelityPageResult{fpage(SetTesseractTest, "a", 0.02, 0.02, "")},
			"old-books: pooled", "no pages in this run", nil},
		{"a folder the issue does not name", []FidelityPageResult{fpage("letters", "a", 0.02, 0.03, "")},
			"letters: pooled", "1.50x (0.0300 / 0.0200)", met(false)},
		{"cost: 1 s of engine against 1 s of tesseract", []FidelityPageResult{fpage(SetOldBooks, "a", 0.02, 0.02, "")},
			"real pages: OCR worker", "1.00x (1.00 s / 1.00 s)", met(true)},
	})
	// The cost target weighs every real page; slow ones count.
	slow := fpage(SetOldBooks, "b", 0.02, 0.02, "")
	slow.Pipeline.EngineSeconds = 1.6
	r := FidelityReport{Pages: []FidelityPageResult{fpage(SetOldBooks, "a", 0.02, 0.02, ""), slow, fpage(SetDegraded, "x", 0.5, 0, "")}}
	r.finish()
	if tg := findTarget(t, r, "real pages: OCR worker"); tg.Got != "1.30x (1.30 s / 1.00 s)" || deref(tg.Met) != false {
		t.Errorf("cost: %+v", tg)
	}
}

// targetCase is a report of pages, and what the target named by its prefix should say of it.
type targetCase struct {
	name   string
	pages  []FidelityPageResult
	target string // the target's name begins so
	got    string
	met    *bool
}

func checkTargets(t *testing.T, cases []targetCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := FidelityReport{Pages: tc.pages}
			r.finish()
			tg := findTarget(t, r, tc.target)
			if tg.Got != tc.got || deref(tg.Met) != deref(tc.met) {
				t.Errorf("%s: got %q (met %v), want %q (met %v)", tg.Name, tg.Got, deref(tg.Met), tc.got, deref(tc.met))
			}
		})
	}
}
