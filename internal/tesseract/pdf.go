package tesseract

/*
#include <leptonica/allheaders.h>

// pdf_image compresses the page for the PDF as Tesseract's PDF renderer does, with
// Leptonica's l_generateCIDataForPdf: a black and white page goes in as 1 bit per pixel,
// which comes out as CCITT G4 (a tenth of the size of the JPEG a grey page makes). NULL
// when Leptonica fails; the caller destroys the data.
static L_COMP_DATA *pdf_image(PIX *pix, int bilevel, int quality) {
	PIX *in = pix;
	if (bilevel) {
		in = pixConvertTo1(pix, 128);
		if (in == NULL) return NULL;
	}
	L_COMP_DATA *cid = NULL;
	if (l_generateCIDataForPdf(NULL, in, quality, &cid) != 0) l_CIDataDestroy(&cid);
	if (in != pix) pixDestroy(&in);
	return cid;
}
*/
import "C"

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// The one-page searchable PDF is written here, in Go, from the walk that also gives the
// text, hOCR and ALTO (readPage), and the page image as Leptonica compresses it. It follows
// Tesseract 5.3's PDF renderer (src/api/pdfrenderer.cpp) object for object: the same
// objects and numbers, the same glyphless font (tessdata's pdf.ttf), and a text layer
// placed with the same arithmetic, so what reads Tesseract's PDFs reads these and text
// selection lands where it did. Tesseract's renderer is not used because it walks the page
// again symbol by symbol, reads pdf.ttf from disk and compresses a 128 KiB CIDToGIDMap on
// every page (its cost is in docs/benchmarks.md). The differences: the creation date is the page's, in UTC; and
// a word's writing direction is worked out from its letters, as Tesseract's WordDirection
// does from its character set, which its C API does not offer.

// pdfJPEGQuality is Tesseract's jpg_quality default, for grey pages.
const pdfJPEGQuality = 85

// pdfCharWidth is Tesseract's kCharWidth: the glyphless font's glyphs are half as wide
// as the font size.
const pdfCharWidth = 2

// pdf writes the page just recognised as a one-page PDF; on the engine's thread.
func (e *Engine) pdf(pg *page, pix *C.PIX, p Page) ([]byte, error) {
	if pix == nil {
		return nil, errors.New("PDF: no page image")
	}
	font, err := e.pdfFont()
	if err != nil {
		return nil, err
	}
	img, err := pdfImageOf(pix, bilevel(p.Image))
	if err != nil {
		return nil, err
	}
	created := p.Created
	if created.IsZero() {
		created = time.Now()
	}
	return writePDF(pg, img, font, p.Title, "Tesseract "+Version(), created)
}

// pdfFont is tessdata's pdf.ttf, the glyphless font Tesseract's renderer embeds, read from
// the engine's model directory once.
func (e *Engine) pdfFont() ([]byte, error) {
	dir := e.datapath()
	if e.font != nil && e.fontDir == dir {
		return e.font, nil
	}
	font, err := os.ReadFile(filepath.Join(dir, "pdf.ttf"))
	if err != nil {
		return nil, fmt.Errorf("PDF: the glyphless font: %w", err)
	}
	if len(font) == 0 {
		return nil, fmt.Errorf("PDF: the glyphless font %s is empty", filepath.Join(dir, "pdf.ttf"))
	}
	e.font, e.fontDir = font, dir
	return font, nil
}

// pdfImage is the page image compressed for the PDF, and what its image dictionary says
// of it.
type pdfImage struct {
	filter        string // e.g. "/CCITTFaxDecode"
	group4        bool   // CCITT G4: K -1
	width, height int
	bps, spp      int
	predictor     bool
	ncolors       int    // colours in a colour map; 0 for none
	cmapHex       string // the colour map as a PDF hex array
	data          []byte
}

// pdfImageOf compresses pix as Tesseract's renderer does. Everything Leptonica allocates
// is freed before it returns.
func pdfImageOf(pix *C.PIX, bilevel bool) (pdfImage, error) {
	bw := C.int(0)
	if bilevel {
		bw = 1
	}
	cid := C.pdf_image(pix, bw, pdfJPEGQuality)
	if cid == nil {
		return pdfImage{}, errors.New("PDF: leptonica could not compress the page image")
	}
	defer C.l_CIDataDestroy(&cid)
	img := pdfImage{
		width: int(cid.w), height: int(cid.h), bps: int(cid.bps), spp: int(cid.spp),
		predictor: cid.predictor != 0, ncolors: int(cid.ncolors),
	}
	switch cid._type {
	case C.L_FLATE_ENCODE:
		img.filter = "/FlateDecode"
	case C.L_JPEG_ENCODE:
		img.filter = "/DCTDecode"
	case C.L_G4_ENCODE:
		img.filter, img.group4 = "/CCITTFaxDecode", true
	case C.L_JP2K_ENCODE:
		img.filter = "/JPXDecode"
	default:
		return pdfImage{}, fmt.Errorf("PDF: leptonica compressed the page image as type %d", int(cid._type))
	}
	if img.ncolors > 0 {
		if cid.cmapdatahex == nil {
			return pdfImage{}, errors.New("PDF: leptonica gave a colour map without its data")
		}
		img.cmapHex = C.GoString(cid.cmapdatahex)
	} else if img.spp != 1 && img.spp != 3 {
		return pdfImage{}, fmt.Errorf("PDF: page image of %d samples a pixel", img.spp)
	}
	if cid.datacomp == nil || cid.nbytescomp == 0 {
		return pdfImage{}, errors.New("PDF: leptonica compressed the page image to nothing")
	}
	img.data = C.GoBytes(unsafe.Pointer(cid.datacomp), C.int(cid.nbytescomp))
	return img, nil
}

// cidToGIDMap is the font's CIDToGIDMap stream, compressed: every CID to glyph 1, as
// Tesseract's renderer maps them (Acrobat will not extract a font that uses glyph 0). The
// same for every page, so made once.
var cidToGIDMap = sync.OnceValue(func() []byte {
	m := make([]byte, 2<<16)
	for i := 1; i < len(m); i += 2 {
		m[i] = 1
	}
	return deflate(m)
})

// deflate is data zlib-compressed, for a /FlateDecode stream.
func deflate(data []byte) []byte {
	var b bytes.Buffer
	z := zlib.NewWriter(&b)
	_, _ = z.Write(data) // writing to a bytes.Buffer cannot fail
	_ = z.Close()
	return b.Bytes()
}

// toUnicodeCMap maps every two-byte code to the same UTF-16 code: the text layer's codes
// are the words' UTF-16BE, so what extracts text reads them back.
const toUnicodeCMap = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo
<<
  /Registry (Adobe)
  /Ordering (UCS)
  /Supplement 0
>> def
/CMapName /Adobe-Identify-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
`

// writePDF is the page as Tesseract's renderer writes a one-page document: objects 1
// (catalog), 3 to 8 (the font), 9 (page), 10 (contents), 11 (image), then 2 (pages, which
// Tesseract writes last) and 12 (info), the cross-reference table and the trailer.
func writePDF(pg *page, img pdfImage, font []byte, title, producer string, created time.Time) ([]byte, error) {
	if pg.ppi <= 0 {
		return nil, fmt.Errorf("PDF: page resolution %d", pg.ppi)
	}
	width := float64(img.width) * 72 / float64(pg.ppi)
	height := float64(img.height) * 72 / float64(pg.ppi)
	content := deflate(pdfText(pg, width, height))
	gidMap := cidToGIDMap()

	b := make([]byte, 0, 4096+len(font)+len(gidMap)+len(content)+len(img.data))
	offsets := make([]int, 13) // by object number
	obj := func(n int) {
		offsets[n] = len(b)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, " 0 obj\n"...)
	}
	stream := func(data []byte) {
		b = append(b, "stream\n"...)
		b = append(b, data...)
		b = append(b, "endstream\nendobj\n"...)
	}
	b = append(b, "%PDF-1.5\n%\xDE\xAD\xBE\xEB\n"...)
	obj(1)
	b = append(b, "<<\n  /Type /Catalog\n  /Pages 2 0 R\n>>\nendobj\n"...)
	obj(3)
	b = append(b, "<<\n  /BaseFont /GlyphLessFont\n  /DescendantFonts [ 4 0 R ]\n  /Encoding /Identity-H\n  /Subtype /Type0\n  /ToUnicode 6 0 R\n  /Type /Font\n>>\nendobj\n"...)
	obj(4)
	b = append(b, "<<\n  /BaseFont /GlyphLessFont\n  /CIDToGIDMap 5 0 R\n  /CIDSystemInfo\n  <<\n     /Ordering (Identity)\n     /Registry (Adobe)\n     /Supplement 0\n  >>\n  /FontDescriptor 7 0 R\n  /Subtype /CIDFontType2\n  /Type /Font\n  /DW "...)
	b = strconv.AppendInt(b, 1000/pdfCharWidth, 10)
	b = append(b, "\n>>\nendobj\n"...)
	obj(5)
	b = append(b, "<<\n  /Length "...)
	b = strconv.AppendInt(b, int64(len(gidMap)), 10)
	b = append(b, " /Filter /FlateDecode\n>>\n"...)
	stream(gidMap)
	obj(6)
	b = append(b, "<< /Length "...)
	b = strconv.AppendInt(b, int64(len(toUnicodeCMap)), 10)
	b = append(b, " >>\n"...)
	stream([]byte(toUnicodeCMap))
	obj(7)
	b = append(b, "<<\n  /Ascent 1000\n  /CapHeight 1000\n  /Descent -1\n  /Flags 5\n  /FontBBox  [ 0 0 "...)
	b = strconv.AppendInt(b, 1000/pdfCharWidth, 10)
	b = append(b, " 1000 ]\n  /FontFile2 8 0 R\n  /FontName /GlyphLessFont\n  /ItalicAngle 0\n  /StemV 80\n  /Type /FontDescriptor\n>>\nendobj\n"...)
	obj(8)
	b = append(b, "<<\n  /Length "...)
	b = strconv.AppendInt(b, int64(len(font)), 10)
	b = append(b, "\n  /Length1 "...)
	b = strconv.AppendInt(b, int64(len(font)), 10)
	b = append(b, "\n>>\n"...)
	stream(font)

	obj(9)
	b = append(b, "<<\n  /Type /Page\n  /Parent 2 0 R\n  /MediaBox [0 0 "...)
	b = strconv.AppendFloat(b, width, 'f', 2, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, height, 'f', 2, 64)
	b = append(b, "]\n  /Contents 10 0 R\n  /Resources\n  <<\n    /XObject << /Im1 11 0 R >>\n    /ProcSet [ /PDF /Text /ImageB /ImageI /ImageC ]\n    /Font << /f-0-0 3 0 R >>\n  >>\n>>\nendobj\n"...)
	obj(10)
	b = append(b, "<<\n  /Length "...)
	b = strconv.AppendInt(b, int64(len(content)), 10)
	b = append(b, " /Filter /FlateDecode\n>>\n"...)
	stream(content)
	obj(11)
	b = append(b, "<<\n  /Length "...)
	b = strconv.AppendInt(b, int64(len(img.data)), 10)
	b = append(b, "\n  /Subtype /Image\n"...)
	if img.ncolors > 0 {
		b = append(b, "  /ColorSpace [ /Indexed /DeviceRGB "...)
		b = strconv.AppendInt(b, int64(img.ncolors-1), 10)
		b = append(b, ' ')
		b = append(b, img.cmapHex...)
		b = append(b, " ]\n"...)
	} else if img.spp == 1 {
		b = append(b, "  /ColorSpace /DeviceGray\n"...)
	} else {
		b = append(b, "  /ColorSpace /DeviceRGB\n"...)
	}
	b = append(b, "  /Width "...)
	b = strconv.AppendInt(b, int64(img.width), 10)
	b = append(b, "\n  /Height "...)
	b = strconv.AppendInt(b, int64(img.height), 10)
	b = append(b, "\n  /BitsPerComponent "...)
	b = strconv.AppendInt(b, int64(img.bps), 10)
	b = append(b, "\n  /Filter "...)
	b = append(b, img.filter...)
	b = append(b, "\n  /DecodeParms\n  <<\n    /Predictor "...)
	if img.predictor {
		b = append(b, "14"...)
	} else {
		b = append(b, '1')
	}
	b = append(b, "\n    /Colors "...)
	b = strconv.AppendInt(b, int64(img.spp), 10)
	b = append(b, '\n')
	if img.group4 {
		b = append(b, "    /K -1\n"...)
	}
	b = append(b, "    /Columns "...)
	b = strconv.AppendInt(b, int64(img.width), 10)
	b = append(b, "\n    /BitsPerComponent "...)
	b = strconv.AppendInt(b, int64(img.bps), 10)
	b = append(b, "\n  >>\n>>\n"...)
	stream(img.data)

	obj(2)
	b = append(b, "<<\n  /Type /Pages\n  /Kids [ 9 0 R ]\n  /Count 1\n>>\nendobj\n"...)
	obj(12)
	b = append(b, "<<\n  /Producer "...)
	b = appendPDFString(b, producer)
	b = append(b, "\n  /CreationDate (D:"...)
	b = created.UTC().AppendFormat(b, "20060102150405")
	b = append(b, "Z00'00')\n  /Title <FEFF"...)
	b = appendUTF16Hex(b, title)
	b = append(b, ">\n>>\nendobj\n"...)

	xref := len(b)
	b = append(b, "xref\n0 13\n0000000000 65535 f \n"...)
	for _, off := range offsets[1:] {
		b = fmt.Appendf(b, "%010d 00000 n \n", off)
	}
	b = append(b, "trailer\n<<\n  /Size 13\n  /Root 1 0 R\n  /Info 12 0 R\n>>\nstartxref\n"...)
	b = strconv.AppendInt(b, int64(xref), 10)
	b = append(b, "\n%%EOF\n"...)
	return b, nil
}

// appendPDFString appends s as a PDF literal string, escaping what would end it early.
func appendPDFString(b []byte, s string) []byte {
	b = append(b, '(')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}

// appendUTF16Hex appends s as UTF-16BE in upper-case hex, as Tesseract writes text: four
// digits a character, eight for one beyond the BMP. Bytes that are not UTF-8 become U+FFFD.
func appendUTF16Hex(b []byte, s string) []byte {
	b, _ = appendUTF16HexCount(b, s)
	return b
}

// appendUTF16HexCount is appendUTF16Hex, also counting the characters written.
func appendUTF16HexCount(b []byte, s string) ([]byte, int) {
	const digits = "0123456789ABCDEF"
	hex4 := func(b []byte, v rune) []byte {
		return append(b, digits[v>>12&0xF], digits[v>>8&0xF], digits[v>>4&0xF], digits[v&0xF])
	}
	n := 0
	for _, r := range s { // invalid bytes range as U+FFFD
		if r < 0x10000 {
			b = hex4(b, r)
		} else {
			r -= 0x10000
			b = hex4(b, 0xD800+(r>>10&0x3FF))
			b = hex4(b, 0xDC00+(r&0x3FF))
		}
		n++
	}
	return b, n
}

// direction is a writing direction, as Tesseract's PDF renderer tells them apart.
type direction int

const (
	leftToRight direction = iota
	rightToLeft
	topToBottom
)

// wordDirection is the direction of a word's own letters, as Tesseract's WordDirection
// says from the characters' classes: right to left when it has only right-to-left letters,
// left to right when it has only others, and ok false when it has neither or both (digits
// and punctuation are neutral), which leaves the direction as it was.
func wordDirection(text string) (d direction, ok bool) {
	var rtl, ltr bool
	for _, r := range text {
		switch {
		case unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana, unicode.Nko, unicode.Samaritan, unicode.Mandaic):
			if unicode.IsLetter(r) || unicode.IsMark(r) {
				rtl = true
			}
		case unicode.IsLetter(r):
			ltr = true
		}
	}
	switch {
	case rtl && !ltr:
		return rightToLeft, true
	case ltr && !rtl:
		return leftToRight, true
	}
	return leftToRight, false
}

// prec is Tesseract's prec: x to 3 decimals, and never -0.
func prec(x float64) float64 {
	a := math.Round(x*1000) / 1000
	if a == 0 {
		return 0
	}
	return a
}

// pdfText is the page's content stream as Tesseract's renderer writes it (its
// GetPDFTextObjects): the image drawn over the page, then each text block as a text
// object in invisible ink (3 Tr), each word placed at the start of its baseline projected
// on its line's baseline and stretched (Tz) to the word's length. width and height are
// the page's in points.
func pdfText(pg *page, width, height float64) []byte {
	b := make([]byte, 0, 256+80*len(pg.words))
	b = append(b, "q "...)
	b = appendNumber(b, prec(width))
	b = append(b, " 0 0 "...)
	b = appendNumber(b, prec(height))
	b = append(b, " 0 0 cm /Im1 Do Q\n"...)

	ppi := pg.ppi
	// Tesseract hands the page height to an int parameter: truncated to whole points.
	pageHeight := float64(int(height))
	var oldX, oldY float64
	oldFontsize := 0
	oldDir := leftToRight
	newBlock := true
	a, bb, c, d := 1.0, 0.0, 0.0, 1.0
	var lx1, ly1, lx2, ly2 int
	var blk block
	nb, nl := 0, 0 // elements opened so far
	for i, w := range pg.words {
		at := edgesAt(pg.words, i)
		if at.openBlock {
			blk = elem(pg.blocks, nb)
			nb++
			if blk.text {
				b = append(b, "BT\n3 Tr"...)
				oldFontsize = 0 // every block declares its font size
				newBlock = true // and its matrix
			}
		}
		var ln line
		if at.openLine {
			ln = elem(pg.lines, nl)
			nl++
			lx1, ly1, lx2, ly2 = clipBaseline(ppi, ln.pdfBaseline)
		} else {
			ln = elem(pg.lines, nl-1)
		}
		if !blk.text {
			continue // Tesseract skips the blocks that are not text
		}

		dir := ln.dir
		if dir != topToBottom {
			if wd, ok := wordDirection(w.text); ok {
				dir = wd
			} else {
				dir = oldDir
			}
		}
		x, y, length := wordBaseline(dir, ppi, pageHeight, w.baseline, [4]int{lx1, ly1, lx2, ly2})
		if dir != oldDir || newBlock {
			a, bb, c, d = affineMatrix(dir, lx1, ly1, lx2, ly2)
			for _, v := range []float64{a, bb, c, d, x, y} {
				b = append(b, ' ')
				b = appendNumber(b, prec(v))
			}
			b = append(b, " Tm "...)
			newBlock = false
		} else {
			dx, dy := x-oldX, y-oldY
			b = append(b, ' ')
			b = appendNumber(b, prec(dx*a+dy*bb))
			b = append(b, ' ')
			b = appendNumber(b, prec(dx*c+dy*d))
			b = append(b, " Td "...)
		}
		oldX, oldY, oldDir = x, y, dir

		// Tesseract finds no size for some words (Arabic, it says): 8 points then.
		fontsize := w.pointsize
		if fontsize <= 0 {
			fontsize = 8
		}
		if fontsize != oldFontsize {
			b = append(b, "/f-0-0 "...)
			b = strconv.AppendInt(b, int64(fontsize), 10)
			b = append(b, " Tf "...)
			oldFontsize = fontsize
		}

		// Every word but the page's last ends in a space, which counts in its stretch:
		// Tesseract 5.3 adds one wherever another word follows, so text extraction keeps
		// words apart.
		n := utf8.RuneCountInString(w.text)
		space := i < len(pg.words)-1 || pg.moreAfterLast
		if space {
			n++
		}
		if length > 0 && n > 0 {
			b = appendNumber(b, pdfCharWidth*prec(100*length/float64(fontsize*n)))
			b = append(b, " Tz [ <"...)
			b, _ = appendUTF16HexCount(b, w.text)
			if space {
				b = append(b, "0020"...)
			}
			b = append(b, "> ] TJ"...)
		}
		if at.closeLine {
			b = append(b, " \n"...)
		}
		if at.closeBlock {
			b = append(b, "ET\n"...)
		}
	}
	return b
}

// clipBaseline is Tesseract's ClipBaseline: a line's baseline, made level when it rises
// less than 2 points over more than 2 points' run, which some viewers select better.
func clipBaseline(ppi int, bl [4]int) (x1, y1, x2, y2 int) {
	x1, y1, x2, y2 = bl[0], bl[1], bl[2], bl[3]
	rise := abs(y2-y1) * 72
	run := abs(x2-x1) * 72
	if rise < 2*ppi && 2*ppi < run {
		y1 = (y1 + y2) / 2
		y2 = y1
	}
	return x1, y1, x2, y2
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// wordBaseline is Tesseract's GetWordBaseline: where the word starts, in points from the
// page's bottom left, its baseline's start projected onto the line's baseline, and the
// baseline's length.
func wordBaseline(dir direction, ppi int, height float64, wb, lb [4]int) (x, y, length float64) {
	wx1, wy1, wx2, wy2 := wb[0], wb[1], wb[2], wb[3]
	if dir == rightToLeft {
		wx1, wx2 = wx2, wx1
		wy1, wy2 = wy2, wy1
	}
	lx1, ly1, lx2, ly2 := lb[0], lb[1], lb[2], lb[3]
	if l2 := float64(dist2(lx1, ly1, lx2, ly2)); l2 == 0 {
		x, y = float64(lx1), float64(ly1)
	} else {
		t := float64((wx1-lx2)*(lx2-lx1)+(wy1-ly2)*(ly2-ly1)) / l2
		x = float64(lx2) + t*float64(lx2-lx1)
		y = float64(ly2) + t*float64(ly2-ly1)
	}
	length = math.Sqrt(float64(dist2(wx1, wy1, wx2, wy2))) * 72 / float64(ppi)
	return x * 72 / float64(ppi), height - y*72/float64(ppi), length
}

func dist2(x1, y1, x2, y2 int) int {
	return (x2-x1)*(x2-x1) + (y2-y1)*(y2-y1)
}

// affineMatrix is Tesseract's AffineMatrix: the rotation of the line's baseline, mirrored
// for right-to-left text.
func affineMatrix(dir direction, x1, y1, x2, y2 int) (a, b, c, d float64) {
	theta := math.Atan2(float64(y1-y2), float64(x2-x1))
	a, b, c, d = math.Cos(theta), math.Sin(theta), -math.Sin(theta), math.Cos(theta)
	if dir == rightToLeft {
		a, b = -a, -b
	}
	return a, b, c, d
}
