package pipeline_test

import (
	"testing"

	"github.com/colophon-archive/colophon/pipeline"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1974", true},
		{"0001", true},
		{"2024", true},
		{"9999", true},
		{"1974-03", true},
		{"1974-01", true},
		{"1974-12", true},
		{"1974-03-01", true},
		{"1974-12-31", true},
		{"2000-02-29", true}, // leap year (divisible by 400)
		{"2024-02-29", true},

		{"", false},
		{"74", false},
		{"974", false},
		{"19740", false},
		{" 1974", false},
		{"1974 ", false},
		{"197a", false},
		{"+974", false},
		{"-974", false},
		{"1974-13", false},
		{"1974-00", false},
		{"1974-3", false},
		{"1974-3-1", false},
		{"1974-03-1", false},
		{"1974-02-30", false},
		{"1974-04-31", false},
		{"1974-02-29", false}, // not a leap year
		{"1900-02-29", false}, // not a leap year (divisible by 100)
		{"1974-03-00", false},
		{"1974-03-32", false},
		{"1974/03/01", false},
		{"1974/03", false},
		{"1974.03.01", false},
		{"01-03-1974", false},
		{"03/01/1974", false},
		{"19740301", false},
		{"1974-0301", false},
		{"1974-03-01T00:00:00Z", false},
		{"1974-03-01 ", false},
		{"1974-03-01\n", false},
		{"1974\x00", false},
		{"1974-W10", false},
		{"1974-060", false}, // ordinal date
		{"March 1974", false},
		{"１９７４", false}, // full-width digits
	}
	for _, tt := range tests {
		got, err := pipeline.ParseDate(tt.in)
		if tt.ok {
			if err != nil {
				t.Errorf("ParseDate(%q) = %v, want ok", tt.in, err)
			} else if got != tt.in {
				t.Errorf("ParseDate(%q) = %q, want the input unchanged (precision kept)", tt.in, got)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseDate(%q) = %q, want an error", tt.in, got)
		}
		if got != "" {
			t.Errorf("ParseDate(%q) returned %q alongside its error, want \"\"", tt.in, got)
		}
	}
}
