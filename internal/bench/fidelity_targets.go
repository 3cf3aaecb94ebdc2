package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/internal/degrade"
	"github.com/colophon-archive/colophon/pipeline"
)

// The fidelity targets (issue 12: never read a real scan worse than plain
// Tesseract), for the report (never for tests).
const (
	// TargetPageCERFactor and TargetPageCERSlack make the per-page rule: the pipeline reads a
	// real page worse than plain tesseract when its CER exceeds factor x tesseract's + slack
	// (the slack so that a page both read nearly perfectly is not "worse" by a letter).
	TargetPageCERFactor = 1.1
	TargetPageCERSlack  = 0.005
	// TargetDegradedCERRatio: over the degraded pages, the pipeline's CER at most this
	// times plain tesseract's.
	TargetDegradedCERRatio = 0.3
	// TargetRotatedExcessCER: a turned page (rot90, rot180) is read "as well as upright"
	// when the pipeline's CER on it exceeds its CER on the same texts upright by no more.
	TargetRotatedExcessCER = 0.005
	// TargetEngineSecondsRatio: over the real pages, the OCR worker's seconds a page (its
	// records' durations) at most this times plain tesseract's (the whole process's).
	TargetEngineSecondsRatio = 1.15
	// Verdicts: of the real pages the pipeline read with a CER over TargetReviewAboveCER, at
	// least TargetReviewShareAbove are "review"; of those under TargetOKBelowCER, at most
	// TargetReviewShareBelow are.
	TargetReviewAboveCER   = 0.10
	TargetReviewShareAbove = 0.80
	TargetOKBelowCER       = 0.03
	TargetReviewShareBelow = 0.15
)

// SetArchivalTypescript is the corpus's typewritten archival documents (EHRI, Gallica).
const SetArchivalTypescript = "archival-typescript"

// realSetCERRatios are the real sets the issue names, in report order, with the most their
// pooled (micro) CER may be as a share of plain tesseract's. A real set not named here
// must do no worse than plain tesseract (defaultRealSetCERRatio).
var realSetCERRatios = []realSetTarget{
	{SetArchivalTypescript, 0.75},
	{SetOldBooks, 1.0},
	{SetTesseractTest, 1.0},
}

const defaultRealSetCERRatio = 1.0

// realSetTarget is a real set and the most its pooled CER may be, times tesseract's.
type realSetTarget struct {
	set   string
	ratio float64
}

// WorseThanPlain is the per-page rule: the pipeline's CER on a page exceeds
// TargetPageCERFactor x plain tesseract's + TargetPageCERSlack.
func WorseThanPlain(pipelineCER, tesseractCER float64) bool {
	return pipelineCER > worseLimit(tesseractCER)
}

// worseLimit is the most the pipeline's CER may be on a page tesseract read with cer.
func worseLimit(cer float64) float64 { return TargetPageCERFactor*cer + TargetPageCERSlack }

// WorsePage is a real page the pipeline read worse than plain tesseract (WorseThanPlain).
type WorsePage struct {
	Set          string   `json:"set"`
	Name         string   `json:"name"`
	Langs        []string `json:"langs"`
	TesseractCER float64  `json:"tesseract_cer"`
	PipelineCER  float64  `json:"pipeline_cer"`
	// Limit is the pipeline CER the rule allows on this page.
	Limit   float64 `json:"limit"`
	Verdict string  `json:"verdict"` // the pipeline's, NoVerdict without one
}

// worseThanPlain lists the real pages the pipeline read worse than plain tesseract, in
// page order; never nil, so the JSON says [] when there are none.
func (r *FidelityReport) worseThanPlain() []WorsePage {
	out := []WorsePage{}
	for _, p := range r.Pages {
		if !isReal(p.Set) || !WorseThanPlain(p.Pipeline.CER, p.Tesseract.CER) {
			continue
		}
		out = append(out, WorsePage{Set: p.Set, Name: p.Name, Langs: p.Langs, TesseractCER: p.Tesseract.CER,
			PipelineCER: p.Pipeline.CER, Limit: worseLimit(p.Tesseract.CER), Verdict: orDash(p.Pipeline.Verdict)})
	}
	return out
}

func met(ok bool) *bool { return &ok }

// targets works out every target from the pages and totals; finish has made those.
func (r *FidelityReport) targets() []Target {
	var ts []Target
	for _, s := range r.realSets() {
		ts = append(ts, r.realSetCERTarget(s.set, s.ratio), r.realSetPagesTarget(s.set))
	}
	ts = append(ts, r.engineSecondsTarget())
	ts = append(ts, r.verdictTargets()...)
	ts = append(ts, r.degradedCERTarget())
	return append(ts, r.turnedTargets()...)
}

// realSets are the real sets, present or not (a missing one is reported as not
// measured), then any other real set of the run.
func (r *FidelityReport) realSets() []realSetTarget {
	out := slices.Clone(realSetCERRatios)
	for _, t := range r.Sets {
		known := slices.ContainsFunc(out, func(s realSetTarget) bool { return s.set == t.Name })
		if isReal(t.Name) && !known {
			out = append(out, realSetTarget{t.Name, defaultRealSetCERRatio})
		}
	}
	return out
}

// setTotals is the totals of set from r.Sets, false when the run has none of its pages.
func (r *FidelityReport) setTotals(set string) (FidelityTotals, bool) {
	i := slices.IndexFunc(r.Sets, func(t FidelityTotals) bool { return t.Name == set })
	if i < 0 {
		return FidelityTotals{}, false
	}
	return r.Sets[i], true
}

func (r *FidelityReport) realSetCERTarget(set string, ratio float64) Target {
	t := Target{Name: set + ": pooled CER, pipeline / tesseract", Want: fmt.Sprintf("<= %.2fx", ratio), Got: "no pages in this run"}
	s, ok := r.setTotals(set)
	if !ok {
		return t
	}
	t.Got = fmt.Sprintf("%s (%s / %s)", ratioFmt(s.CERRatio), cerFmt(s.Pipeline.CER), cerFmt(s.Tesseract.CER))
	t.Met = met(s.Pipeline.CER <= ratio*s.Tesseract.CER) // tesseract perfect: so must the pipeline be
	return t
}

func (r *FidelityReport) realSetPagesTarget(set string) Target {
	t := Target{Name: fmt.Sprintf("%s: pages worse than %.1fx tesseract's CER + %.3f", set, TargetPageCERFactor, TargetPageCERSlack),
		Want: "none", Got: "no pages in this run"}
	s, ok := r.setTotals(set)
	if !ok {
		return t
	}
	var names []string
	for _, w := range r.WorseThanPlain {
		if w.Set == set {
			names = append(names, w.Name)
		}
	}
	t.Got = fmt.Sprintf("%d of %d", len(names), s.Pages)
	if len(names) > 0 {
		t.Got += ": " + strings.Join(names, ", ")
	}
	t.Met = met(len(names) == 0)
	return t
}

// engineSecondsTarget is the cost of reading: the OCR worker's time on the real pages
// against plain tesseract's whole process, page for page.
func (r *FidelityReport) engineSecondsTarget() Target {
	t := Target{Name: "real pages: OCR worker s/page / tesseract s/page", Want: fmt.Sprintf("<= %.2fx", TargetEngineSecondsRatio),
		Got: "no real pages in this run"}
	real := r.Real
	if real.Pages == 0 {
		return t
	}
	engine, tess := perPage(real.Pipeline.EngineSeconds, real.Pages), real.Tesseract.SecondsPerPage
	if engine <= 0 || tess <= 0 {
		t.Got = "no engine seconds in the records"
		return t
	}
	t.Got = fmt.Sprintf("%.2fx (%.2f s / %.2f s)", engine/tess, engine, tess)
	t.Met = met(engine <= TargetEngineSecondsRatio*tess)
	return t
}

// verdictTargets ask whether the pipeline's verdicts tell its bad readings from its good
// ones, over the real pages it read (a failed reading is reported as a failure, not here).
func (r *FidelityReport) verdictTargets() []Target {
	above := r.verdictShare(func(cer float64) bool { return cer > TargetReviewAboveCER })
	below := r.verdictShare(func(cer float64) bool { return cer < TargetOKBelowCER })
	return []Target{
		above.target(fmt.Sprintf("real pages with pipeline CER > %.2f: share review", TargetReviewAboveCER),
			fmt.Sprintf(">= %.0f%%", 100*TargetReviewShareAbove), func(share float64) bool { return share >= TargetReviewShareAbove }),
		below.target(fmt.Sprintf("real pages with pipeline CER < %.2f: share review", TargetOKBelowCER),
			fmt.Sprintf("<= %.0f%%", 100*TargetReviewShareBelow), func(share float64) bool { return share <= TargetReviewShareBelow }),
	}
}

// verdictCount is how a group of pages was judged.
type verdictCount struct {
	pages, review, without int // without: no verdict in the record
}

func (r *FidelityReport) verdictShare(in func(cer float64) bool) verdictCount {
	var c verdictCount
	for _, p := range r.Pages {
		pr := p.Pipeline
		if !isReal(p.Set) || pr.Error != "" || !in(pr.CER) {
			continue
		}
		c.pages++
		switch pr.Verdict {
		case string(pipeline.VerdictReview):
			c.review++
		case "", NoVerdict:
			c.without++
		}
	}
	return c
}

// target judges the share of review verdicts; it is not measured on no pages, nor while a
// page lacks a verdict (which would be inventing one).
func (c verdictCount) target(name, want string, ok func(share float64) bool) Target {
	t := Target{Name: name, Want: want, Got: "no such pages"}
	if c.pages == 0 {
		return t
	}
	judged := c.pages - c.without
	t.Got = fmt.Sprintf("%d of %d review", c.review, c.pages)
	if judged > 0 && c.without == 0 {
		share := float64(c.review) / float64(judged)
		t.Got = fmt.Sprintf("%.0f%% (%s)", 100*share, t.Got)
		t.Met = met(ok(share))
	}
	if c.without > 0 {
		t.Got += fmt.Sprintf(", %d without a verdict", c.without)
	}
	return t
}

func (r *FidelityReport) degradedCERTarget() Target {
	deg := r.totals(SetDegraded, func(p FidelityPageResult) bool { return p.Set == SetDegraded })
	t := Target{Name: "degraded pages: CER, pipeline / tesseract", Want: fmt.Sprintf("<= %.2fx", TargetDegradedCERRatio), Got: "no degraded pages"}
	if deg.Pages == 0 {
		return t
	}
	t.Got = fmt.Sprintf("%s / %s", cerFmt(deg.Pipeline.CER), cerFmt(deg.Tesseract.CER))
	if x := deg.CERRatio; x != nil {
		t.Got = fmt.Sprintf("%.2fx (%s)", *x, t.Got)
		t.Met = met(*x <= TargetDegradedCERRatio)
	} else {
		t.Met = met(deg.Pipeline.CER == 0) // tesseract read them perfectly: so must the pipeline
	}
	return t
}

// turnedTargets compare each turning degradation's pages with the same texts upright.
func (r *FidelityReport) turnedTargets() []Target {
	var ts []Target
	for _, dt := range r.Degradations {
		d := dt.Name
		deg, ok := degrade.ByName(d)
		if !ok || deg.Turn == 0 {
			continue
		}
		var texts []string
		for _, p := range r.Pages {
			if !isReal(p.Set) && p.Degradation == d {
				texts = append(texts, p.Text)
			}
		}
		upright := r.totals(degrade.Clean.Name, func(p FidelityPageResult) bool {
			return p.Set == SetClean && slices.Contains(texts, p.Text)
		})
		t := Target{Name: d + " pages: pipeline CER vs the same texts upright", Want: fmt.Sprintf("<= upright + %.3f", TargetRotatedExcessCER),
			Got: "no upright pages of the same texts"}
		if upright.Pages > 0 {
			t.Got = fmt.Sprintf("%s vs %s", cerFmt(dt.Pipeline.CER), cerFmt(upright.Pipeline.CER))
			t.Met = met(dt.Pipeline.CER <= upright.Pipeline.CER+TargetRotatedExcessCER)
		}
		ts = append(ts, t)
	}
	return ts
}
