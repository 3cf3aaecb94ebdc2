package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/pipeline"
)

// exitInterrupted is watch's status when stopped (SIGINT, SIGTERM) before what it waited for,
// as a shell reports a command killed by SIGINT: distinct from 1, failed pages.
const exitInterrupted = 130

func newWatchCmd(g *globals) *cobra.Command {
	var untilIdle bool
	cmd := &cobra.Command{
		Use:   "watch [DOC] [--until-idle]",
		Short: "Follow a document's pages (or every document's) live: done, failed, pages a minute, time left",
		Long: `Follows the page states in the status bucket as they change. On a terminal it shows a progress
bar; otherwise it prints one line per event on stdout, key=value pairs:

  doc=D event=page page=3 file=scan-3.png state=done version=1 done=3 failed=0 pages=10 pages_per_min=12.0 eta=35s verdict=ok
  doc=D event=page page=4 file=scan-4.png state=done version=1 done=4 failed=0 pages=10 pages_per_min=12.0 eta=30s verdict=review review="low reading score"
  doc=D event=complete pages=10 done=9 failed=1 review=1 elapsed=50s pages_per_min=12.0 failed_pages=7 review_pages=4

pages_per_min counts the pages finished (done or failed) since the watch began to follow the
document; eta is the pages left at that rate. Either is left out until a page has finished.
A done page's verdict is ok, or review with the reason a person should check its text against
the scan (left out while the reading gives none); review is done, not failed.

With DOC, it exits when every page of DOC is done or failed: 0 when none failed, 1 naming each
failed page and its reason on stderr. A DOC not uploaded yet is waited for. Without DOC it
follows every document until interrupted (exit 0); with --until-idle it exits once no document
has a page queued or under way, 1 if a document that finished meanwhile has failed pages.
Interrupted before that: exit 130.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc := ""
			if len(args) == 1 {
				doc = args[0]
				if err := pipeline.ValidateDocID(doc); err != nil {
					return err
				}
				if untilIdle {
					return errors.New("--until-idle is for watching every document; with DOC, watch exits when DOC is complete")
				}
			}
			c, closeFn, err := openClient(cmd.Context(), g)
			if err != nil {
				return err
			}
			defer closeFn()
			w := &watcher{doc: doc, untilIdle: untilIdle, out: newWatchOutput(g.stdout), followed: map[string]client.DocProgress{}}
			err = c.Watch(cmd.Context(), doc, w.handle)
			w.out.close()
			if err != nil && cmd.Context().Err() == nil {
				return err
			}
			return w.result(cmd.Context().Err() != nil)
		},
	}
	cmd.Flags().BoolVar(&untilIdle, "until-idle", false, "without DOC: exit once no document has a page queued or under way")
	return cmd
}

// watcher decides what each event shows and when the watch is over.
type watcher struct {
	doc       string
	untilIdle bool
	out       *watchOutput
	start     time.Time
	// followed are the documents incomplete when the watch began or seen since, as last seen.
	followed map[string]client.DocProgress
	finished *client.DocProgress // DOC, once complete
	idle     bool
}

func (w *watcher) handle(ev client.WatchEvent) bool {
	switch ev.Kind {
	case client.WatchStarted:
		w.start = ev.At
		if w.doc != "" {
			if len(ev.Docs) == 0 {
				w.out.line(watchLine(client.WatchEvent{Kind: client.WatchStarted, At: ev.At, Progress: client.DocProgress{Doc: w.doc}}))
				return true
			}
			return w.follow(client.WatchEvent{Kind: client.WatchStarted, At: ev.At, Progress: ev.Docs[0]})
		}
		incomplete := 0
		for _, p := range ev.Docs {
			if !p.Complete() {
				incomplete++
			}
		}
		w.out.line(fmt.Sprintf("event=watching documents=%d incomplete=%d", len(ev.Docs), incomplete))
		for _, p := range ev.Docs {
			if !p.Complete() {
				w.follow(client.WatchEvent{Kind: client.WatchStarted, At: ev.At, Progress: p})
			}
		}
		return !w.checkIdle()
	default:
		if !w.follow(ev) {
			return false
		}
		// A page that completes its document is followed by the complete event: wait for it.
		return ev.Kind == client.WatchPage || !w.checkIdle()
	}
}

// follow shows one document's event; false when it completes the watched DOC.
func (w *watcher) follow(ev client.WatchEvent) bool {
	p := ev.Progress
	w.followed[p.Doc] = p
	if ev.Kind == client.WatchPage {
		w.out.progress(w.label(), w.total(), ev.At, watchLine(ev))
	} else {
		w.out.line(watchLine(ev))
		w.out.progress(w.label(), w.total(), ev.At, "")
	}
	if w.doc != "" && p.Complete() && (ev.Kind == client.WatchComplete || ev.Kind == client.WatchStarted) {
		if ev.Kind == client.WatchStarted { // complete before the watch: say so the same way
			w.out.line(watchLine(client.WatchEvent{Kind: client.WatchComplete, At: ev.At, Progress: p}))
		}
		w.finished = &p
		return false
	}
	return true
}

// checkIdle reports (with --until-idle) whether every followed document is complete.
func (w *watcher) checkIdle() bool {
	if !w.untilIdle || w.doc != "" {
		return false
	}
	for _, p := range w.followed {
		if !p.Complete() {
			return false
		}
	}
	w.idle = true
	return true
}

func (w *watcher) label() string {
	if w.doc != "" {
		return w.doc
	}
	return fmt.Sprintf("%d documents", len(w.followed))
}

// total is the followed documents' progress as one, for the bar.
func (w *watcher) total() client.DocProgress {
	t := client.DocProgress{Since: w.start}
	for _, p := range w.followed {
		t.Pages += p.Pages
		t.Done += p.Done
		t.Failed += p.Failed
		t.Reviews = append(t.Reviews, p.Reviews...)
		t.FinishedBefore += p.FinishedBefore
	}
	if w.doc != "" {
		if p, ok := w.followed[w.doc]; ok {
			t.Since = p.Since
		}
	}
	return t
}

// result is the command's outcome once the watch has ended.
func (w *watcher) result(interrupted bool) error {
	switch {
	case w.finished != nil:
		return failedPagesError(w.finished.Report())
	case w.doc != "" || (w.untilIdle && !w.idle):
		if interrupted {
			what := "every document was idle"
			if w.doc != "" {
				what = "document " + w.doc + " was complete"
			}
			return &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted before %s", what)}
		}
		return errors.New("watch ended early")
	case w.idle:
		var msgs []string
		names := make([]string, 0, len(w.followed))
		for name := range w.followed {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if err := failedPagesError(w.followed[name].Report()); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		if len(msgs) > 0 {
			return &exitError{code: 1, err: errors.New(strings.Join(msgs, "\n"))}
		}
	}
	return nil
}

// watchLine formats an event as one line of key=value pairs: greppable by doc= and event=,
// and read back by anything that splits logfmt.
func watchLine(ev client.WatchEvent) string {
	p := ev.Progress
	kv := []string{pipeline.LogDoc, p.Doc}
	add := func(k string, v any) { kv = append(kv, k, fmt.Sprint(v)) }
	rate := func() {
		if r := p.Rate(ev.At); r > 0 {
			add("pages_per_min", strconv.FormatFloat(r, 'f', 1, 64))
		}
	}
	eta := func() {
		if d, ok := p.ETA(ev.At); ok && !p.Complete() {
			add("eta", roundETA(d))
		}
	}
	switch ev.Kind {
	case client.WatchStarted:
		if p.Pages == 0 {
			add("event", "waiting")
			add("reason", "no such document yet")
			break
		}
		add("event", "watching")
		add("pages", p.Pages)
		add("done", p.Done)
		add("failed", p.Failed)
		add("in_progress", max(0, p.Pages-p.Finished()))
	case client.WatchDocument:
		add("event", "document")
		add("pages", p.Pages)
		add("source", p.Source)
	case client.WatchPage:
		add("event", "page")
		add(pipeline.LogPage, ev.Page.Page)
		add("file", ev.Page.FileName)
		add("state", ev.Page.State)
		add("version", ev.Page.Version)
		add("done", p.Done)
		add("failed", p.Failed)
		add("pages", p.Pages)
		rate()
		eta()
		if ev.Page.State == pipeline.StateDone && ev.Page.Verdict != "" {
			add("verdict", ev.Page.Verdict)
			if ev.Page.Review != "" {
				add("review", ev.Page.Review)
			}
		}
		if ev.Page.Error != "" {
			add(pipeline.LogError, ev.Page.Error)
		}
	case client.WatchComplete:
		add("event", "complete")
		add("pages", p.Pages)
		add("done", p.Done)
		add("failed", p.Failed)
		add("review", len(p.Reviews))
		add("elapsed", ev.At.Sub(p.Since).Round(time.Second))
		rate()
		if len(p.Failures) > 0 {
			add("failed_pages", pageList(p.Failures))
		}
		if len(p.Reviews) > 0 {
			add("review_pages", pageList(p.Reviews))
		}
	}
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(logfmtValue(kv[i+1]))
	}
	return b.String()
}

// pageList is the pages' numbers, comma-separated.
func pageList(pages []client.PageReport) string {
	nums := make([]string, len(pages))
	for i, p := range pages {
		nums[i] = strconv.Itoa(p.Page)
	}
	return strings.Join(nums, ",")
}

// roundETA rounds to the second, and never to 0 while pages are left.
func roundETA(d time.Duration) time.Duration { return max(d.Round(time.Second), time.Second) }

// logfmtValue quotes a value that would not read back as one token.
func logfmtValue(v string) string {
	if v == "" || strings.ContainsAny(v, " =\"\\") || strings.ContainsFunc(v, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(v)
	}
	return v
}

// barDescription is what the bar shows beside it: the rate, the time left and the failures.
func barDescription(label string, p client.DocProgress, now time.Time) string {
	parts := []string{label}
	if r := p.Rate(now); r > 0 {
		parts = append(parts, strconv.FormatFloat(r, 'f', 1, 64)+" pages/min")
	}
	if d, ok := p.ETA(now); ok && !p.Complete() {
		parts = append(parts, "ETA "+roundETA(d).String())
	}
	if p.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", p.Failed))
	}
	if n := len(p.Reviews); n > 0 {
		parts = append(parts, fmt.Sprintf("%d to review", n))
	}
	return strings.Join(parts, "  ")
}

// watchOutput is a progress bar on a terminal, lines otherwise: a log file or CI wants
// lines, not redraws.
type watchOutput struct {
	w        io.Writer
	terminal bool
	bar      *progressbar.ProgressBar
}

func newWatchOutput(w io.Writer) *watchOutput {
	f, ok := w.(*os.File)
	return &watchOutput{w: w, terminal: ok && term.IsTerminal(int(f.Fd()))}
}

// line prints a line: on a terminal, above the bar.
func (o *watchOutput) line(s string) {
	if o.bar != nil {
		_ = o.bar.Clear()
	}
	fmt.Fprintln(o.w, s)
}

// progress shows the progress: the bar on a terminal, the line (if any) otherwise.
func (o *watchOutput) progress(label string, p client.DocProgress, now time.Time, line string) {
	if !o.terminal {
		if line != "" {
			fmt.Fprintln(o.w, line)
		}
		return
	}
	if p.Pages == 0 {
		return
	}
	// A bar that reached its end stays there; new work after that gets a new bar.
	if o.bar == nil || (o.bar.IsFinished() && !p.Complete()) {
		o.bar = progressbar.NewOptions(p.Pages, progressbar.OptionSetWriter(o.w), progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false), progressbar.OptionFullWidth())
	}
	o.bar.ChangeMax(p.Pages)
	o.bar.Describe(barDescription(label, p, now))
	_ = o.bar.Set(p.Finished())
}

func (o *watchOutput) close() {
	if o.bar != nil {
		_ = o.bar.Exit()
		fmt.Fprintln(o.w)
	}
}
