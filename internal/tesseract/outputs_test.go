package tesseract

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/sample"
)

// element is one XML element of an output, flattened: its name, its attributes, and the
// text directly inside it (a word's).
type element struct {
	name  string
	attrs map[string]string
	text  string
}

func (el element) String() string {
	keys := make([]string, 0, len(el.attrs))
	for k := range el.attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("<" + el.name)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, el.attrs[k])
	}
	fmt.Fprintf(&b, "> %q", el.text)
	return b.String()
}

// elements parses doc strictly and lists its elements in document order; inner is called
// on each to normalise its attributes before they are compared.
func elements(doc string, normalise func(*element)) ([]element, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var out []element
	var open []int // indexes in out of the elements open
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el := element{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				el.attrs[a.Name.Local] = a.Value
			}
			open = append(open, len(out))
			out = append(out, el)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 && strings.TrimSpace(string(t)) != "" {
				out[open[len(open)-1]].text += string(t)
			}
		}
	}
	if normalise != nil {
		for i := range out {
			normalise(&out[i])
		}
	}
	return out, nil
}

// testPage is a page image to read and its resolution.
type testPage struct {
	name string
	img  *image.Gray
	dpi  int
}

// realPages are the pages the outputs are checked on: the bundled sample pages, a page of
// the characters markup must escape, and the corpus pages when they are there.
func realPages(t *testing.T) []testPage {
	t.Helper()
	var out []testPage
	decode := func(name string, data []byte, dpi int) {
		if data == nil {
			out = append(out, testPage{name: name}) // absent: skipped
			return
		}
		img, info, err := imageinfo.Decode(data, imageinfo.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.DPI > 0 {
			dpi = info.DPI
		}
		out = append(out, testPage{name, img, dpi})
	}
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pages {
		decode(fmt.Sprintf("sample page %d", i+1), p.PNG, 0)
	}
	special, err := sample.Render("AT&T <b>bold</b> said \"quoted\" and 'single' & more.\n\nTom & Jerry's <tags> \"here\" 1 < 2 > 0.")
	if err != nil {
		t.Fatal(err)
	}
	decode("markup characters", special[0].PNG, 0)
	for _, c := range []struct {
		path string
		dpi  int
	}{{"tesseract-test/phototest.tif", 200}, {"tesseract-test/eurotext.tif", 300}, {"old-books/c039.tiff", 300}} {
		decode(c.path, corpusFileOrNil(c.path), c.dpi)
	}
	return out
}

// corpusFileOrNil is a file of ../shared/corpus, or nil when the corpus is not there.
func corpusFileOrNil(rel string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "corpus", rel))
	if err != nil {
		return nil
	}
	return b
}

// TestOutputsMatchTesseract reads real pages and holds the engine's hOCR and ALTO against
// what Tesseract's own renderers make of the same recognition: every element, in order,
// with the same ids, boxes, baselines, confidences and words. The differences allowed are
// the ones made on purpose: no x_size, x_descenders, x_ascenders (not in Tesseract's C API),
// the page's image named by its title, ALTO ids prefixed with the page number, and ALTO's
// word confidence a true fraction where Tesseract writes 5% as 0.5 and 100% as 0.100.
func TestOutputsMatchTesseract(t *testing.T) {
	e := New("eng")
	defer e.Close()
	for i, tp := range realPages(t) {
		number := 1 + i%2 // pages 1 and 2: ids are numbered by page
		t.Run(tp.name, func(t *testing.T) {
			if tp.img == nil {
				t.Skip("corpus file absent (../shared/corpus not beside the repository)")
			}
			p := Page{Image: tp.img, DPI: tp.dpi, HOCR: true, ALTO: true, Number: number, Title: "doc page " + strconv.Itoa(number)}
			res, tessHOCR, tessALTO, err := e.readWithTesseractRenderers(p)
			if err != nil {
				t.Fatal(err)
			}
			if res.Words == 0 {
				t.Fatal("no words read")
			}

			ours, err := elements(string(res.HOCR), nil)
			if err != nil {
				t.Fatalf("our hOCR: %v", err)
			}
			ours = from(ours, func(el element) bool { return el.attrs["class"] == "ocr_page" })
			theirs, err := elements(tessHOCR, normaliseTesseractHOCR)
			if err != nil {
				t.Fatalf("Tesseract's hOCR: %v", err)
			}
			for i := range ours {
				if ours[i].attrs["class"] == "ocr_page" {
					ours[i].attrs["title"] = pageImage.ReplaceAllString(ours[i].attrs["title"], "")
				}
			}
			compareElements(t, "hOCR", ours, theirs)
			if words := countClass(ours, "ocrx_word"); words != res.Words {
				t.Errorf("hOCR has %d words, the text %d", words, res.Words)
			}

			ours, err = elements(string(res.ALTO), nil)
			if err != nil {
				t.Fatalf("our ALTO: %v", err)
			}
			ours = from(ours, func(el element) bool { return el.name == "Page" })
			theirs, err = elements(tessALTO, func(el *element) { normaliseTesseractALTO(el, number) })
			if err != nil {
				t.Fatalf("Tesseract's ALTO: %v", err)
			}
			for i := range ours {
				if wc, ok := ours[i].attrs["WC"]; ok {
					f, err := strconv.ParseFloat(wc, 64)
					if err != nil || f < 0 || f > 1 {
						t.Errorf("ALTO word confidence %q: want 0..1", wc)
					}
					ours[i].attrs["WC"] = strconv.Itoa(int(f*100 + 0.5))
				}
			}
			compareElements(t, "ALTO", ours, theirs)
		})
	}
}

// pageImage is the image name in an ocr_page's title.
var pageImage = regexp.MustCompile(`^image "[^"]*"; `)

// lineSizes are the line measures Tesseract's hOCR has and the engine's has not.
var lineSizes = regexp.MustCompile(`; x_size [^;]*; x_descenders [^;]*; x_ascenders [^;]*$`)

func normaliseTesseractHOCR(el *element) {
	switch el.attrs["class"] {
	case "ocr_page":
		el.attrs["title"] = pageImage.ReplaceAllString(el.attrs["title"], "")
	case "ocr_line", "ocr_header", "ocr_textfloat", "ocr_caption":
		el.attrs["title"] = lineSizes.ReplaceAllString(el.attrs["title"], "")
	}
}

// tessID is an ALTO id as Tesseract 5.4 and later write them from the second page on:
// kind_page_n.
var tessID = regexp.MustCompile(`^([a-z]+)_([0-9]+)_([0-9]+)$`)

// normaliseTesseractALTO makes Tesseract's ALTO for page number read as the engine's should:
// ids prefixed with pN_, and word confidences as whole percentages.
func normaliseTesseractALTO(el *element, number int) {
	if id, ok := el.attrs["ID"]; ok {
		if m := tessID.FindStringSubmatch(id); m != nil && m[2] == strconv.Itoa(number-1) {
			id = m[1] + "_" + m[3]
		}
		el.attrs["ID"] = "p" + strconv.Itoa(number) + "_" + id
	}
	if wc, ok := el.attrs["WC"]; ok {
		// "0." and the whole percentage.
		el.attrs["WC"] = strings.TrimPrefix(wc, "0.")
	}
}

// from is els from the first that is, on: a document's page, without the document's head.
func from(els []element, is func(element) bool) []element {
	if i := slices.IndexFunc(els, is); i >= 0 {
		return els[i:]
	}
	return nil
}

func countClass(els []element, class string) int {
	n := 0
	for _, el := range els {
		if el.attrs["class"] == class {
			n++
		}
	}
	return n
}

// compareElements fails on the first few elements that differ.
func compareElements(t *testing.T, what string, ours, theirs []element) {
	t.Helper()
	bad := 0
	for i := range max(len(ours), len(theirs)) {
		var o, th string
		if i < len(ours) {
			o = ours[i].String()
		}
		if i < len(theirs) {
			th = theirs[i].String()
		}
		if o != th {
			t.Errorf("%s element %d:\n ours      %s\n tesseract %s", what, i, o, th)
			if bad++; bad == 5 {
				t.Fatalf("%s: %d elements ours, %d Tesseract's; stopping", what, len(ours), len(theirs))
			}
		}
	}
	t.Logf("%s: %d elements alike", what, len(ours))
}

// handPage lays words out as a page, each word opening whatever its ordinals say it opens,
// with boxes made up from its position.
func handPage(words ...word) *page {
	pg := &page{width: 1200, height: 1600, words: words}
	for i := range pg.words {
		w := &pg.words[i]
		w.box = box{100 + 60*i, 100 + 40*w.line, 150 + 60*i, 130 + 40*w.line}
		newBlock := i == 0 || w.block != words[i-1].block
		newPar := newBlock || w.par != words[i-1].par
		if newBlock {
			pg.blocks = append(pg.blocks, block{box: box{90, 90, 1100, 1500}, lineClass: "ocr_line"})
		}
		if newPar {
			pg.pars = append(pg.pars, par{box: box{90, 90, 1100, 700}, lang: "eng"})
		}
		if newPar || w.line != words[i-1].line {
			pg.lines = append(pg.lines, line{box: box{90, w.box.top, 1100, w.box.bottom}, baseline: [4]int{90, w.box.bottom - 5, 1100, w.box.bottom - 4}, ok: true})
		}
	}
	return pg
}

func hw(text string, block, par, line int) word {
	return word{text: text, conf: 91.6, block: block, par: par, line: line}
}

// hocrParent is the class an hOCR element of a class must sit in.
var hocrParent = map[string]string{
	"ocr_page": "", "ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par",
	"ocr_header": "ocr_par", "ocr_textfloat": "ocr_par", "ocr_caption": "ocr_par", "ocrx_word": "line",
}

// altoParent is the element an ALTO element of a name must sit in.
var altoParent = map[string]string{
	"Page": "Layout", "PrintSpace": "Page", "ComposedBlock": "PrintSpace", "TextBlock": "ComposedBlock",
	"TextLine": "TextBlock", "String": "TextLine", "SP": "TextLine",
}

// checkHOCR parses an hOCR document strictly, checks it nests page > carea > par > line >
// word with ids unique and numbered by page, and returns its words.
func checkHOCR(doc []byte, number int) ([]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var stack []string // classes of the open elements ("" for others)
	var words []string
	ids := map[string]bool{}
	idForm := regexp.MustCompile(`^(page_` + strconv.Itoa(number) + `|(block|par|line|word)_` + strconv.Itoa(number) + `_[0-9]+)$`)
	inWord := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var class, id string
			for _, a := range t.Attr {
				switch a.Name.Local {
				case "class":
					class = a.Value
				case "id":
					id = a.Value
				}
			}
			if want, ok := hocrParent[class]; ok {
				parent := ""
				for i := len(stack) - 1; i >= 0 && parent == ""; i-- {
					parent = stack[i]
				}
				if want == "line" && hocrParent[parent] == "ocr_par" {
					parent = "line" // any of the line classes
				}
				if parent != want {
					return nil, fmt.Errorf("%s %s inside %q, want inside %q", class, id, parent, want)
				}
				if !idForm.MatchString(id) || ids[id] {
					return nil, fmt.Errorf("%s id %q: not unique or not numbered by page %d", class, id, number)
				}
				ids[id] = true
			}
			if class == "ocrx_word" {
				words, inWord = append(words, ""), true
			}
			stack = append(stack, class)
		case xml.EndElement:
			if stack[len(stack)-1] == "ocrx_word" {
				inWord = false
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if inWord {
				words[len(words)-1] += string(t)
			}
		}
	}
	return words, nil
}

// checkALTO parses an ALTO document strictly, checks it nests Layout > Page > PrintSpace >
// ComposedBlock > TextBlock > TextLine > String and SP with ids unique and prefixed by the
// page, and returns its words and the number of spaces between them.
func checkALTO(doc []byte, number int) (words []string, spaces int, err error) {
	var d struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(doc, &d); err != nil || d.XMLName.Space != "http://www.loc.gov/standards/alto/ns-v3#" {
		return nil, 0, fmt.Errorf("not ALTO v3 (%v): %v", d.XMLName, err)
	}
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var stack []string
	ids := map[string]bool{}
	prefix := "p" + strconv.Itoa(number) + "_"
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("not well-formed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			attrs := map[string]string{}
			for _, a := range t.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if want, ok := altoParent[name]; ok {
				if len(stack) == 0 || stack[len(stack)-1] != want {
					return nil, 0, fmt.Errorf("%s inside %v, want inside %s", name, stack, want)
				}
				if id, ok := attrs["ID"]; ok || name != "PrintSpace" && name != "SP" {
					if !strings.HasPrefix(id, prefix) || ids[id] {
						return nil, 0, fmt.Errorf("%s id %q: not unique or not prefixed %s", name, id, prefix)
					}
					ids[id] = true
				}
			}
			switch name {
			case "String":
				words = append(words, attrs["CONTENT"])
			case "SP":
				spaces++
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return words, spaces, nil
}

// TestOutputStructure writes made-up pages and checks both outputs parse as XML, nest as
// hOCR and ALTO do, number their ids by page, and carry every word, in order.
func TestOutputStructure(t *testing.T) {
	tests := []struct {
		name   string
		number int
		pg     *page
		want   []string // the words as XML gives them back
		lines  int
	}{
		{"blank page", 1, handPage(), nil, 0},
		{"one word", 1, handPage(hw("word", 1, 1, 1)), []string{"word"}, 1},
		{"blocks, paragraphs, lines", 3, handPage(
			hw("a", 1, 1, 1), hw("b", 1, 1, 1), hw("c", 1, 1, 2), hw("d", 1, 2, 1),
			hw("e", 2, 1, 1), hw("f", 2, 1, 1), hw("g", 3, 1, 1)),
			[]string{"a", "b", "c", "d", "e", "f", "g"}, 5},
		{"markup characters", 2, handPage(hw(`AT&T`, 1, 1, 1), hw(`<b>`, 1, 1, 1), hw(`"q"`, 1, 1, 1), hw(`'x'`, 1, 1, 1), hw(`a<&>b`, 1, 1, 2)),
			[]string{`AT&T`, `<b>`, `"q"`, `'x'`, `a<&>b`}, 2},
		{"bytes XML cannot hold", 1, handPage(hw("a\xffb", 1, 1, 1), hw("c\x01\x00d", 1, 1, 1), hw("e\tf", 1, 1, 1), hw("\uFFFEg", 1, 1, 1), hw("ü€😀", 1, 1, 1)),
			[]string{"a\uFFFDb", "c\uFFFD\uFFFDd", "e\tf", "\uFFFDg", "ü€😀"}, 1},
		// Words opening more blocks, paragraphs and lines than the walk recorded: the markup
		// still nests, with empty boxes.
		{"layout short of its words", 1, &page{width: 10, height: 10, words: []word{hw("x", 1, 1, 1), hw("y", 2, 1, 1), hw("z", 2, 2, 1)}},
			[]string{"x", "y", "z"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hocr := hocrDocument(hocrPage(tt.pg, tt.number, "scan.png"))
			words, err := checkHOCR(hocr, tt.number)
			if err != nil {
				t.Fatalf("hOCR: %v\n%s", err, hocr)
			}
			if !slices.Equal(words, tt.want) {
				t.Errorf("hOCR words %q, want %q", words, tt.want)
			}
			alto := altoDocument(altoPage(tt.pg, tt.number), "scan.png")
			words, spaces, err := checkALTO(alto, tt.number)
			if err != nil {
				t.Fatalf("ALTO: %v\n%s", err, alto)
			}
			if !slices.Equal(words, tt.want) || spaces != len(tt.want)-tt.lines {
				t.Errorf("ALTO words %q and %d spaces, want %q and %d", words, spaces, tt.want, len(tt.want)-tt.lines)
			}
		})
	}
}

// TestRealOutputStructure checks the same of a real page's outputs, as Read makes them.
func TestRealOutputStructure(t *testing.T) {
	img, dpi, _ := samplePage(t)
	e := New("eng")
	defer e.Close()
	for _, number := range []int{1, 2} {
		r, err := e.Read(t.Context(), Page{Image: img, DPI: dpi, HOCR: true, ALTO: true, Number: number})
		if err != nil {
			t.Fatal(err)
		}
		textWords := strings.Fields(r.Text)
		words, err := checkHOCR(r.HOCR, number)
		if err != nil {
			t.Fatalf("page %d hOCR: %v", number, err)
		}
		if !slices.Equal(words, textWords) {
			t.Errorf("page %d: hOCR's %d words are not the text's %d", number, len(words), len(textWords))
		}
		words, _, err = checkALTO(r.ALTO, number)
		if err != nil {
			t.Fatalf("page %d ALTO: %v", number, err)
		}
		if !slices.Equal(words, textWords) {
			t.Errorf("page %d: ALTO's %d words are not the text's %d", number, len(words), len(textWords))
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`AT&T <b> "q" 'x'`, "AT&amp;T &lt;b&gt; &quot;q&quot; &#39;x&#39;"},
		{"&amp;", "&amp;amp;"},
		{"ü€😀", "ü€😀"},
		{"tab\tnew\nreturn\r", "tab&#9;new&#10;return&#13;"},
		{"nul\x00bell\x07esc\x1b", "nul\uFFFDbell\uFFFDesc\uFFFD"},
		{"bad \xff\xfe utf-8 \xe2\x82", "bad \uFFFD\uFFFD utf-8 \uFFFD\uFFFD"},
		{"\uFFFD stays, \uFFFE and \uFFFF go", "\uFFFD stays, \uFFFD and \uFFFD go"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := string(appendEscaped(nil, tt.in)); got != tt.want {
				t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendBaseline(t *testing.T) {
	lineAt := func(x1, y1, x2, y2 int) line {
		return line{box: box{100, 200, 1100, 250}, baseline: [4]int{x1, y1, x2, y2}, ok: true}
	}
	tests := []struct {
		name string
		ln   line
		want string
	}{
		{"level", lineAt(100, 240, 1100, 240), "; baseline 0 -10"},
		{"sloping", lineAt(100, 240, 1100, 245), "; baseline 0.005 -10"},
		{"thirds", lineAt(100, 240, 400, 241), "; baseline 0.003 -10"},
		{"rounded to nothing below zero", lineAt(100, 250, 10100, 249), "; baseline -0 0"},
		{"inset start", lineAt(110, 240, 1110, 250), "; baseline 0.01 -10.1"},
		{"vertical", lineAt(100, 200, 100, 250), ""},
		{"none", line{box: box{0, 0, 10, 10}}, ""},
		{"on its side", line{textangle: 90, ok: true}, "; textangle 90"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendBaseline(nil, tt.ln)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAppendWC(t *testing.T) {
	for _, tt := range []struct {
		conf float64
		want string
	}{{0, "0.00"}, {5.9, "0.05"}, {10, "0.10"}, {96.5, "0.96"}, {100, "1.00"}, {-3, "0.00"}, {130, "1.00"}} {
		if got := string(appendWC(nil, wordConf(tt.conf))); got != tt.want {
			t.Errorf("confidence %v: WC %q, want %q", tt.conf, got, tt.want)
		}
	}
}

// TestHOCRLanguages checks a paragraph carries its language, and a word read in another
// language carries its own, as Tesseract's renderer writes them (only eng is installed
// here, so real pages never show the second).
func TestHOCRLanguages(t *testing.T) {
	pg := handPage(hw("Haus", 1, 1, 1), hw("house", 1, 1, 1))
	pg.words[0].lang = "deu"
	hocr := string(hocrPage(pg, 1, ""))
	for _, want := range []string{`<p class='ocr_par' id='par_1_1' lang='eng' title=`, `id='word_1_1' title='bbox 100 140 150 170; x_wconf 91' lang='deu'>Haus<`, `x_wconf 91'>house<`, `title='image "unknown"; bbox 0 0 1200 1600; ppageno 0'>`} {
		if !strings.Contains(hocr, want) {
			t.Errorf("hOCR lacks %s:\n%s", want, hocr)
		}
	}
}
