package devstack

import (
	"strings"
	"sync"
)

// ringBuffer keeps the last limit bytes written to it. MinIO's output is only
// needed to explain failures, so we keep a bounded tail instead of logging it.
type ringBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	lost  bool // whether older output was dropped
}

func newRingBuffer(limit int) *ringBuffer {
	return &ringBuffer{limit: limit}
}

// Write never fails, so the child's output copying never stalls.
func (r *ringBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	if len(p) >= r.limit {
		p = p[len(p)-r.limit:]
		r.buf = r.buf[:0]
		r.lost = true
	}
	if over := len(r.buf) + len(p) - r.limit; over > 0 {
		// Shift in place: the buffer never grows past limit.
		r.buf = append(r.buf[:0], r.buf[over:]...)
		r.lost = true
	}
	r.buf = append(r.buf, p...)
	return n, nil
}

// String returns the retained tail, marked when older output was dropped.
func (r *ringBuffer) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost {
		return "[... earlier output dropped ...]\n" + string(r.buf)
	}
	return string(r.buf)
}

// Tail returns the last n lines of the retained output (fewer if it holds fewer): what a
// log line about a dead child shows of it.
func (r *ringBuffer) Tail(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.TrimRight(string(r.buf), "\n")
	for i, cut := len(s), 0; i > 0; i-- {
		if s[i-1] == '\n' {
			if cut++; cut == n {
				return s[i:]
			}
		}
	}
	if r.lost {
		return "[... earlier output dropped ...]\n" + s
	}
	return s
}
