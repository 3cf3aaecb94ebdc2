package bench

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestParseLangs(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string][]string
		err      string
	}{
		{name: "header, one language, two, source column",
			in:   "image\ttesseract_lang\tsource\na.jpg\tdeu\tEHRI\nb.jpg\teng+fra\tGallica\n",
			want: map[string][]string{"a.jpg": {"deu"}, "b.jpg": {"eng", "fra"}}},
		{name: "no header, two columns, CRLF, blank line and comment",
			in:   "# languages\r\na.png\tces\r\n\r\nc.tif\tslk\r\n",
			want: map[string][]string{"a.png": {"ces"}, "c.tif": {"slk"}}},
		{name: "empty", in: "", want: map[string][]string{}},
		{name: "no language column", in: "a.jpg deu\n", err: "line 1: want image<TAB>language"},
		{name: "bad language", in: "image\ttesseract_lang\na.jpg\tde-DE\n", err: "line 2 (a.jpg)"},
		{name: "empty language", in: "a.jpg\t\n", err: "line 1 (a.jpg)"},
		{name: "listed twice", in: "a.jpg\tdeu\na.jpg\tfra\n", err: "line 2: a.jpg listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLangs(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// A folder's LANGS.tsv gives its pages' languages; a missing one is none, and a page it
// does not name is read in eng.
func TestReadLangs(t *testing.T) {
	dir := t.TempDir()
	if got, err := ReadLangs(dir); err != nil || got != nil {
		t.Fatalf("no LANGS.tsv: %v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, LangsFile), []byte("image\ttesseract_lang\tsource\na.jpg\tdeu+eng\tx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLangs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l := langsOf(got, "a.jpg"); !reflect.DeepEqual(l, []string{"deu", "eng"}) || LangArg(l) != "deu+eng" {
		t.Errorf("a.jpg: %v", l)
	}
	if l := langsOf(got, "b.jpg"); !reflect.DeepEqual(l, []string{"eng"}) {
		t.Errorf("b.jpg (not listed): %v", l)
	}
	if err := os.WriteFile(filepath.Join(dir, LangsFile), []byte("a.jpg\tde-DE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLangs(dir); err == nil || !strings.Contains(err.Error(), LangsFile) {
		t.Errorf("bad LANGS.tsv: error %v, want one naming the file", err)
	}
}

func TestMissingLangs(t *testing.T) {
	out := []byte("List of available languages in \"/usr/share/tesseract-ocr/5/tessdata/\" (3):\neng\nosd\ndeu\n")
	installed := parseListLangs(out)
	if !reflect.DeepEqual(installed, []string{"eng", "osd", "deu"}) {
		t.Fatalf("installed %v", installed)
	}
	pages := []FidelityPage{
		{Name: "a", Langs: []string{"deu"}},
		{Name: "b", Langs: []string{"eng", "fra"}},
		{Name: "c", Langs: []string{"chi_sim", "fra"}},
	}
	missing, first := missingLangs(installed, pages)
	if !reflect.DeepEqual(missing, []string{"chi_sim", "fra"}) || first != "b" {
		t.Errorf("missing %v (first page %q), want [chi_sim fra] (b)", missing, first)
	}
	if m, _ := missingLangs(installed, pages[:1]); len(m) != 0 {
		t.Errorf("all installed: missing %v", m)
	}
	if p := DebianLangPackage("chi_sim"); p != "tesseract-ocr-chi-sim" {
		t.Errorf("package %q", p)
	}
}

// Both contenders are given each page's languages, and a language without its model stops
// the run before any page is read, naming the package to install.
func TestRunFidelityLangs(t *testing.T) {
	pages, err := FidelityPages("", FidelityPagesOptions{Smoke: true})
	if err != nil {
		t.Fatal(err)
	}
	pages[1].Langs = []string{"deu", "eng"}
	bin := fakeTesseract(t, "echo \"$4\"\n", "deu") // prints the -l argument as its text
	var mu sync.Mutex
	asked := map[string]string{}
	read := func(_ context.Context, p FidelityPage) (PipelineReading, error) {
		mu.Lock()
		defer mu.Unlock()
		asked[p.Name] = LangArg(p.Langs)
		return PipelineReading{Text: p.Truth}, nil
	}
	rep, err := RunFidelity(context.Background(), pages, read, FidelityOptions{Jobs: 1, Tesseract: bin, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"eng", "deu+eng"} {
		p := rep.Pages[i]
		if strings.TrimSpace(p.Tesseract.Text) != want || asked[p.Name] != want || LangArg(p.Langs) != want {
			t.Errorf("%s: tesseract read in %q, pipeline in %q, report says %v; want %s", p.Name, p.Tesseract.Text, asked[p.Name], p.Langs, want)
		}
	}
	if !strings.Contains(rep.TesseractCommand, "-l LANG") || !strings.Contains(rep.TesseractCommand, LangsFile) {
		t.Errorf("tesseract command %q", rep.TesseractCommand)
	}

	pages[1].Langs = []string{"deu", "chi_sim"}
	_, err = RunFidelity(context.Background(), pages, read, FidelityOptions{Jobs: 1, Tesseract: bin, Dir: t.TempDir()})
	for _, want := range []string{"chi_sim", "tesseract-ocr-chi-sim", "scripts/install-deps", pages[1].Name} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing model: error %v, want it to name %q", err, want)
		}
	}
}
