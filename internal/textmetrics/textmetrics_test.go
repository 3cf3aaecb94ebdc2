package textmetrics

import (
	"math"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"only whitespace", " \t\n\f\r\n ", ""},
		{"already normal", "a b c", "a b c"},
		{"trim", "  hello  ", "hello"},
		{"fold spaces", "a   b", "a b"},
		{"fold tabs newlines form feeds", "a\t\tb\n\nc\fd\r\ne", "a b c d e"},
		{"fold unicode space", "a\u00a0\u2003b", "a b"},
		{"hyphen join", "exam-\nple", "example"},
		{"hyphen join crlf", "exam-\r\nple", "example"},
		{"hyphen join blanks around break", "exam- \t\n  ple text", "example text"},
		{"hyphen join in sentence", "an exam-\nple of hy-\nphenation.", "an example of hyphenation."},
		{"hyphen join chained", "a-\nb-\nc", "abc"},
		{"hyphen join unicode", "Straße-\nnbahn", "Straßenbahn"},
		{"hyphen mid line kept", "well-known", "well-known"},
		{"hyphen before space kept", "well- known", "well- known"},
		{"dash after space kept", "word -\nword", "word - word"},
		{"hyphen before digit kept", "page-\n12", "page- 12"},
		{"hyphen after digit kept", "1970-\nties", "1970- ties"},
		{"paragraph break kept", "exam-\n\nple", "exam- ple"},
		{"trailing hyphen kept", "exam-\n", "exam-"},
		{"double hyphen", "a--\nb", "a-- b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in)
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// Idempotent: normalized text has no line breaks left to join.
			if again := Normalize(got); again != got {
				t.Errorf("Normalize not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"both empty", "", "", 0},
		{"empty a", "", "abc", 3},
		{"empty b", "abc", "", 3},
		{"identical", "kitten", "kitten", 0},
		{"one substitution", "kitten", "sitten", 1},
		{"one insertion", "kiten", "kitten", 1},
		{"one deletion", "kitten", "kiten", 1},
		{"classic kitten sitting", "kitten", "sitting", 3},
		{"classic flaw lawn", "flaw", "lawn", 2},
		{"case matters", "A", "a", 1},
		{"whitespace counts", "a b", "ab", 1},
		{"completely different", "abc", "xyz", 3},
		{"transposition costs two", "ab", "ba", 2},
		{"unicode identical", "naïve café", "naïve café", 0},
		{"unicode substitution is one rune", "café", "cafe", 1},
		{"unicode insertion is one rune", "Strasse", "Straße", 2},
		{"cjk", "日本語", "日本", 1},
		{"emoji", "a😀b", "ab", 1},
		{"longer first", "abcdef", "ace", 3},
		{"shorter first", "ace", "abcdef", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := Distance(tt.b, tt.a); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestCER(t *testing.T) {
	tests := []struct {
		name     string
		hyp, ref string
		want     float64
	}{
		{"both empty", "", "", 0},
		{"both blank", " \n", "\t", 0},
		{"ref empty hyp not", "x", "", 1},
		{"ref blank hyp not", "abc", "  \n ", 1},
		{"hyp empty", "", "abcd", 1},
		{"identical", "hello world", "hello world", 0},
		{"one substitution in ten", "abcdefghiX", "abcdefghij", 0.1},
		{"one insertion in four", "abcde", "abcd", 0.25},
		{"one deletion in four", "abd", "abcd", 0.25},
		{"whitespace differences ignored", "hello\n\n  world\t", "hello world", 0},
		{"hyphen join in hyp", "an exam-\nple", "an example", 0},
		{"hyphen join in ref", "an example", "an exam-\nple", 0},
		{"unicode counts runes", "cafe", "café", 0.25},
		{"can exceed one", "abcdef", "ab", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CER(tt.hyp, tt.ref); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("CER(%q, %q) = %v, want %v", tt.hyp, tt.ref, got, tt.want)
			}
		})
	}
}

// FuzzDistance checks metric properties rather than exact values.
func FuzzDistance(f *testing.F) {
	seeds := [][3]string{
		{"", "", ""},
		{"kitten", "sitting", "mitten"},
		{"naïve", "naive", "nave"},
		{"日本語", "日本", "本語"},
		{"a\xffb", "a\xfeb", "ab"},
		{"exam-\nple", "example", "ex ample"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		// Keep the O(n*m) work per input small so the fuzzer explores widely.
		if len(a) > 256 || len(b) > 256 || len(c) > 256 {
			t.Skip()
		}
		la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
		d := Distance(a, b)

		if back := Distance(b, a); back != d {
			t.Fatalf("not symmetric: d(a,b)=%d d(b,a)=%d", d, back)
		}
		// Distance is over runes, so "equal" means equal rune sequences
		// (invalid bytes all decode to U+FFFD).
		equal := string([]rune(a)) == string([]rune(b))
		if (d == 0) != equal {
			t.Fatalf("d=%d but rune-equal=%v", d, equal)
		}
		if lo, hi := abs(la-lb), max(la, lb); d < lo || d > hi {
			t.Fatalf("d=%d outside [%d, %d]", d, lo, hi)
		}
		if Distance(a, a) != 0 {
			t.Fatalf("d(a,a) != 0")
		}
		if dac, dcb := Distance(a, c), Distance(c, b); d > dac+dcb {
			t.Fatalf("triangle inequality: d(a,b)=%d > d(a,c)+d(c,b)=%d+%d", d, dac, dcb)
		}
		if cer := CER(a, b); cer < 0 || math.IsNaN(cer) || math.IsInf(cer, 0) {
			t.Fatalf("CER(a,b)=%v out of range", cer)
		}
	})
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
