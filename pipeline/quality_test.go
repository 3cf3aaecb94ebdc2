package pipeline

import (
	"slices"
	"testing"
)

func TestReviewLabel(t *testing.T) {
	tests := []struct{ reason, want string }{
		{ReviewLowScore, "low_score"},
		{ReviewLittleText, "little_text"},
		{ReviewUnsureOrientation, "orientation_unsure"},
		{ReviewUnsureScale, "scale_unsure"},
		{"page 3 (x.png) looked odd", ReviewLabelOther}, // never a label of its own
		{"", ReviewLabelOther},
	}
	for _, tt := range tests {
		got := ReviewLabel(tt.reason)
		if got != tt.want {
			t.Errorf("ReviewLabel(%q) = %q, want %q", tt.reason, got, tt.want)
		}
		if !slices.Contains(ReviewLabels(), got) {
			t.Errorf("ReviewLabel(%q) = %q is not in ReviewLabels %v", tt.reason, got, ReviewLabels())
		}
	}
	if n := len(ReviewLabels()); n != 5 {
		t.Errorf("ReviewLabels has %d labels, want 5: %v", n, ReviewLabels())
	}
}

func TestQualityReview(t *testing.T) {
	tests := []struct {
		name string
		q    *Quality
		want string
	}{
		{"no verdict", nil, ""},
		{"ok", &Quality{Verdict: VerdictOK}, ""},
		{"one reason", &Quality{Verdict: VerdictReview, Reasons: []string{ReviewLittleText}}, ReviewLittleText},
		{"two reasons", &Quality{Verdict: VerdictReview, Reasons: []string{ReviewLowScore, ReviewUnsureScale}}, "low reading score; text size unsure"},
	}
	for _, tt := range tests {
		if got := tt.q.Review(); got != tt.want {
			t.Errorf("%s: Review() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
