package preprocess

import (
	"image"
	"slices"
)

// Text size: the resolution a page's header declares is often wrong (72 or 96 dpi on
// JPEGs scanned finer, 1 dpi in some TIFFs), and every size the cleanup and
// Tesseract's layout analysis use follows from it. The text itself says how large it is:
// the median height of letter-sized ink components is about a typewriter's or a book
// face's x-height, near refXHeight inches, whatever the scanner wrote.

// refXHeight is the median letter component height, in inches, of type at 10-12 pt
// (typewriter pica and elite, book faces): 25 px at 300 dpi. The cleanup's sizes are in
// inches for such type. Tesseract's own estimate ("Estimating resolution as N") reckons
// from a smaller height and comes out higher; read at either, the pages of the corpus read
// alike (docs/benchmarks.md, "Scale").
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
	Letters   int // len(Boxes)
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
// its ink (darker than the paper around them; lighter on a page that is mostly dark) whose
// shape could be a letter and that stand in lines beside others, on a copy sampled to
// about measureSide pixels across.
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
	ts := TextSize{Ink: float64(inked) / float64(w*h)}
	// The size: letter-shaped components of the ink under the page's one threshold, within
	// a factor of their median's height (specks and rules are not).
	comps := letterComponents(ink, w, h)
	heights := make([]int, len(comps))
	for i, c := range comps {
		heights[i] = c.Dy()
	}
	slices.Sort(heights)
	if len(heights) >= minLetters {
		ts.XHeightPx = float64(heights[len(heights)/2] * step)
		ts.DPI = int(ts.XHeightPx/refXHeight + 0.5)
	}
	// The letters, for telling how much text a reading found: looked for against the paper
	// around them, so that type on a shaded or stained part of the page counts as much as
	// type on clean paper; and only those standing in lines beside others of about their
	// size, which specks, rules and blots do not.
	// Letters' places need less detail than their size: at most about letterSide samples
	// across.
	lstep := step
	if w > letterSide*3/2 {
		grey, w, h, lstep = halve(grey, w, h), w/2, h/2, 2*step
	}
	if inverted {
		for i, v := range grey {
			grey[i] = 255 - v
		}
	}
	letters := inLines(letterComponents(againstPaper(grey, w, h), w, h))
	hs := make([]int, len(letters))
	for i, c := range letters {
		hs[i] = c.Dy()
	}
	slices.Sort(hs)
	for _, c := range letters {
		if med := hs[len(hs)/2]; c.Dy()*2 >= med && c.Dy() <= 3*med {
			ts.Boxes = append(ts.Boxes, image.Rect(c.Min.X*lstep, c.Min.Y*lstep, c.Max.X*lstep, c.Max.Y*lstep).Add(b.Min))
		}
	}
	ts.Letters = len(ts.Boxes)
	return ts
}

// letterSide is about how many samples across the letters are found at.
const letterSide = 800

// halve samples every other pixel of every other row of grey (w x h).
func halve(grey []uint8, w, h int) []uint8 {
	out := make([]uint8, (w/2)*(h/2))
	for y := range h / 2 {
		for x := range w / 2 {
			out[y*(w/2)+x] = grey[2*y*w+2*x]
		}
	}
	return out
}

// paperTile is the side, in samples, of the tiles the paper's tone is estimated in: a
// few lines of text, small enough to follow shading across a page.
const paperTile = 32

// againstPaper marks the samples of grey (w x h, dark ink on light paper) that are ink
// against the paper around them: the paper's tone is the 90th percentile of each tile,
// interpolated between tile centres; a sample is ink when it is darker than its paper by
// more than the page's own (Otsu) split of the darkness measured so.
func againstPaper(grey []uint8, w, h int) []bool {
	tx, ty := (w+paperTile-1)/paperTile, (h+paperTile-1)/paperTile
	paper := make([]float64, tx*ty)
	for j := range ty {
		for i := range tx {
			var hist [256]int
			n := 0
			for y := j * paperTile; y < min(h, (j+1)*paperTile); y++ {
				for x := i * paperTile; x < min(w, (i+1)*paperTile); x++ {
					hist[grey[y*w+x]]++
					n++
				}
			}
			paper[j*tx+i] = float64(max(1, histPercentile(&hist, n, 0.9)))
		}
	}
	// Darkness against the paper, 0 (paper) to 255 (black); the paper's tone interpolated
	// between tile centres, first down the rows, then along each row.
	dark := make([]uint8, w*h)
	var hist [256]int
	col := make([]float32, tx) // the paper at each tile column's centre, on this row
	for y := range h {
		fy := min(max(float32(y)/paperTile-0.5, 0), float32(ty-1))
		j0 := int(fy)
		j1, wy := min(j0+1, ty-1), fy-float32(j0)
		for i := range tx {
			col[i] = float32(paper[j0*tx+i])*(1-wy) + float32(paper[j1*tx+i])*wy
		}
		row, out := grey[y*w:(y+1)*w], dark[y*w:(y+1)*w]
		for x := range w {
			fx := min(max(float32(x)/paperTile-0.5, 0), float32(tx-1))
			i0 := int(fx)
			i1, wx := min(i0+1, tx-1), fx-float32(i0)
			p := col[i0]*(1-wx) + col[i1]*wx
			d := 255 - 255*float32(row[x])/p
			v := uint8(min(max(d, 0), 255))
			out[x] = v
			hist[v]++
		}
	}
	t := histOtsu(&hist)
	// Paper grain alone splits somewhere too: ink is at least a little darker.
	t = max(t, minContrast)
	ink := make([]bool, w*h)
	for i, v := range dark {
		ink[i] = int(v) > t
	}
	return ink
}

// inLines keeps the components that have another beside them on the same line, of half
// to twice their height, within twice their height: letters of words and lines.
func inLines(comps []image.Rectangle) []image.Rectangle {
	cell := 1
	for _, c := range comps {
		cell = max(cell, 2*c.Dy())
	}
	grid := map[image.Point][]int{}
	centre := func(r image.Rectangle) image.Point { return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2) }
	for i, c := range comps {
		p := centre(c)
		k := image.Pt(p.X/cell, p.Y/cell)
		grid[k] = append(grid[k], i)
	}
	var out []image.Rectangle
	for i, c := range comps {
		p, hc := centre(c), c.Dy()
		k := image.Pt(p.X/cell, p.Y/cell)
		found := false
		for dy := -1; dy <= 1 && !found; dy++ {
			for dx := -1; dx <= 1 && !found; dx++ {
				for _, n := range grid[k.Add(image.Pt(dx, dy))] {
					o := comps[n]
					q, hn := centre(o), o.Dy()
					if n != i && 2*hn >= hc && hn <= 2*hc && abs(q.X-p.X) <= 2*hc && 2*abs(q.Y-p.Y) <= hc {
						found = true
						break
					}
				}
			}
		}
		if found {
			out = append(out, c)
		}
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
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
	type extent struct{ x0, y0, x1, y1 int32 }
	boxes := make([]extent, len(parent))
	for i := range boxes {
		boxes[i] = extent{x0: -1}
	}
	for y := range h {
		for x := range w {
			l := label[y*w+x]
			if l < 0 {
				continue
			}
			e := &boxes[find(l)]
			if e.x0 < 0 {
				*e = extent{int32(x), int32(y), int32(x), int32(y)}
				continue
			}
			e.x0, e.x1 = min(e.x0, int32(x)), max(e.x1, int32(x))
			e.y0, e.y1 = min(e.y0, int32(y)), max(e.y1, int32(y))
		}
	}
	var out []image.Rectangle
	for _, e := range boxes {
		if e.x0 < 0 {
			continue // not a root
		}
		x0, y0, x1, y1 := int(e.x0), int(e.y0), int(e.x1), int(e.y1)
		bw, bh := x1-x0+1, y1-y0+1
		if bh < 3 || bh > h/20 || bw > 2*bh || bh > 5*bw || x0 == 0 || y0 == 0 || x1 == w-1 || y1 == h-1 {
			continue
		}
		out = append(out, image.Rect(x0, y0, x1+1, y1+1))
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

// sampledHistogram is the grey histogram of img sampled to about measureSide pixels
// across, and the number of samples.
func sampledHistogram(img *image.Gray) (hist [256]int, n int) {
	b := img.Bounds()
	step := max(1, b.Dx()/measureSide)
	for y := b.Min.Y; y < b.Max.Y; y += step {
		row := img.Pix[img.PixOffset(b.Min.X, y):]
		for x := 0; x < b.Dx(); x += step {
			hist[row[x]]++
			n++
		}
	}
	return hist, n
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
	hist, n := sampledHistogram(img)
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

// Threshold returns img in black and white (0 and 255) at the page's one global (Otsu)
// threshold: enough for the letters' shapes to say how a page lies, at a small part of
// Clean's cost. A page without contrast comes back white; a mostly dark page should be inverted
// (InvertIfDark) first.
func Threshold(img *image.Gray) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	hist, n := sampledHistogram(img)
	t, _, ok := InkThreshold(&hist, n)
	if !ok {
		t = -1
	}
	var lut [256]uint8
	for v := range lut {
		if v > t {
			lut[v] = 255
		}
	}
	for y := range b.Dy() {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()]
		dst := out.Pix[y*out.Stride:][:b.Dx()]
		for x, v := range src {
			dst[x] = lut[v]
		}
	}
	return out
}
