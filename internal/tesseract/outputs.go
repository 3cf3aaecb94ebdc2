package tesseract

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// hOCR and ALTO are written here, in Go, from the one walk over Tesseract's results that
// also gives the text (readPage). Tesseract's own renderers (TessBaseAPIGetHOCRText and
// TessBaseAPIGetAltoText) each walk the page again symbol by symbol through its iterator
// API and format through C++ streams, where these add next to nothing to the walk
// (docs/benchmarks.md has what each costs). The markup
// follows theirs (Tesseract 5.3): the same elements, ids, attributes and layout, so what
// reads Tesseract's hOCR and ALTO reads these.

// box is a rectangle on the page in pixels as Tesseract gives it: left, top, right,
// bottom, the right and bottom edges outside it.
type box struct{ left, top, right, bottom int }

// page is a recognised page as one walk of Tesseract's result iterator finds it: its words
// in reading order, and the blocks, paragraphs and lines in the order the words open them.
type page struct {
	width, height int
	dpi           int // the resolution Tesseract was given; 0 for none
	// ppi is the resolution Tesseract read the page at, as its PDF renderer takes it; set
	// only for the PDF, as are the other fields said to be for it.
	ppi int
	// moreAfterLast: the iterator went on past the last word, into elements without words
	// (an image block), as Tesseract's PDF renderer sees it.
	moreAfterLast bool
	words         []word
	blocks        []block
	pars          []par
	lines         []line
}

// word is one recognised word and where it sits in the layout.
type word struct {
	text string
	conf float64
	// Ordinals of its block on the page, its paragraph in the block, its line in the
	// paragraph, from 1. A word whose ordinals differ from the word before it opens that
	// element: the next of page.blocks, page.pars or page.lines.
	block, par, line int
	box              box
	// lang is the language the word was read in when it is not its paragraph's.
	lang string
	// dict: the word is one the dictionary of a loaded language knows.
	dict bool
	// For the PDF: the word's baseline, x1 y1 x2 y2, and its font size in points.
	baseline  [4]int
	pointsize int
}

type block struct {
	box box
	// lineClass is the hOCR class of the block's lines: ocr_line, or by the block's type
	// ocr_header, ocr_textfloat or ocr_caption.
	lineClass string
	text      bool // a block of a text type, which the PDF writes text for
}

type par struct {
	box  box
	lang string // the language of its first word, e.g. "eng"; "" when Tesseract gives none
}

type line struct {
	box box
	// textangle is the rotation of a line that is not upright (90, 180 or 270 degrees
	// counterclockwise); 0 for upright lines, which have a baseline instead.
	textangle int
	// baseline is the line's baseline from end to end, x1 y1 x2 y2 on the page; ok false
	// when Tesseract has none.
	baseline [4]int
	ok       bool
	// For the PDF: the baseline however the line lies (zero when Tesseract has none), and
	// the writing direction of its block.
	pdfBaseline [4]int
	dir         direction
}

// hocrPage is the page's ocr_page element as Tesseract's hOCR renderer writes it. number is
// the page's number in its document, from 1: ids carry it, ppageno counts from 0. image
// names the page's image ("unknown" when empty, as Tesseract does).
func hocrPage(pg *page, number int, image string) []byte {
	if image == "" {
		image = "unknown"
	}
	n := strconv.Itoa(number)
	b := make([]byte, 0, 512+200*len(pg.words))
	b = append(b, "  <div class='ocr_page' id='page_"...)
	b = append(b, n...)
	b = append(b, "' title='image \""...)
	b = appendEscaped(b, image)
	b = append(b, "\"; bbox 0 0 "...)
	b = strconv.AppendInt(b, int64(pg.width), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(pg.height), 10)
	b = append(b, "; ppageno "...)
	b = strconv.AppendInt(b, int64(number-1), 10)
	if pg.dpi > 0 {
		b = append(b, "; scan_res "...)
		b = strconv.AppendInt(b, int64(pg.dpi), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(pg.dpi), 10)
	}
	b = append(b, "'>\n"...)

	nb, np, nl := 0, 0, 0 // elements opened so far
	var bl block
	for i, w := range pg.words {
		at := edgesAt(pg.words, i)
		if at.openBlock {
			bl = elem(pg.blocks, nb)
			nb++
			b = append(b, "   <div class='ocr_carea' id='block_"...)
			b = appendID(b, n, nb)
			b = append(b, '\'')
			b = appendTitleBox(b, bl.box)
			b = append(b, "\">"...)
		}
		if at.openPar {
			pa := elem(pg.pars, np)
			np++
			b = append(b, "\n    <p class='ocr_par' id='par_"...)
			b = appendID(b, n, np)
			b = append(b, '\'')
			if pa.lang != "" {
				b = append(b, " lang='"...)
				b = appendEscaped(b, pa.lang)
				b = append(b, '\'')
			}
			b = appendTitleBox(b, pa.box)
			b = append(b, "\">"...)
		}
		if at.openLine {
			ln := elem(pg.lines, nl)
			nl++
			class := bl.lineClass
			if class == "" {
				class = "ocr_line"
			}
			b = append(b, "\n     <span class='"...)
			b = append(b, class...)
			b = append(b, "' id='line_"...)
			b = appendID(b, n, nl)
			b = append(b, '\'')
			b = appendTitleBox(b, ln.box)
			b = appendBaseline(b, ln)
			b = append(b, "\">"...)
		}

		b = append(b, "\n      <span class='ocrx_word' id='word_"...)
		b = appendID(b, n, i+1)
		b = append(b, "' title='bbox "...)
		b = appendBox(b, w.box)
		b = append(b, "; x_wconf "...)
		b = strconv.AppendInt(b, int64(wordConf(w.conf)), 10)
		b = append(b, '\'')
		if w.lang != "" {
			b = append(b, " lang='"...)
			b = appendEscaped(b, w.lang)
			b = append(b, '\'')
		}
		b = append(b, '>')
		b = appendEscaped(b, w.text)
		b = append(b, "</span>"...)

		if at.closeLine {
			b = append(b, "\n     </span>"...)
		}
		if at.closePar {
			b = append(b, "\n    </p>\n"...)
		}
		if at.closeBlock {
			b = append(b, "   </div>\n"...)
		}
	}
	return append(b, "  </div>\n"...)
}

// edges says which layout elements a word opens before it and closes after it: a word
// whose block, paragraph or line differs from its neighbour's starts or ends one, and a
// larger element starts or ends the smaller ones within it.
type edges struct {
	openBlock, openPar, openLine    bool
	closeLine, closePar, closeBlock bool
}

// edgesAt is the edges of words[i].
func edgesAt(words []word, i int) edges {
	w := words[i]
	var e edges
	e.openBlock = i == 0 || w.block != words[i-1].block
	e.openPar = e.openBlock || w.par != words[i-1].par
	e.openLine = e.openPar || w.line != words[i-1].line
	last := i == len(words)-1
	e.closeBlock = last || words[i+1].block != w.block
	e.closePar = e.closeBlock || words[i+1].par != w.par
	e.closeLine = e.closePar || words[i+1].line != w.line
	return e
}

// elem is s[i], or the zero value past its end: a page whose words open more elements
// than the walk recorded still gives well-formed markup.
func elem[T any](s []T, i int) T {
	if i < len(s) {
		return s[i]
	}
	var zero T
	return zero
}

// appendID appends "N_M" for element m of page n, as hOCR ids number them.
func appendID(b []byte, n string, m int) []byte {
	b = append(b, n...)
	b = append(b, '_')
	return strconv.AppendInt(b, int64(m), 10)
}

func appendBox(b []byte, r box) []byte {
	for i, v := range [4]int{r.left, r.top, r.right, r.bottom} {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return b
}

// appendTitleBox opens a title attribute with the box. Tesseract quotes this title, unlike
// every other attribute, with double quotes; kept for byte-for-byte likeness.
func appendTitleBox(b []byte, r box) []byte {
	b = append(b, " title=\"bbox "...)
	return appendBox(b, r)
}

// appendBaseline adds a line's baseline as Tesseract's hOCR renderer does: the line
// y = p1 x + p0 through the baseline's ends, with the bottom left of the line's box as the
// origin, to 3 decimals; or the angle of a line that is not upright.
func appendBaseline(b []byte, ln line) []byte {
	if ln.textangle != 0 {
		b = append(b, "; textangle "...)
		return strconv.AppendInt(b, int64(ln.textangle), 10)
	}
	if !ln.ok {
		return b
	}
	x1, y1 := ln.baseline[0]-ln.box.left, ln.baseline[1]-ln.box.bottom
	x2, y2 := ln.baseline[2]-ln.box.left, ln.baseline[3]-ln.box.bottom
	if x1 == x2 {
		return b // a vertical baseline has no such line
	}
	p1 := float64(y2-y1) / float64(x2-x1)
	p0 := float64(y1) - p1*float64(x1)
	b = append(b, "; baseline "...)
	b = appendNumber(b, math.Round(p1*1000)/1000)
	b = append(b, ' ')
	return appendNumber(b, math.Round(p0*1000)/1000)
}

// appendNumber writes v as a C++ stream with precision 8 does (Tesseract's renderers):
// %.8g, without trailing zeros.
func appendNumber(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, v, 'g', 8, 64)
}

// wordConf is a word's confidence as the renderers write it: truncated to a whole number,
// within 0..100.
func wordConf(c float64) int {
	return min(max(int(c), 0), 100)
}

// altoPage is the page's ALTO Page element as Tesseract's ALTO renderer (5.3) writes it,
// each id prefixed by "pN_" for page number N, so a document's pages join into one document
// with unique ids (Tesseract numbers them from 0 on every page). Like Tesseract, the Page is
// numbered N-1 (PHYSICAL_IMG_NR and its id).
func altoPage(pg *page, number int) []byte {
	prefix := "p" + strconv.Itoa(number) + "_"
	b := make([]byte, 0, 512+220*len(pg.words))
	b = append(b, "\t\t<Page WIDTH=\""...)
	b = strconv.AppendInt(b, int64(pg.width), 10)
	b = append(b, "\" HEIGHT=\""...)
	b = strconv.AppendInt(b, int64(pg.height), 10)
	b = append(b, "\" PHYSICAL_IMG_NR=\""...)
	b = strconv.AppendInt(b, int64(number-1), 10)
	b = append(b, "\" ID=\""...)
	b = append(b, prefix...)
	b = append(b, "page_"...)
	b = strconv.AppendInt(b, int64(number-1), 10)
	b = append(b, "\">\n\t\t\t<PrintSpace HPOS=\"0\" VPOS=\"0\" WIDTH=\""...)
	b = strconv.AppendInt(b, int64(pg.width), 10)
	b = append(b, "\" HEIGHT=\""...)
	b = strconv.AppendInt(b, int64(pg.height), 10)
	b = append(b, "\">\n"...)

	nb, np, nl := 0, 0, 0 // elements opened so far
	for i, w := range pg.words {
		at := edgesAt(pg.words, i)
		if at.openBlock {
			b = appendALTOOpen(b, "\t\t\t\t<ComposedBlock", prefix, "cblock_", nb, elem(pg.blocks, nb).box)
			nb++
		}
		if at.openPar {
			b = appendALTOOpen(b, "\t\t\t\t\t<TextBlock", prefix, "block_", np, elem(pg.pars, np).box)
			np++
		}
		if at.openLine {
			b = appendALTOOpen(b, "\t\t\t\t\t\t<TextLine", prefix, "line_", nl, elem(pg.lines, nl).box)
			nl++
		}

		b = append(b, "\t\t\t\t\t\t\t<String ID=\""...)
		b = appendALTOID(b, prefix, "string_", i)
		b = appendALTOBox(b, w.box)
		b = append(b, " WC=\""...)
		b = appendWC(b, wordConf(w.conf))
		b = append(b, "\" CONTENT=\""...)
		b = appendEscaped(b, w.text)
		b = append(b, "\"/>"...)

		if at.closeLine {
			b = append(b, "\n\t\t\t\t\t\t</TextLine>\n"...)
		} else {
			// The space between this word and the next, on this word's top line.
			next := pg.words[i+1]
			b = append(b, "<SP WIDTH=\""...)
			b = strconv.AppendInt(b, int64(next.box.left-w.box.right), 10)
			b = append(b, "\" VPOS=\""...)
			b = strconv.AppendInt(b, int64(w.box.top), 10)
			b = append(b, "\" HPOS=\""...)
			b = strconv.AppendInt(b, int64(w.box.right), 10)
			b = append(b, "\"/>\n"...)
		}
		if at.closePar {
			b = append(b, "\t\t\t\t\t</TextBlock>\n"...)
		}
		if at.closeBlock {
			b = append(b, "\t\t\t\t</ComposedBlock>\n"...)
		}
	}
	return append(b, "\t\t\t</PrintSpace>\n\t\t</Page>\n"...)
}

// appendALTOOpen opens an element that holds others (tag is its indent and name) with its
// id and box.
func appendALTOOpen(b []byte, tag, prefix, kind string, n int, r box) []byte {
	b = append(b, tag...)
	b = append(b, " ID=\""...)
	b = appendALTOID(b, prefix, kind, n)
	b = appendALTOBox(b, r)
	return append(b, ">\n"...)
}

func appendALTOID(b []byte, prefix, kind string, n int) []byte {
	b = append(b, prefix...)
	b = append(b, kind...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '"')
}

// appendALTOBox appends the box as ALTO's position and size attributes.
func appendALTOBox(b []byte, r box) []byte {
	b = append(b, " HPOS=\""...)
	b = strconv.AppendInt(b, int64(r.left), 10)
	b = append(b, "\" VPOS=\""...)
	b = strconv.AppendInt(b, int64(r.top), 10)
	b = append(b, "\" WIDTH=\""...)
	b = strconv.AppendInt(b, int64(r.right-r.left), 10)
	b = append(b, "\" HEIGHT=\""...)
	b = strconv.AppendInt(b, int64(r.bottom-r.top), 10)
	return append(b, '"')
}

// appendWC writes a confidence of 0..100 as ALTO's word confidence, 0..1 to two decimals.
// Tesseract writes "0." and the whole percentage, which reads 5% as 0.5 and 100% as 0.1;
// from 10% to 99% the two agree byte for byte.
func appendWC(b []byte, c int) []byte {
	b = strconv.AppendInt(b, int64(c/100), 10)
	b = append(b, '.')
	return append(b, byte('0'+c%100/10), byte('0'+c%10))
}

// appendEscaped appends s as XML character data fit for text and for attributes quoted
// either way, with the entities Tesseract's renderers use. Bytes that are not UTF-8 and
// characters XML does not allow (control characters other than tab, newline and carriage
// return) become U+FFFD, so that what Tesseract reads cannot make the document unreadable;
// tab, newline and carriage return are written as references, which attribute values
// keep.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '"':
				b = append(b, "&quot;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c == '\t':
				b = append(b, "&#9;"...)
			case c == '\n':
				b = append(b, "&#10;"...)
			case c == '\r':
				b = append(b, "&#13;"...)
			case c < 0x20:
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
