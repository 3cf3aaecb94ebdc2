package dates

import (
	"fmt"
	"testing"
)

func TestFind(t *testing.T) {
	tests := []struct {
		text string
		want []string // "date text confidence"
	}{
		{"Signed at Leeds on the 25th July 2009 by the secretary.", []string{"2009-07-25 25th July 2009 0.90"}},
		{"Newsletter No. 14, March 1974", []string{"1974-03 March 1974 0.60"}},
		{"meeting of July 25, 2009, adjourned", []string{"2009-07-25 July 25, 2009 0.90"}},
		{"the 3rd day of Sept. 1921", []string{"1921-09-03 3rd day of Sept. 1921 0.90"}},
		{"filed 1974-03-12; received 12/03/1974", []string{"1974-03-12 1974-03-12 0.95", "1974-03-12 12/03/1974 0.30"}},
		{"on 25/12/1980 and 12/25/1980", []string{"1980-12-25 25/12/1980 0.60", "1980-12-25 12/25/1980 0.60"}},
		{"a date broken\nover 25th\nJuly 2009 lines", []string{"2009-07-25 25th July 2009 0.90"}},
		// No such days; the month and year within the first still name a month.
		{"30th February 1990, 31/04/2000, May 3000, 0th June 1999", []string{"1990-02 February 1990 0.60", "1999-06 June 1999 0.60"}},
		{"room 14, 2009 members, page 12/3", nil},
		{"", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range Find(tt.text) {
			got = append(got, fmt.Sprintf("%s %s %.2f", c.Date, c.Text, c.Confidence))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Find(%q)\n got %q\nwant %q", tt.text, got, tt.want)
		}
	}
}

func FuzzFind(f *testing.F) {
	f.Add("Signed on the 25th July 2009, filed 1974-03-12, 12/03/1974, March 1974.")
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range Find(s) {
			if c.Confidence <= 0 || c.Confidence > 1 || (len(c.Date) != 7 && len(c.Date) != 10) {
				t.Fatalf("candidate %+v", c)
			}
		}
	})
}
