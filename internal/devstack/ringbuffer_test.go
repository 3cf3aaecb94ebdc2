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
