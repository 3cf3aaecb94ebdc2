package bench

import (
	"math"
	"slices"
	"testing"
)

func TestPercentile(t *testing.T) {
	oneToTen := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5} // unsorted on purpose
	for _, tc := range []struct {
		name string
		xs   []float64
		p    float64
		want float64 // NaN: no answer
	}{
		{"no values", nil, 50, math.NaN()},
		{"p below 0", []float64{1, 2}, -1, math.NaN()},
		{"p above 100", []float64{1, 2}, 101, math.NaN()},
		{"p NaN", []float64{1, 2}, math.NaN(), math.NaN()},
		{"one value p50", []float64{42}, 50, 42},
		{"one value p95", []float64{42}, 95, 42},
		{"p0 is the minimum", oneToTen, 0, 1},
		{"p100 is the maximum", oneToTen, 100, 10},
		{"p50 of an even count is the mean of the middle two", oneToTen, 50, 5.5},
		{"p50 of an odd count is the middle", []float64{3, 1, 2}, 50, 2},
		{"p95 of 1..10 interpolates between 9 and 10", oneToTen, 95, 9.55},
		{"p25 of 1..10", oneToTen, 25, 3.25},
		{"p50 of two samples", []float64{40, 60}, 50, 50},
		{"p95 of two samples", []float64{40, 60}, 95, 59},
		{"ties", []float64{7, 7, 7, 7}, 95, 7},
		{"negative values", []float64{-5, -1, -3}, 50, -3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.xs)
			got := Percentile(tc.xs, tc.p)
			if math.IsNaN(tc.want) {
				if !math.IsNaN(got) {
					t.Fatalf("Percentile(%v, %v) = %v, want NaN", tc.xs, tc.p, got)
				}
			} else if math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tc.xs, tc.p, got, tc.want)
			}
			if !slices.Equal(in, tc.xs) {
				t.Fatalf("Percentile changed its input: %v, was %v", tc.xs, in)
			}
		})
	}
}

func TestMeanAndPagesPerMinute(t *testing.T) {
	if got := Mean([]float64{1, 2, 3, 6}); got != 3 {
		t.Errorf("Mean = %v, want 3", got)
	}
	if got := Mean(nil); !math.IsNaN(got) {
		t.Errorf("Mean(nil) = %v, want NaN", got)
	}
	for _, tc := range []struct {
		pages   int
		seconds float64
		want    float64
	}{
		{20, 60, 20},
		{20, 30, 40},
		{1, 0.5, 120},
		{5, 0, 0},  // nothing timed
		{5, -1, 0}, // nonsense
	} {
		if got := PagesPerMinute(tc.pages, tc.seconds); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("PagesPerMinute(%d, %v) = %v, want %v", tc.pages, tc.seconds, got, tc.want)
		}
	}
}

func TestMeanCER(t *testing.T) {
	set := PageSet{Pages: []PageFile{
		{Truth: "abcd", HasTruth: true},
		{Truth: "wxyz", HasTruth: true},
		{}, // no ground truth: left out of the mean
	}}
	for _, tc := range []struct {
		name  string
		texts []string
		want  *float64
	}{
		{"exact", []string{"abcd", "wxyz", "anything"}, cerPtr(0)},
		{"one error in four, and none", []string{"abcx", "wxyz", ""}, cerPtr(0.125)},
		{"whitespace does not count", []string{"abcd\n", "  wxyz ", ""}, cerPtr(0)},
		{"not one text per page", []string{"abcd"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := set.MeanCER(tc.texts)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("MeanCER = %v, want nil", *got)
			case tc.want != nil && (got == nil || math.Abs(*got-*tc.want) > 1e-9):
				t.Fatalf("MeanCER = %v, want %v", got, *tc.want)
			}
		})
	}
	if got := (PageSet{Pages: []PageFile{{}}}).MeanCER([]string{"x"}); got != nil {
		t.Errorf("MeanCER without ground truth = %v, want nil", *got)
	}
	if got := MeanCERBetween([]string{"abcd", "ab"}, []string{"abcd", "ax"}); got == nil || *got != 0.25 {
		t.Errorf("MeanCERBetween = %v, want 0.25", got)
	}
	if got := MeanCERBetween([]string{"a"}, nil); got != nil {
		t.Errorf("MeanCERBetween of unequal lengths = %v, want nil", *got)
	}
}

func cerPtr(x float64) *float64 { return &x }

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       float64
		wantErr    bool
	}{
		{"plain", "1234 (minio) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0\n", 3.0, false},
		{"name with spaces and parentheses", "99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 0 0 0", 0.1, false},
		{"no name", "99 R 1 2 3", 0, true},
		{"too short", "99 (x) R 1 2 3", 0, true},
		{"not numbers", "99 (x) R 1 2 3 4 5 6 7 8 9 10 u s 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("CPU = %v s, want %v", got, tc.want)
			}
		})
	}
}

func TestSelfAndProcessCPU(t *testing.T) {
	self, err := SelfCPUSeconds()
	if err != nil || self <= 0 {
		t.Fatalf("SelfCPUSeconds = %v, %v", self, err)
	}
	if _, err := ProcessCPUSeconds(1); err != nil {
		t.Fatalf("ProcessCPUSeconds(1): %v", err)
	}
	if _, err := ProcessCPUSeconds(-1); err == nil {
		t.Fatal("ProcessCPUSeconds(-1): no error")
	}
}

func TestParseProcStatBusy(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       float64
		wantErr    bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice: idle and iowait left out.
		{"busy", "cpu  1000 50 200 90000 300 10 40 0 0 0\ncpu0 1 2 3\n", 13.0, false},
		{"steal counts", "cpu  100 0 0 5 5 0 0 100 0 0\n", 2.0, false},
		{"not the cpu line", "intr 1 2 3 4 5 6 7 8 9\n", 0, true},
		{"short", "cpu  1 2 3\n", 0, true},
		{"garbage", "cpu  1 2 x 4 5 6 7 8\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatBusy([]byte(tc.stat))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("busy = %v s, want %v", got, tc.want)
			}
		})
	}
	if busy, err := MachineBusySeconds(); err != nil || busy <= 0 {
		t.Errorf("MachineBusySeconds = %v, %v", busy, err)
	}
	if got := StartOthers().Seconds(1e9); got != 0 {
		t.Errorf("others with more own CPU than the machine's: %v, want 0", got)
	}
}
