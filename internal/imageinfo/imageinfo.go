// Package imageinfo inspects a scan's header before anything decodes it: which format it
// is, how large it claims to be and at what resolution. Upload uses it to refuse what is
// not a scan, and the OCR worker to refuse decompression bombs and to pick the DPI.
//
// Two ways in:
//   - Inspect and Decode read one image (PNG, JPEG, TIFF's first page, GIF, BMP, WebP) with
//     Go's memory-safe decoders only.
//   - Count and DecodePage read a scan file as pages: everything above, plus every page of a
//     multi-page TIFF, PDF (rendered at 300 dpi by poppler's command-line tools, in their own
//     processes) and JPEG 2000 (decoded by Leptonica with OpenJPEG, through cgo). Each page's
//     declared size is checked against Limits before anything decodes or renders it.
package imageinfo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // register decoders for DecodeConfig
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Info is what a header says.
type Info struct {
	Format string // "png", "jpeg", "tiff", "gif", "bmp", "webp", "pdf", "jp2"
	Width  int
	Height int
	// DPI is the resolution the file declares, 0 when it declares none (or in no unit).
	// A PDF page is rendered at PDFDPI, and that is its DPI.
	DPI int
	// TextLayer is true for a PDF page that already carries text: a born-digital page, or
	// an earlier OCR's hidden layer. The page is still recognised from its image; this only
	// records that the file had text of its own. Set by DecodePage; false for other formats.
	TextLayer bool
}

// Limits bound what Inspect, Decode, Count and DecodePage accept.
type Limits struct {
	MaxPixels int64 // width*height of one page; 0 means DefaultMaxPixels
	MaxPages  int   // pages in one file (Count, DecodePage); 0 means DefaultMaxPages
}

// DefaultMaxPixels admits an A3 page at 600 dpi (7016x9921 ≈ 70 Mpx) with room to spare,
// and refuses a header that claims gigapixels before anything allocates for it.
const DefaultMaxPixels = 120_000_000

// DefaultMaxPages is as many pages as one document holds (pipeline.MaxPages).
const DefaultMaxPages = 9999

func (l Limits) maxPixels() int64 {
	if l.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return l.MaxPixels
}

func (l Limits) maxPages() int {
	if l.MaxPages <= 0 {
		return DefaultMaxPages
	}
	return l.MaxPages
}

// checkPixels refuses a page of w×h over the limit; what names the page in the error.
func (l Limits) checkPixels(what string, w, h int) error {
	if px, maxPx := int64(w)*int64(h), l.maxPixels(); px > maxPx {
		return fmt.Errorf("%s declares %dx%d pixels (%d), over the limit of %d: %w", what, w, h, px, maxPx, ErrTooLarge)
	}
	return nil
}

// ContentType returns the MIME type of a format name.
func ContentType(format string) string {
	switch format {
	case "png", "jpeg", "tiff", "gif", "bmp", "webp", "jp2":
		return "image/" + format
	case "pdf":
		return "application/pdf"
	}
	return "application/octet-stream"
}

// Ext returns the usual file extension of a format name, without the dot.
func Ext(format string) string {
	switch format {
	case "jpeg":
		return "jpg"
	case "tiff":
		return "tif"
	}
	return format
}

var magics = []struct {
	format string
	prefix []byte
}{
	{"png", []byte("\x89PNG\r\n\x1a\n")},
	{"jpeg", []byte("\xff\xd8\xff")},
	{"tiff", []byte("II*\x00")},
	{"tiff", []byte("MM\x00*")},
	{"gif", []byte("GIF8")},
	{"bmp", []byte("BM")},
	{"pdf", []byte("%PDF-")},
	{"jp2", jp2Signature}, // the JP2 signature box; a bare codestream (.j2k) is not read
}

// Sniff names the image format from the first bytes, or returns "" when it is none we read.
// The extension is never trusted: a text file named .png is still a text file.
func Sniff(data []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(data, m.prefix) {
			return m.format
		}
	}
	if len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP" {
		return "webp"
	}
	return ""
}

// ErrNotImage is returned (wrapped) for data that is not an image we can read.
var ErrNotImage = errors.New("not a supported image (PNG, JPEG, TIFF, GIF, BMP, WebP; PDF and JPEG 2000 as pages)")

// ErrCorrupt is returned (wrapped) by Decode for an image whose header reads but whose data does not.
var ErrCorrupt = errors.New("corrupt or truncated image")

// ErrTooLarge is returned (wrapped) for a header that declares too many pixels, or a file
// with more pages than Limits.MaxPages.
var ErrTooLarge = errors.New("image too large")

// ErrNoPage is returned (wrapped) by DecodePage for a page index the file does not have.
var ErrNoPage = errors.New("no such page")

// ErrMissingTool is returned (wrapped) when a program a format needs (poppler's pdfinfo,
// pdftoppm, pdftotext for PDF) is not installed: a fault of the machine, not of the scan.
var ErrMissingTool = errors.New("missing tool (scripts/install-deps installs it)")

// Inspect reads the header of data: format, dimensions, declared DPI. It decodes no pixels.
func Inspect(data []byte, lim Limits) (Info, error) {
	if len(data) == 0 {
		return Info{}, fmt.Errorf("empty file: %w", ErrNotImage)
	}
	format := Sniff(data)
	if format == "" {
		return Info{}, fmt.Errorf("%w; file starts with %q", ErrNotImage, printable(data, 8))
	}
	if format == "pdf" || format == "jp2" {
		// Not decoded by Go's decoders: only Count and DecodePage read these.
		return Info{Format: format}, fmt.Errorf("%w: %s is read as pages (Count, DecodePage), not as one image", ErrNotImage, format)
	}
	cfg, decFormat, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s header unreadable: %v", ErrNotImage, format, err)
	}
	info := Info{Format: decFormat, Width: cfg.Width, Height: cfg.Height}
	if info.Width <= 0 || info.Height <= 0 {
		return info, fmt.Errorf("%s header declares %dx%d pixels: %w", format, info.Width, info.Height, ErrNotImage)
	}
	if err := lim.checkPixels(format+" header", info.Width, info.Height); err != nil {
		return info, err
	}
	switch format {
	case "png":
		info.DPI = pngDPI(data)
	case "jpeg":
		info.DPI = jpegDPI(data)
	case "tiff":
		info.DPI = tiffDPI(data)
	}
	return info, nil
}

func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	out := make([]rune, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			out[i] = '.'
		} else {
			out[i] = rune(c)
		}
	}
	return string(out)
}

// pngDPI reads the pHYs chunk, which gives pixels per metre, before the first IDAT.
func pngDPI(data []byte) int {
	p := 8
	for p+8 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		if n < 0 || p+12+n > len(data) {
			return 0
		}
		if typ == "pHYs" && n == 9 {
			ppm := binary.BigEndian.Uint32(data[p+8:])
			if data[p+16] != 1 { // unit unknown: an aspect ratio, not a resolution
				return 0
			}
			return int(float64(ppm)*0.0254 + 0.5)
		}
		if typ == "IDAT" || typ == "IEND" {
			return 0
		}
		p += 12 + n
	}
	return 0
}

// jpegDPI reads the JFIF APP0 density.
func jpegDPI(data []byte) int {
	// SOI, then APP0: FF E0, length, "JFIF\0", version(2), units(1), Xdensity(2), Ydensity(2)
	if len(data) < 20 || data[2] != 0xff || data[3] != 0xe0 || string(data[6:11]) != "JFIF\x00" {
		return 0
	}
	units := data[13]
	y := int(binary.BigEndian.Uint16(data[16:]))
	switch units {
	case 1:
		return y
	case 2:
		return int(float64(y)*2.54 + 0.5)
	}
	return 0
}

// tiffDPI reads YResolution (tag 283) and ResolutionUnit (296) from the first IFD.
func tiffDPI(data []byte) int {
	if len(data) < 8 {
		return 0
	}
	bo := tiffOrder(data)
	return tiffDPIAt(data, bo, int64(bo.Uint32(data[4:])))
}

// tiffDPIAt reads YResolution and ResolutionUnit from the IFD at off.
func tiffDPIAt(data []byte, bo binary.ByteOrder, off int64) int {
	if off < 8 || off+2 > int64(len(data)) {
		return 0
	}
	n := int64(bo.Uint16(data[off:]))
	unit := 2 // the TIFF default is inches
	var num, den uint32
	for i := int64(0); i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > int64(len(data)) {
			return 0
		}
		tag := bo.Uint16(data[e:])
		switch tag {
		case 283:
			vo := int64(bo.Uint32(data[e+8:]))
			if vo+8 > int64(len(data)) {
				return 0
			}
			num, den = bo.Uint32(data[vo:]), bo.Uint32(data[vo+4:])
		case 296:
			unit = int(bo.Uint16(data[e+8:]))
		}
	}
	if den == 0 || num == 0 {
		return 0
	}
	v := float64(num) / float64(den)
	switch unit {
	case 2:
		return int(v + 0.5)
	case 3:
		return int(v*2.54 + 0.5)
	}
	return 0
}

// tiffOrder is the byte order a TIFF header names ("II" little-endian, "MM" big-endian).
func tiffOrder(data []byte) binary.ByteOrder {
	if len(data) > 0 && data[0] == 'M' {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
