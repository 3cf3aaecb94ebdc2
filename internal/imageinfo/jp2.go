package imageinfo

import (
	"encoding/binary"
	"fmt"
	"math"
)

// jp2Signature is the JPEG 2000 (JP2, ISO 15444-1 annex I) signature box.
var jp2Signature = []byte("\x00\x00\x00\x0cjP  \r\n\x87\n")

// jp2Info reads a JP2 file's header in Go, before OpenJPEG sees it: the image header box
// (ihdr), the capture or display resolution (res), and the codestream's SIZ marker, which
// is what the decoder allocates by. Both sizes are checked against lim; so are the number
// of components and tiles, which OpenJPEG also allocates by.
func jp2Info(data []byte, lim Limits) (Info, error) {
	info := Info{Format: "jp2"}
	var ihdrW, ihdrH, ihdrComps int
	var haveIHDR bool
	var capture, display int // dpi from resc, resd
	var code []byte
	err := jp2Boxes(data, func(typ string, body []byte) error {
		switch typ {
		case "jp2h":
			return jp2Boxes(body, func(typ string, body []byte) error {
				switch typ {
				case "ihdr":
					if len(body) < 14 {
						return fmt.Errorf("ihdr box of %d bytes", len(body))
					}
					ihdrH, ihdrW = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
					ihdrComps = int(binary.BigEndian.Uint16(body[8:]))
					haveIHDR = true
				case "res ":
					return jp2Boxes(body, func(typ string, body []byte) error {
						switch typ {
						case "resc":
							capture = jp2DPI(body)
						case "resd":
							display = jp2DPI(body)
						}
						return nil
					})
				}
				return nil
			})
		case "jp2c":
			if code == nil {
				code = body
			}
		}
		return nil
	})
	if err != nil {
		if code != nil || haveIHDR {
			return info, fmt.Errorf("%w: jp2: %v", ErrCorrupt, err)
		}
		return info, fmt.Errorf("%w: jp2 header unreadable: %v", ErrNotImage, err)
	}
	if !haveIHDR || code == nil {
		return info, fmt.Errorf("%w: jp2 header unreadable: no image header (ihdr) or no codestream (jp2c)", ErrNotImage)
	}
	if ihdrW <= 0 || ihdrH <= 0 {
		return info, fmt.Errorf("jp2 header declares %dx%d pixels: %w", ihdrW, ihdrH, ErrNotImage)
	}
	info.Width, info.Height = ihdrW, ihdrH
	if err := lim.checkPixels("jp2 header", ihdrW, ihdrH); err != nil {
		return info, err
	}
	w, h, err := j2kSIZ(code)
	if err != nil {
		return info, fmt.Errorf("%w: jp2 codestream: %v", ErrCorrupt, err)
	}
	if err := lim.checkPixels("jp2 codestream", w, h); err != nil {
		return info, err
	}
	if w != ihdrW || h != ihdrH {
		return info, fmt.Errorf("%w: jp2 header declares %dx%d pixels, its codestream %dx%d", ErrCorrupt, ihdrW, ihdrH, w, h)
	}
	if comps := int(binary.BigEndian.Uint16(code[40:])); comps != ihdrComps {
		return info, fmt.Errorf("%w: jp2 header declares %d components, its codestream %d", ErrCorrupt, ihdrComps, comps)
	}
	if why := j2kUnsupported(code); why != "" {
		return info, fmt.Errorf("%w: jp2: %s", ErrNotImage, why)
	}
	info.DPI = capture
	if info.DPI == 0 {
		info.DPI = display
	}
	return info, nil
}

// jp2Boxes calls fn for each box in b, in order.
func jp2Boxes(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return fmt.Errorf("%d stray bytes where a box should start", len(b))
		}
		n, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
		typ := string(b[4:8])
		switch n {
		case 0: // the box runs to the end
			n = uint64(len(b))
		case 1: // a 64-bit length follows the type
			if len(b) < 16 {
				return fmt.Errorf("box %q cut short", typ)
			}
			n, hdr = binary.BigEndian.Uint64(b[8:]), 16
		}
		if n < hdr || n > uint64(len(b)) {
			return fmt.Errorf("box %q declares %d bytes, %d are left", typ, n, len(b))
		}
		if err := fn(typ, b[hdr:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// jp2DPI reads a resolution box (resc or resd): vertical and horizontal grid points per
// metre as numerator, denominator and a power of ten. The vertical one is used.
func jp2DPI(b []byte) int {
	if len(b) < 10 {
		return 0
	}
	num, den, exp := float64(binary.BigEndian.Uint16(b)), float64(binary.BigEndian.Uint16(b[2:])), int(int8(b[8]))
	if den == 0 || num == 0 {
		return 0
	}
	dpi := num / den * math.Pow10(exp) * 0.0254
	if dpi < 0.5 || dpi > 1e9 {
		return 0
	}
	return int(dpi + 0.5)
}

// j2kSIZ reads the SIZ marker at the start of a JPEG 2000 codestream: the image's size,
// refusing what OpenJPEG would allocate without bound (more than 4 components, more tiles
// than the standard's 65535).
func j2kSIZ(c []byte) (w, h int, err error) {
	if len(c) < 4 || c[0] != 0xff || c[1] != 0x4f || c[2] != 0xff || c[3] != 0x51 {
		return 0, 0, fmt.Errorf("does not start with SOC and SIZ markers")
	}
	be := binary.BigEndian
	if len(c) < 4+38 {
		return 0, 0, fmt.Errorf("SIZ marker cut short")
	}
	lsiz := int(be.Uint16(c[4:]))
	comps := int(be.Uint16(c[40:]))
	if lsiz != 38+3*comps || len(c) < 4+lsiz {
		return 0, 0, fmt.Errorf("SIZ marker of %d bytes for %d components", lsiz, comps)
	}
	x, y := int64(be.Uint32(c[8:])), int64(be.Uint32(c[12:]))
	x0, y0 := int64(be.Uint32(c[16:])), int64(be.Uint32(c[20:]))
	tw, th := int64(be.Uint32(c[24:])), int64(be.Uint32(c[28:]))
	tx0, ty0 := int64(be.Uint32(c[32:])), int64(be.Uint32(c[36:]))
	switch {
	case x <= x0 || y <= y0:
		return 0, 0, fmt.Errorf("image area from (%d,%d) to (%d,%d)", x0, y0, x, y)
	case comps < 1 || comps > 4:
		return 0, 0, fmt.Errorf("%d components (grey, grey+alpha, RGB or RGBA are read)", comps)
	case tw == 0 || th == 0 || tx0 > x0 || ty0 > y0 || tx0+tw <= x0 || ty0+th <= y0:
		return 0, 0, fmt.Errorf("bad tile grid: %dx%d tiles from (%d,%d)", tw, th, tx0, ty0)
	}
	if tiles := ((x - tx0 + tw - 1) / tw) * ((y - ty0 + th - 1) / th); tiles > 65535 {
		return 0, 0, fmt.Errorf("%d tiles", tiles)
	}
	for i := 0; i < comps; i++ {
		if dx, dy := c[42+3*i+1], c[42+3*i+2]; dx == 0 || dy == 0 {
			return 0, 0, fmt.Errorf("component %d subsampled by %dx%d", i, dx, dy)
		}
	}
	return int(x - x0), int(y - y0), nil
}

// j2kUnsupported says why Leptonica cannot read the codestream, or "". Leptonica reads
// 8-bit samples only, and takes every component to be as large as the first: a subsampled
// one (chroma at half size, as in 4:2:0) would have it read past that component's data.
func j2kUnsupported(c []byte) string {
	comps := int(binary.BigEndian.Uint16(c[40:])) // j2kSIZ has checked the marker's length
	for i := 0; i < comps; i++ {
		ssiz, dx, dy := c[42+3*i], c[42+3*i+1], c[42+3*i+2]
		switch {
		case ssiz&0x80 != 0:
			return fmt.Sprintf("component %d has signed samples", i)
		case ssiz&0x7f+1 != 8:
			return fmt.Sprintf("component %d has %d-bit samples; only 8-bit JPEG 2000 is read", i, ssiz&0x7f+1)
		case dx != 1 || dy != 1:
			return fmt.Sprintf("component %d is subsampled %dx%d; only full-size components are read", i, dx, dy)
		}
	}
	return ""
}
