package pipeline_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/colophon-archive/colophon/pipeline"
)

func TestValidateDocID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ok   bool
	}{
		{"letters", "abc", true},
		{"upper and lower", "AbCxYz", true},
		{"digits", "0123456789", true},
		{"single char", "a", true},
		{"single digit", "7", true},
		{"dash and underscore", "doc-2024_01", true},
		{"only dash", "-", true},
		{"only underscore", "_", true},
		{"generated shape", "doc-20240102-0a1b2c3d4e", true},
		{"max length 128", strings.Repeat("a", pipeline.MaxDocIDLen), true},
		{"max length mixed", strings.Repeat("aZ9_-", 25) + "abc", true},

		{"empty", "", false},
		{"129 bytes", strings.Repeat("a", pipeline.MaxDocIDLen+1), false},
		{"very long", strings.Repeat("a", 10000), false},
		{"slash", "a/b", false},
		{"leading slash", "/abc", false},
		{"only slash", "/", false},
		{"backslash", "a\\b", false},
		{"only backslash", "\\", false},
		{"dot dot", "..", false},
		{"dot dot traversal", "../etc", false},
		{"embedded dot dot", "a..b", false},
		{"single dot", ".", false},
		{"dot inside", "a.b", false},
		{"space", "a b", false},
		{"leading space", " abc", false},
		{"trailing space", "abc ", false},
		{"tab", "a\tb", false},
		{"NUL", "a\x00b", false},
		{"only NUL", "\x00", false},
		{"newline", "abc\n", false},
		{"carriage return", "a\rb", false},
		{"DEL", "a\x7fb", false},
		{"escape", "\x1b[31m", false},
		{"star", "a*b", false},
		{"greater than", "a>b", false},
		{"colon", "a:b", false},
		{"plus", "a+b", false},
		{"percent", "a%2fb", false},
		{"latin accent", "café", false},
		{"cyrillic a", "dоc", false}, // the 'о' is U+043E
		{"CJK", "文書", false},
		{"emoji", "doc😀", false},
		{"replacement char", "a\uFFFDb", false},
		{"fullwidth solidus", "a\uFF0Fb", false},
		{"invalid UTF-8 byte", "a\xffb", false},
		{"invalid UTF-8 continuation", "\x80", false},
		{"truncated UTF-8", "abc\xe2\x82", false},
		{"overlong slash", "a\xc0\xafb", false},
		{"128 bytes but one invalid", strings.Repeat("a", 127) + ".", false},
		{"128 bytes of multibyte", strings.Repeat("é", 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pipeline.ValidateDocID(tt.id)
			if tt.ok && err != nil {
				t.Fatalf("ValidateDocID(%q) = %v, want nil", tt.id, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("ValidateDocID(%q) = nil, want an error", tt.id)
			}
		})
	}
}

func TestValidateDocIDAllBytes(t *testing.T) {
	// Every single byte: exactly [A-Za-z0-9_-] is accepted.
	for b := 0; b < 256; b++ {
		c := byte(b)
		want := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		for _, id := range []string{string([]byte{c}), "x" + string([]byte{c}) + "y"} {
			err := pipeline.ValidateDocID(id)
			if got := err == nil; got != want {
				t.Errorf("ValidateDocID(%q): accepted=%v, want %v (err %v)", id, got, want, err)
			}
		}
	}
}

var newDocIDShape = regexp.MustCompile(`^doc-(\d{8})-[0-9a-f]{10}$`)

func TestNewDocID(t *testing.T) {
	now := time.Date(2024, 3, 9, 23, 59, 59, 0, time.UTC)
	seen := make(map[string]bool, 1000)
	for i := 0; i < 1000; i++ {
		id := pipeline.NewDocID(now)
		if err := pipeline.ValidateDocID(id); err != nil {
			t.Fatalf("NewDocID gave %q, which ValidateDocID refuses: %v", id, err)
		}
		m := newDocIDShape.FindStringSubmatch(id)
		if m == nil {
			t.Fatalf("NewDocID gave %q, want doc-YYYYMMDD-<10 hex>", id)
		}
		if m[1] != "20240309" {
			t.Fatalf("NewDocID gave %q, want date prefix 20240309", id)
		}
		if seen[id] {
			t.Fatalf("NewDocID repeated %q after %d calls", id, i)
		}
		seen[id] = true
	}
}

func TestNewDocIDUsesUTCDate(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{"UTC", time.Date(1999, 12, 31, 12, 0, 0, 0, time.UTC), "19991231"},
		// 23:30 on 31 Dec in UTC-5 is already 1 Jan in UTC.
		{"west of UTC crosses midnight", time.Date(1999, 12, 31, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "20000101"},
		// 00:30 on 1 Jan in UTC+2 is still 31 Dec in UTC.
		{"east of UTC crosses midnight", time.Date(2000, 1, 1, 0, 30, 0, 0, time.FixedZone("EET", 2*3600)), "19991231"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := pipeline.NewDocID(tt.now)
			m := newDocIDShape.FindStringSubmatch(id)
			if m == nil || m[1] != tt.want {
				t.Fatalf("NewDocID(%v) = %q, want date %s", tt.now, id, tt.want)
			}
		})
	}
}

func TestValidatePage(t *testing.T) {
	tests := []struct {
		page int
		ok   bool
	}{
		{-1 << 62, false},
		{-1, false},
		{0, false},
		{1, true},
		{2, true},
		{1234, true},
		{pipeline.MaxPages - 1, true},
		{pipeline.MaxPages, true},
		{pipeline.MaxPages + 1, false},
		{1 << 40, false},
	}
	if pipeline.MaxPages != 9999 {
		t.Errorf("MaxPages = %d; keys pad pages to four digits, so it must be 9999", pipeline.MaxPages)
	}
	for _, tt := range tests {
		err := pipeline.ValidatePage(tt.page)
		if (err == nil) != tt.ok {
			t.Errorf("ValidatePage(%d) = %v, want ok=%v", tt.page, err, tt.ok)
		}
	}
}

func TestValidateLanguages(t *testing.T) {
	tests := []struct {
		name  string
		langs []string
		ok    bool
	}{
		{"eng", []string{"eng"}, true},
		{"several", []string{"eng", "fra", "deu"}, true},
		{"underscore", []string{"chi_sim"}, true},
		{"digits and upper", []string{"Latin", "osd", "script_Latin2"}, true},
		{"32 bytes", []string{strings.Repeat("a", 32)}, true},

		{"nil", nil, false},
		{"empty slice", []string{}, false},
		{"empty code", []string{""}, false},
		{"empty among good", []string{"eng", ""}, false},
		{"33 bytes", []string{strings.Repeat("a", 33)}, false},
		{"plus inside", []string{"eng+fra"}, false},
		{"dash", []string{"chi-sim"}, false},
		{"dot", []string{"eng.traineddata"}, false},
		{"slash", []string{"../eng"}, false},
		{"space", []string{"en g"}, false},
		{"NUL", []string{"eng\x00"}, false},
		{"newline", []string{"eng\n"}, false},
		{"non-ASCII", []string{"fraç"}, false},
		{"invalid UTF-8", []string{"eng\xff"}, false},
		{"bad after good", []string{"eng", "fr a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pipeline.ValidateLanguages(tt.langs)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateLanguages(%q) = %v, want ok=%v", tt.langs, err, tt.ok)
			}
		})
	}
}

func TestParseLanguages(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: want an error
	}{
		{"eng", []string{"eng"}},
		{"eng+fra", []string{"eng", "fra"}},
		{"eng,fra", []string{"eng", "fra"}},
		{"eng fra", []string{"eng", "fra"}},
		{"eng, fra", []string{"eng", "fra"}},
		{"eng+fra,deu", []string{"eng", "fra", "deu"}},
		{"chi_sim+eng", []string{"chi_sim", "eng"}},
		{"+eng+", []string{"eng"}},
		{"eng++fra", []string{"eng", "fra"}},
		{"  eng  ", []string{"eng"}},
		{"eng+eng", []string{"eng", "eng"}},

		{"", nil},
		{"+", nil},
		{",,", nil},
		{"   ", nil},
		{"eng;fra", nil},
		{"eng|fra", nil},
		{"eng\tfra", nil}, // only '+', ',' and ' ' separate
		{"eng\nfra", nil},
		{"eng+fr-a", nil},
		{"eng+../x", nil},
		{"eng+" + strings.Repeat("x", 33), nil},
		{"fraç", nil},
	}
	for _, tt := range tests {
		got, err := pipeline.ParseLanguages(tt.in)
		if tt.want == nil {
			if err == nil {
				t.Errorf("ParseLanguages(%q) = %q, want an error", tt.in, got)
			}
			if got != nil {
				t.Errorf("ParseLanguages(%q) returned %q alongside its error, want nil", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLanguages(%q): %v", tt.in, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("ParseLanguages(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := pipeline.ValidateLanguages(got); err != nil {
			t.Errorf("ParseLanguages(%q) = %q, which ValidateLanguages refuses: %v", tt.in, got, err)
		}
	}
}
