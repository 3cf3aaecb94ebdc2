package imageinfo_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/imageinfo"
)

// tiffPageSpec is one page of a hand-built TIFF.
type tiffPageSpec struct {
	g       *image.Gray
	dpi     uint32 // YResolution in inches; 0: no resolution tags
	subfile uint32 // NewSubfileType; 0: no tag
}

// buildTIFFPages hand-builds an uncompressed 8-bit grey TIFF with one IFD per page, chained
// in order: header, then each page's IFD, its resolution values and its pixels.
func buildTIFFPages(bo binary.AppendByteOrder, pages ...tiffPageSpec) []byte {
	var out []byte
	if bo == binary.LittleEndian {
		out = append(out, 'I', 'I')
	} else {
		out = append(out, 'M', 'M')
	}
	out = bo.AppendUint16(out, 42)
	out = bo.AppendUint32(out, 8)
	type entry struct {
		tag, typ uint16
		value    uint32
	}
	for i, p := range pages {
		w, h := p.g.Bounds().Dx(), p.g.Bounds().Dy()
		var es []entry
		if p.subfile != 0 {
			es = append(es, entry{254, 4, p.subfile})
		}
		es = append(es, entry{256, 4, uint32(w)}, entry{257, 4, uint32(h)}, entry{258, 3, 8}, entry{259, 3, 1},
			entry{262, 3, 1}, entry{273, 4, 0}, entry{277, 3, 1}, entry{278, 4, uint32(h)}, entry{279, 4, uint32(w * h)})
		if p.dpi != 0 {
			es = append(es, entry{282, 5, 0}, entry{283, 5, 0}, entry{296, 3, 2})
		}
		ifd := len(out)
		after := ifd + 2 + 12*len(es) + 4
		rats := after
		pix := after
		if p.dpi != 0 {
			pix += 16
		}
		out = bo.AppendUint16(out, uint16(len(es)))
		for _, e := range es {
			v := e.value
			switch e.tag {
			case 273:
				v = uint32(pix)
			case 282:
				v = uint32(rats)
			case 283:
				v = uint32(rats + 8)
			}
			out = bo.AppendUint16(out, e.tag)
			out = bo.AppendUint16(out, e.typ)
			out = bo.AppendUint32(out, 1)
			if e.typ == 3 {
				out = bo.AppendUint16(out, uint16(v))
				out = append(out, 0, 0)
			} else {
				out = bo.AppendUint32(out, v)
			}
		}
		next := 0
		if i+1 < len(pages) {
			next = pix + w*h
			next += next % 2
		}
		out = bo.AppendUint32(out, uint32(next))
		if p.dpi != 0 {
			for range 2 {
				out = bo.AppendUint32(out, p.dpi)
				out = bo.AppendUint32(out, 1)
			}
		}
		for y := 0; y < h; y++ {
			out = append(out, p.g.Pix[y*p.g.Stride:y*p.g.Stride+w]...)
		}
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
	}
	return out
}

// tiffIFDs is the offset of each IFD of a TIFF built above, and where its next-IFD field is.
func tiffIFDs(t testing.TB, data []byte) (ifds, nexts []int) {
	t.Helper()
	bo := binary.ByteOrder(binary.LittleEndian)
	if data[0] == 'M' {
		bo = binary.BigEndian
	}
	for off := int(bo.Uint32(data[4:])); off != 0; {
		n := int(bo.Uint16(data[off:]))
		next := off + 2 + 12*n
		ifds, nexts = append(ifds, off), append(nexts, next)
		off = int(bo.Uint32(data[next:]))
	}
	return ifds, nexts
}

// leptTIFF writes pages into one TIFF with Leptonica, each compressed as its format says.
func leptTIFF(t testing.TB, dpi int, formats []int, pages ...*image.Gray) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pages.tif")
	for i, g := range pages {
		if err := imageinfo.LeptAppendTIFF(path, g, formats[i], dpi, i == 0); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func leptEncode(t testing.TB, g *image.Gray, format, dpi int) []byte {
	t.Helper()
	b, err := imageinfo.LeptEncode(g, format, dpi)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pdfPageSpec is one page of a hand-built PDF.
type pdfPageSpec struct {
	w, h      float64     // media box, in points
	draw      string      // content stream operators, drawn first
	img       *image.Gray // drawn over the whole page when not nil, as a scan is
	text      string      // shown in Helvetica when not ""
	invisible bool        // the text in render mode 3, as an OCR layer is
	extra     string      // more entries of the page dictionary: /Rotate, /CropBox
}

// buildPDF hand-builds a PDF of the pages, with a correct cross-reference table.
func buildPDF(pages ...pdfPageSpec) []byte {
	objs := map[int][]byte{}
	next := 4
	var kids []string
	for _, p := range pages {
		page, content := next, next+1
		next += 2
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
		var cs strings.Builder
		res := "/Font << /F1 3 0 R >>"
		if p.img != nil {
			im := next
			next++
			b := p.img.Bounds()
			var pix bytes.Buffer
			for y := b.Min.Y; y < b.Max.Y; y++ {
				pix.Write(p.img.Pix[p.img.PixOffset(b.Min.X, y):p.img.PixOffset(b.Max.X, y)])
			}
			objs[im] = fmt.Appendf(nil, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream",
				b.Dx(), b.Dy(), pix.Len(), pix.Bytes())
			res += fmt.Sprintf(" /XObject << /Im0 %d 0 R >>", im)
			fmt.Fprintf(&cs, "q %g 0 0 %g 0 0 cm /Im0 Do Q\n", p.w, p.h)
		}
		cs.WriteString(p.draw + "\n")
		if p.text != "" {
			mode := 0
			if p.invisible {
				mode = 3
			}
			esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(p.text)
			fmt.Fprintf(&cs, "BT /F1 10 Tf %d Tr 5 5 Td (%s) Tj ET\n", mode, esc)
		}
		objs[page] = fmt.Appendf(nil, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] %s /Resources << %s >> /Contents %d 0 R >>", p.w, p.h, p.extra, res, content)
		objs[content] = fmt.Appendf(nil, "<< /Length %d >>\nstream\n%s\nendstream", cs.Len(), cs.String())
	}
	objs[1] = []byte("<< /Type /Catalog /Pages 2 0 R >>")
	objs[2] = fmt.Appendf(nil, "<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	objs[3] = []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")

	out := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, next)
	for k := 1; k < next; k++ {
		offs[k] = len(out)
		out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", k, objs[k])
	}
	xref := len(out)
	out = fmt.Appendf(out, "xref\n0 %d\n0000000000 65535 f \n", next)
	for k := 1; k < next; k++ {
		out = fmt.Appendf(out, "%010d 00000 n \n", offs[k])
	}
	return fmt.Appendf(out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", next, xref)
}

// meanAbsDiff is the mean absolute difference of two same-size grey images.
func meanAbsDiff(t testing.TB, a, b *image.Gray) float64 {
	t.Helper()
	if a.Bounds().Size() != b.Bounds().Size() {
		t.Fatalf("sizes %v and %v differ", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum int
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := int(a.GrayAt(a.Rect.Min.X+x, a.Rect.Min.Y+y).Y) - int(b.GrayAt(b.Rect.Min.X+x, b.Rect.Min.Y+y).Y)
			if d < 0 {
				d = -d
			}
			sum += d
		}
	}
	return float64(sum) / float64(w*h)
}

// meanIn is the mean grey level of g inside r.
func meanIn(g *image.Gray, r image.Rectangle) float64 {
	r = r.Intersect(g.Bounds())
	var sum int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += int(g.GrayAt(x, y).Y)
		}
	}
	return float64(sum) / float64(r.Dx()*r.Dy())
}

// threshold is g in black and white, as a G4-compressed page stores it.
func threshold(g *image.Gray) *image.Gray {
	out := image.NewGray(g.Bounds())
	for i, v := range g.Pix {
		if v >= 128 {
			out.Pix[i] = 255
		}
	}
	return out
}

// blocks is a w×h grey image in four quadrants: dark top-left and bottom-right.
func blocks(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x < w/2) == (y < h/2) {
				g.SetGray(x, y, color.Gray{Y: 20})
			} else {
				g.SetGray(x, y, color.Gray{Y: 235})
			}
		}
	}
	return g
}

// withJP2Res adds a resolution box to a JP2's header box: capture (resc) and display
// (resd) resolution in grid points per metre, as num/den·10^exp; a zero num leaves it out.
func withJP2Res(t testing.TB, jp2 []byte, capNum, dispNum uint16, den uint16, exp int8) []byte {
	t.Helper()
	h := bytes.Index(jp2, []byte("jp2h")) - 4
	if h < 0 {
		t.Fatal("no jp2h box")
	}
	box := func(typ string, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		return append(append(b, typ...), body...)
	}
	resBody := func(num uint16) []byte {
		b := binary.BigEndian.AppendUint16(nil, num)
		b = binary.BigEndian.AppendUint16(b, den)
		b = binary.BigEndian.AppendUint16(b, num)
		b = binary.BigEndian.AppendUint16(b, den)
		return append(b, byte(exp), byte(exp))
	}
	var res []byte
	if capNum != 0 {
		res = append(res, box("resc", resBody(capNum))...)
	}
	if dispNum != 0 {
		res = append(res, box("resd", resBody(dispNum))...)
	}
	n := int(binary.BigEndian.Uint32(jp2[h:]))
	header := append(bytes.Clone(jp2[h+8:h+n]), box("res ", res)...)
	out := append(bytes.Clone(jp2[:h]), box("jp2h", header)...)
	return append(out, jp2[h+n:]...)
}
