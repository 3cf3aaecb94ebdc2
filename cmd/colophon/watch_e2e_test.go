package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// watchRun is a `colophon watch` running beside the test, its output readable as it comes.
type watchRun struct {
	stdout, stderr *syncBuffer
	done           chan int
}

func startWatch(args ...string) *watchRun {
	w := &watchRun{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		w.done <- run(ctx, append([]string{"--log-format", "text", "watch"}, args...), w.stdout, w.stderr)
	}()
	return w
}

// wait returns the exit status.
func (w *watchRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-w.done:
		return code
	case <-time.After(3 * time.Minute):
		t.Fatalf("watch did not exit; it printed:\n%s", w.stdout.String())
		return 0
	}
}

var logfmtLine = regexp.MustCompile(`^(\w+=("([^"\\]|\\.)*"|[^ "=]+)( |$))+$`)

// TestWatchFollowsUpload: `watch DOC`, started before the document is uploaded, reports
// each page as the workers take it through and exits when the document is complete: 0 when
// every page is done, 1 naming the failed page when one fails. Then `watch --until-idle`
// finds nothing under way and exits at once.
func TestWatchFollowsUpload(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	files, torn := sampleWithTorn(t)

	for _, tt := range []struct {
		doc      string
		files    []string
		wantCode int
		complete string
	}{
		{"watched-ok", files, 0, "doc=watched-ok event=complete pages=2 done=2 failed=0"},
		{"watched-torn", []string{files[0], torn}, 1, "doc=watched-torn event=complete pages=2 done=1 failed=1"},
	} {
		t.Run(tt.doc, func(t *testing.T) {
			w := startWatch(tt.doc)
			// Upload only once watch is following: it reports the document appearing.
			waitFor(t, time.Minute, "watch to start", func() bool {
				return strings.Contains(w.stdout.String(), "event=waiting")
			})
			e.mustRun(append([]string{"upload", "--source", "box 9", "--doc", tt.doc}, tt.files...)...)
			code := w.wait(t)
			out := w.stdout.String()
			t.Logf("watch %s (exit %d):\n%s%s", tt.doc, code, out, w.stderr.String())
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d", code, tt.wantCode)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines {
				if !logfmtLine.MatchString(l) || !strings.HasPrefix(l, "doc="+tt.doc+" ") {
					t.Errorf("line is not key=value pairs for doc=%s: %q", tt.doc, l)
				}
			}
			if !strings.HasPrefix(lines[0], "doc="+tt.doc+" event=waiting") || !strings.HasPrefix(lines[1], "doc="+tt.doc+" event=document pages=2") {
				t.Errorf("watch did not begin by waiting for the document and seeing it arrive")
			}
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tt.complete) {
				t.Errorf("last line %q, want it to begin %q", last, tt.complete)
			}
			// Each page's way through the pipeline, in order, ending done (or failed).
			for n := 1; n <= 2; n++ {
				var states []string
				for _, l := range lines {
					if strings.Contains(l, fmt.Sprintf(" event=page page=%d ", n)) {
						states = append(states, regexp.MustCompile(`state=(\w+)`).FindStringSubmatch(l)[1])
					}
				}
				want := "done"
				if tt.wantCode == 1 && n == 2 {
					want = "failed"
				}
				if len(states) == 0 || states[len(states)-1] != want {
					t.Errorf("page %d went through %v, want it to end %s", n, states, want)
				}
			}
			// Once a page has finished there is a rate; while a page is left, a time left.
			for _, l := range lines {
				m := regexp.MustCompile(`event=page .* done=(\d) failed=(\d) pages=2`).FindStringSubmatch(l)
				if m == nil {
					continue
				}
				finished := int(m[1][0]-'0') + int(m[2][0]-'0')
				if finished > 0 && !strings.Contains(l, " pages_per_min=") {
					t.Errorf("no rate on %q", l)
				}
				if finished == 1 && !strings.Contains(l, " eta=") {
					t.Errorf("no time left on %q", l)
				}
			}
			if tt.wantCode == 1 {
				if !strings.Contains(lines[len(lines)-1], "failed_pages=2") ||
					!regexp.MustCompile(`page 2 \(torn-scan\.png\): .*(corrupt|truncated)`).MatchString(w.stderr.String()) {
					t.Errorf("watch did not name the failed page, its file and the reason:\n%s", w.stderr.String())
				}
			}
		})
	}

	// Every document is complete: --until-idle has nothing to wait for, and nothing failed
	// while it watched.
	idle := e.colophon("watch", "--until-idle")
	if idle.code != 0 || !strings.Contains(idle.stdout, "event=watching documents=2 incomplete=0") {
		t.Errorf("watch --until-idle: exit %d\n%s%s", idle.code, idle.stdout, idle.stderr)
	}
	if r := e.colophon("watch", "watched-ok", "--until-idle"); r.code == 0 || !strings.Contains(r.stderr, "--until-idle") {
		t.Errorf("watch DOC --until-idle: exit %d %s", r.code, r.stderr)
	}
}
