package devstack

import (
	"strings"
	"testing"
)

func TestRingBufferKeepsTail(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", nil, ""},
		{"fits", []string{"ab", "cd"}, "abcd"},
		{"exactly full", []string{"abcd", "efgh"}, "abcdefgh"},
		{"drops oldest", []string{"abcde", "fghij"}, "[... earlier output dropped ...]\ncdefghij"},
		{"single oversize write", []string{"0123456789ab"}, "[... earlier output dropped ...]\n456789ab"},
		{"many small writes", strings.Split("abcdefghijklmnop", ""), "[... earlier output dropped ...]\nijklmnop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRingBuffer(8)
			for _, w := range tc.writes {
				n, err := r.Write([]byte(w))
				if n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
				if len(r.buf) > 8 {
					t.Fatalf("buffer grew to %d bytes, limit 8", len(r.buf))
				}
			}
			if got := r.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRingBufferTail(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		writes []string
		n      int
		want   string
	}{
		{"empty", 64, nil, 3, ""},
		{"fewer lines than asked", 64, []string{"a\nb\n"}, 3, "a\nb"},
		{"last lines", 64, []string{"a\nb\n", "c\nd\n"}, 2, "c\nd"},
		{"no trailing newline", 64, []string{"a\nb\nc"}, 2, "b\nc"},
		{"one line", 64, []string{"a\nb\n"}, 1, "b"},
		{"whole of a truncated buffer is marked", 10, []string{"0123\n", "4567\n89"}, 5, "[... earlier output dropped ...]\n23\n4567\n89"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRingBuffer(tt.limit)
			for _, w := range tt.writes {
				r.Write([]byte(w))
			}
			if got := r.Tail(tt.n); got != tt.want {
				t.Errorf("Tail(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
