package imageinfo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"

	"golang.org/x/image/tiff"
)

// tiffPage is one page of a TIFF: where its IFD is and what it declares.
type tiffPage struct {
	ifd           int64 // offset of the page's IFD
	width, height int
	dpi           int
	compression   int
	bitsPerSample int // the first sample's
	samples       int // SamplesPerPixel
}

// TIFF tags read here.
const (
	tagNewSubfileType  = 254
	tagImageWidth      = 256
	tagImageLength     = 257
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagSamplesPerPixel = 277
)

// tiffPages walks a TIFF's chain of IFDs and returns its pages (their declared sizes are
// for the caller to check against lim.MaxPixels). A reduced-resolution copy
// (a thumbnail) or a transparency mask in the chain is not a page (NewSubfileType bits 0
// and 2). The walk refuses offsets outside the file, IFDs that loop, and more pages than
// lim allows. Whatever is wrong with the first page's IFD is ErrNotImage, as in Inspect;
// with a later one, ErrCorrupt.
func tiffPages(data []byte, lim Limits) ([]tiffPage, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: tiff header unreadable: %d-byte file", ErrNotImage, len(data))
	}
	bo := tiffOrder(data)
	size := int64(len(data))
	maxPages := lim.maxPages()
	var pages []tiffPage
	seen := map[int64]bool{}
	off := int64(bo.Uint32(data[4:]))
	for dir := 0; off != 0; dir++ {
		if dir >= 2*maxPages+16 {
			return nil, fmt.Errorf("tiff holds more than %d directories: %w", dir, ErrTooLarge)
		}
		bad := func(format string, args ...any) error {
			if dir == 0 {
				return fmt.Errorf("%w: tiff header unreadable: "+format, append([]any{ErrNotImage}, args...)...)
			}
			return fmt.Errorf("%w: tiff directory %d: "+format, append([]any{ErrCorrupt, dir + 1}, args...)...)
		}
		switch {
		case seen[off]:
			return nil, bad("IFD offset %d loops back to an earlier directory", off)
		case off < 8 || off+2 > size:
			return nil, bad("IFD offset %d is outside the %d-byte file", off, size)
		}
		seen[off] = true
		n := int64(bo.Uint16(data[off:]))
		if n == 0 {
			return nil, bad("IFD at offset %d has no entries", off)
		}
		end := off + 2 + 12*n
		if end+4 > size {
			return nil, bad("IFD at offset %d with %d entries runs past the end of the %d-byte file", off, n, size)
		}
		p := tiffPage{ifd: off, compression: 1, bitsPerSample: 1, samples: 1}
		var subfile uint32
		for e := off + 2; e < end; e += 12 {
			v, ok := tiffShortOrLong(data[e:e+12], bo)
			switch bo.Uint16(data[e:]) {
			case tagNewSubfileType:
				if ok {
					subfile = v
				}
			case tagImageWidth:
				if ok {
					p.width = int(v)
				}
			case tagImageLength:
				if ok {
					p.height = int(v)
				}
			case tagCompression:
				if ok {
					p.compression = int(v)
				}
			case tagSamplesPerPixel:
				if ok {
					p.samples = int(v)
				}
			case tagBitsPerSample:
				p.bitsPerSample = tiffFirstShort(data, data[e:e+12], bo, p.bitsPerSample)
			}
		}
		off = int64(bo.Uint32(data[end:]))
		if subfile&(1|4) != 0 && !(dir == 0 && off == 0) {
			continue // a thumbnail or a mask, unless it is all there is
		}
		if p.width <= 0 || p.height <= 0 {
			return nil, bad("page declares %dx%d pixels", p.width, p.height)
		}
		if len(pages) == maxPages {
			return nil, fmt.Errorf("tiff holds more than %d pages: %w", maxPages, ErrTooLarge)
		}
		p.dpi = tiffDPIAt(data, bo, p.ifd)
		pages = append(pages, p)
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("%w: tiff has no page (no IFD, or only thumbnails and masks)", ErrNotImage)
	}
	return pages, nil
}

// tiffShortOrLong is the single SHORT or LONG value of a 12-byte IFD entry.
func tiffShortOrLong(e []byte, bo binary.ByteOrder) (uint32, bool) {
	typ, count := bo.Uint16(e[2:]), bo.Uint32(e[4:])
	if count != 1 {
		return 0, false
	}
	switch typ {
	case 3:
		return uint32(bo.Uint16(e[8:])), true
	case 4:
		return bo.Uint32(e[8:]), true
	}
	return 0, false
}

// tiffFirstShort is the first value of a SHORT entry: inline for one or two values, else
// at the entry's offset; def when there is none.
func tiffFirstShort(data, e []byte, bo binary.ByteOrder, def int) int {
	typ, count := bo.Uint16(e[2:]), bo.Uint32(e[4:])
	switch {
	case typ != 3 || count == 0:
		return def
	case count <= 2:
		return int(bo.Uint16(e[8:]))
	}
	if vo := int64(bo.Uint32(e[8:])); vo+2 <= int64(len(data)) {
		return int(bo.Uint16(data[vo:]))
	}
	return def
}

// decodeTIFFPage decodes one page with Go's TIFF decoder, which reads only the first IFD:
// it reads the file through a view whose header points at the page's IFD instead, so
// nothing is copied. A page that decoder does not support (JPEG-compressed, 2 or 4 bits a
// sample, ...) is decoded by Leptonica (libtiff) instead.
func decodeTIFFPage(data []byte, p tiffPage, info Info) (*image.Gray, error) {
	view := &tiffView{data: data}
	copy(view.head[:4], data[:4])
	tiffOrder(data).PutUint32(view.head[4:], uint32(p.ifd))

	img, err := tiff.Decode(view)
	var unsupported tiff.UnsupportedError
	if errors.As(err, &unsupported) {
		if p.samples < 1 || p.samples > 4 || p.bitsPerSample < 1 || p.bitsPerSample > 16 {
			return nil, fmt.Errorf("%w: tiff page with %d samples of %d bits", ErrNotImage, p.samples, p.bitsPerSample)
		}
		buf := make([]byte, len(data))
		copy(buf, data)
		copy(buf, view.head[:])
		g, lerr := leptDecode(buf, leptTIFF, info.Width, info.Height)
		if lerr != nil {
			return nil, fmt.Errorf("%w: tiff (compression %d, %d bits, %d samples; Go: %v): %v", ErrCorrupt, p.compression, p.bitsPerSample, p.samples, err, lerr)
		}
		return g, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: tiff: %v", ErrCorrupt, err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, info.Width, info.Height) {
		return nil, fmt.Errorf("%w: tiff page decodes to %dx%d, its IFD declares %dx%d", ErrCorrupt, b.Dx(), b.Dy(), info.Width, info.Height)
	}
	return ToGray(img), nil
}

// tiffView is data with its 8-byte header replaced by head.
type tiffView struct {
	data []byte
	head [8]byte
	pos  int64
}

func (p tiffPage) checkPixels(lim Limits, i int) error {
	return lim.checkPixels(fmt.Sprintf("tiff page %d", i+1), p.width, p.height)
}

func (v *tiffView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("tiff: negative offset")
	}
	if off >= int64(len(v.data)) {
		return 0, io.EOF
	}
	n := copy(p, v.data[off:])
	for i := off; i < int64(len(v.head)) && i < off+int64(n); i++ {
		p[i-off] = v.head[i]
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (v *tiffView) Read(p []byte) (int, error) {
	n, err := v.ReadAt(p, v.pos)
	v.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
