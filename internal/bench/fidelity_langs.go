package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/colophon-archive/colophon/pipeline"
)

// The languages a page is read in: a corpus folder's LANGS.tsv names them page by page
// (image<TAB>tesseract_lang<TAB>source, "deu" or "eng+fra"); a page it does not name, a
// folder without one and every generated page are read in DefaultFidelityLang.
const (
	LangsFile           = "LANGS.tsv"
	DefaultFidelityLang = "eng"
)

// ReadLangs reads dir's LANGS.tsv: the languages of each image, by file name. A missing
// file is no entries.
func ReadLangs(dir string) (map[string][]string, error) {
	f, err := os.Open(filepath.Join(dir, LangsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fidelity corpus: %w", err)
	}
	defer f.Close()
	langs, err := parseLangs(f)
	if err != nil {
		return nil, fmt.Errorf("fidelity corpus: %s: %w", f.Name(), err)
	}
	return langs, nil
}

// parseLangs reads LANGS.tsv's lines: image, languages and anything after (the source,
// ignored). Blank lines, # comments and the header line (its language column reads
// "tesseract_lang") are skipped.
func parseLangs(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 || strings.TrimSpace(f[0]) == "" {
			return nil, fmt.Errorf("line %d: want image<TAB>language, got %q", n, line)
		}
		image, lang := strings.TrimSpace(f[0]), strings.TrimSpace(f[1])
		if lang == "tesseract_lang" {
			continue
		}
		l, err := pipeline.ParseLanguages(lang)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, image, err)
		}
		if _, dup := out[image]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", n, image)
		}
		out[image] = l
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// langsOf is the languages page file name is read in, given its folder's LANGS.tsv.
func langsOf(langs map[string][]string, file string) []string {
	if l, ok := langs[file]; ok {
		return l
	}
	return []string{DefaultFidelityLang}
}

// LangArg is the languages as tesseract's -l takes them: "eng", "eng+fra".
func LangArg(langs []string) string { return strings.Join(langs, "+") }

// checkLangs fails, naming the Debian packages to install, when the tesseract command lacks
// the traineddata of a language some page is to be read in: without it the page would be
// read badly, or not at all, and the figures would measure a missing file.
func checkLangs(ctx context.Context, bin string, pages []FidelityPage) error {
	out, err := exec.CommandContext(ctx, bin, "--list-langs").Output()
	if err != nil {
		return fmt.Errorf("fidelity: list tesseract's languages (%s --list-langs): %w", bin, err)
	}
	missing, first := missingLangs(parseListLangs(out), pages)
	if len(missing) == 0 {
		return nil
	}
	pkgs := make([]string, len(missing))
	for i, l := range missing {
		pkgs[i] = DebianLangPackage(l)
	}
	return fmt.Errorf("fidelity: tesseract has no model for %s (first needed by page %s): install the Debian package(s) %s, "+
		"or run scripts/install-deps, which installs the language packs the corpus's LANGS.tsv files name",
		strings.Join(missing, ", "), first, strings.Join(pkgs, " "))
}

// parseListLangs reads `tesseract --list-langs`: a heading line, then a language a line.
func parseListLangs(out []byte) []string {
	var langs []string
	for i, line := range bytes.Split(out, []byte("\n")) {
		if l := strings.TrimSpace(string(line)); i > 0 && l != "" {
			langs = append(langs, l)
		}
	}
	return langs
}

// missingLangs is the languages pages need that are not installed, sorted, and the first
// page that needs one.
func missingLangs(installed []string, pages []FidelityPage) (missing []string, firstPage string) {
	for _, p := range pages {
		for _, l := range p.Langs {
			if slices.Contains(installed, l) || slices.Contains(missing, l) {
				continue
			}
			if firstPage == "" {
				firstPage = p.Name
			}
			missing = append(missing, l)
		}
	}
	slices.Sort(missing)
	return missing, firstPage
}

// DebianLangPackage is the Debian package of a Tesseract language (as scripts/install-deps
// maps them): tesseract-ocr-<code>, lower case, _ as -.
func DebianLangPackage(lang string) string {
	return "tesseract-ocr-" + strings.ReplaceAll(strings.ToLower(lang), "_", "-")
}
