package preprocess

import (
	"image"
	"slices"
)

// Text size: the resolution a page's header declares is often wrong (72 or 96 dpi on
// JPEGs scanned at 110-300 dpi, 1 dpi in some TIFFs), and every size the cleanup and
// Tesseract's layout analysis use follows from it. The text itself says how large it is:
// the median height of letter-sized ink components is about a typewriter's or a book
// face's x-height, near refXHeight inches, whatever the scanner wrote.

// refXHeight is the median letter component height, in inches, of type at 10-12 pt
// (typewriter pica and elite, book faces): 25 px at 300 dpi. The cleanup's sizes are in
// inches for such type. Tesseract's own estimate ("Estimating resolution as N") reckons
// from a smaller height and comes out about 1.35 times higher; read at either, the pages of
// the corpus read alike (docs/benchmarks.md, "Scale").
const refXHeight = 0.083

// measureSide is about how many pixels across the page text size is measured at.
const measureSide = 1400

// minLetters: with fewer letter-sized components, the median says nothing.
const minLetters = 150

// TextSize is what MeasureText found.
type TextSize struct {
	// XHeightPx is the median height of letter-sized components, in the image's pixels;
	// 0 when there were too few to tell.
	XHeightPx float64
	Letters   int // the components measured
	// DPI is the resolution that height implies (0 when unknown).
	DPI int
	// Ink is the share of the page that is ink, whatever its shape (0 on a page without
	// contrast): a page with ink and no letters is a drawing, a photograph, or text too
	// damaged to measure, never a blank page.
	Ink float64
	// Boxes are the letter-sized components, in the image's coordinates: what of the
	// page's ink looks like text, to tell how much of it a reading found.
	Boxes []image.Rectangle
}

// MeasureText measures the size of the text on an 8-bit grey page: the components of
// its ink (the darker class of a global threshold, the lighter on a page that is mostly
// dark) whose shape could be a letter, on a copy sampled to about measureSide pixels
// across.
func MeasureText(img *image.Gray) TextSize {
	b := img.Bounds()
	if b.Dx() < 16 || b.Dy() < 16 {
		return TextSize{}
	}
	step := max(1, (b.Dx()+measureSide/2)/measureSide)
	w, h := (b.Dx()+step-1)/step, (b.Dy()+step-1)/step
	grey := make([]uint8, w*h)
	var hist [256]int
	for y := range h {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y*step):]
		for x := range w {
			v := row[x*step]
			grey[y*w+x] = v
			hist[v]++
		}
	}
	t, inverted, ok := InkThreshold(&hist, w*h)
	if !ok {
		return TextSize{}
	}
	ink := make([]bool, w*h)
	inked := 0
	for i, v := range grey {
		ink[i] = (int(v) <= t) != inverted
		if ink[i] {
			inked++
		}
	}
	comps := letterComponents(ink, w, h)
	heights := make([]int, len(comps))
	for i, c := range comps {
		heights[i] = c.Dy()
	}
	slices.Sort(heights)
	ts := TextSize{Letters: len(comps), Ink: float64(inked) / float64(w*h)}
	if len(heights) > 0 {
		// Letters are within a factor of the median's size; specks and rules are not.
		med := heights[len(heights)/2]
		for _, c := range comps {
			if c.Dy()*2 >= med && c.Dy() <= 3*med {
				ts.Boxes = append(ts.Boxes, image.Rect(c.Min.X*step, c.Min.Y*step, c.Max.X*step, c.Max.Y*step).Add(b.Min))
			}
		}
		if len(heights) >= minLetters {
			ts.XHeightPx = float64(med * step)
			ts.DPI = int(ts.XHeightPx/refXHeight + 0.5)
		}
	}
	return ts
}

// InkThreshold is a global (Otsu) threshold for a page's grey histogram of n samples:
// levels <= t are dark. inverted is true when most of the page is dark, so its ink is
// the light class (white type on black). ok is false when the page has too little
// contrast to have ink.
func InkThreshold(hist *[256]int, n int) (t int, inverted, ok bool) {
	lo, hi := histPercentile(hist, n, 0.01), histPercentile(hist, n, 0.99)
	if hi-lo < minContrast {
		return 0, false, false
	}
	t = histOtsu(hist)
	dark := 0
	for v := 0; v <= t; v++ {
		dark += hist[v]
	}
	return t, dark*2 > n, true
}

// letterComponents labels the 8-connected components of ink (w x h) and returns the boxes
// of those shaped like letters: taller than 2 samples, no taller than a twentieth of the
// page, no more than twice as wide as tall nor five times as tall as wide, and clear of
// the image's edges (where scan borders and the paper's edge are).
func letterComponents(ink []bool, w, h int) []image.Rectangle {
	parent := make([]int32, 0, 1024)
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int32) {
		a, b = find(a), find(b)
		if a != b {
			if a < b {
				parent[b] = a
			} else {
				parent[a] = b
			}
		}
	}
	label := make([]int32, w*h)
	for i := range label {
		label[i] = -1
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			if !ink[i] {
				continue
			}
			l := int32(-1)
			for _, d := range [4][2]int{{-1, 0}, {-1, -1}, {0, -1}, {1, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= w {
					continue
				}
				if n := label[ny*w+nx]; n >= 0 {
					if l < 0 {
						l = n
					} else {
						union(l, n)
					}
				}
			}
			if l < 0 {
				l = int32(len(parent))
				parent = append(parent, l)
			}
			label[i] = l
		}
	}
	type extent struct{ x0, y0, x1, y1 int }
	boxes := make(map[int32]*extent)
	for y := range h {
		for x := range w {
			l := label[y*w+x]
			if l < 0 {
				continue
			}
			r := find(l)
			e := boxes[r]
			if e == nil {
				boxes[r] = &extent{x, y, x, y}
				continue
			}
			e.x0, e.x1 = min(e.x0, x), max(e.x1, x)
			e.y0, e.y1 = min(e.y0, y), max(e.y1, y)
		}
	}
	var out []image.Rectangle
	for _, e := range boxes {
		bw, bh := e.x1-e.x0+1, e.y1-e.y0+1
		if bh < 3 || bh > h/20 || bw > 2*bh || bh > 5*bw || e.x0 == 0 || e.y0 == 0 || e.x1 == w-1 || e.y1 == h-1 {
			continue
		}
		out = append(out, image.Rect(e.x0, e.y0, e.x1+1, e.y1+1))
	}
	return out
}

// histPercentile is the grey level below which a share p of the n samples lie.
func histPercentile(hist *[256]int, n int, p float64) int {
	want := int(p * float64(n))
	c := 0
	for v, k := range hist {
		c += k
		if c > want {
			return v
		}
	}
	return 255
}

// histOtsu is the threshold that best splits the histogram in two classes (levels <= t
// are the dark one).
func histOtsu(hist *[256]int) int {
	var total, sum float64
	for v, k := range hist {
		total += float64(k)
		sum += float64(v * k)
	}
	var wB, sumB, best float64
	t := 127
	for v, k := range hist {
		wB += float64(k)
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(v * k)
		mB, mF := sumB/wB, (sum-sumB)/wF
		if between := wB * wF * (mB - mF) * (mB - mF); between > best {
			best, t = between, v
		}
	}
	return t
}

// StepInvert: a page mostly dark (white type on black, a negative) inverted before
// anything else, so that no step takes its black for a border and Tesseract reads dark
// type on light. dark_pct: the share of the page darker than its threshold.
const StepInvert = "invert"

// InvertIfDark returns img inverted when most of it is darker than its global threshold
// (white or light type on a dark ground), with the step to record; nil when it is not.
func InvertIfDark(img *image.Gray) (*image.Gray, *Step) {
	b := img.Bounds()
	if b.Empty() {
		return nil, nil
	}
	step := max(1, b.Dx()/measureSide)
	var hist [256]int
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += step {
		row := img.Pix[img.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x += step {
			hist[row[x]]++
			n++
		}
	}
	t, inverted, ok := InkThreshold(&hist, n)
	if !ok || !inverted {
		return nil, nil
	}
	dark := 0
	for v := 0; v <= t; v++ {
		dark += hist[v]
	}
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()]
		dst := out.Pix[y*out.Stride:][:b.Dx()]
		for x, v := range src {
			dst[x] = 255 - v
		}
	}
	return out, &Step{Name: StepInvert, Params: map[string]string{"dark_pct": ftoa(100*float64(dark)/float64(n), 1)}}
}
