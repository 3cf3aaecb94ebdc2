#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lept.h"

// Leptonica keeps 8 bpp pixels in 32-bit words whose byte order depends on the
// host; GET_DATA_BYTE/SET_DATA_BYTE hide that, so rows go through them.

PIX *cp_pix_from_gray(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride) {
    PIX *pix = pixCreate(w, h, 8);
    if (!pix)
        return NULL;
    l_uint32 *data = pixGetData(pix);
    l_int32 wpl = pixGetWpl(pix);
    for (l_int32 y = 0; y < h; y++) {
        l_uint32 *line = data + (size_t)y * wpl;
        const l_uint8 *row = src + (size_t)y * stride;
        for (l_int32 x = 0; x < w; x++)
            SET_DATA_BYTE(line, x, row[x]);
    }
    return pix;
}

// cp_sample_gray takes the centre pixel of every red x red block: a page of
// ceil(w/red) x ceil(h/red). Sampling, unlike averaging, keeps the spread of
// grey values, which Sauvola's local standard deviation measures.
PIX *cp_sample_gray(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 red) {
    l_int32 ws = (w + red - 1) / red, hs = (h + red - 1) / red;
    PIX *pix = pixCreate(ws, hs, 8);
    if (!pix)
        return NULL;
    l_uint32 *data = pixGetData(pix);
    l_int32 wpl = pixGetWpl(pix);
    for (l_int32 ys = 0; ys < hs; ys++) {
        l_int32 y = L_MIN(ys * red + red / 2, h - 1);
        const l_uint8 *row = src + (size_t)y * stride;
        l_uint32 *line = data + (size_t)ys * wpl;
        for (l_int32 xs = 0; xs < ws; xs++)
            SET_DATA_BYTE(line, xs, row[L_MIN(xs * red + red / 2, w - 1)]);
    }
    return pix;
}

// cp_gray_from_pix writes an 8 bpp pix as is, and a 1 bpp pix as 0 (ink) or
// 255 (paper), into dst (w*h bytes, stride w). Returns 0 on success.
int cp_gray_from_pix(PIX *pix, l_uint8 *dst, l_int32 w, l_int32 h) {
    l_int32 pw, ph, d;
    if (!pix || pixGetDimensions(pix, &pw, &ph, &d) || pw != w || ph != h)
        return 1;
    if (d != 1 && d != 8)
        return 1;
    // expand[b]: the 8 grey pixels of a byte b of 1 bpp pixels.
    l_uint8 expand[256][8];
    for (l_int32 b = 0; b < 256; b++)
        for (l_int32 i = 0; i < 8; i++)
            expand[b][i] = (b >> (7 - i)) & 1 ? 0 : 255;
    l_uint32 *data = pixGetData(pix);
    l_int32 wpl = pixGetWpl(pix);
    for (l_int32 y = 0; y < h; y++) {
        l_uint32 *line = data + (size_t)y * wpl;
        l_uint8 *row = dst + (size_t)y * w;
        l_int32 x = 0;
        if (d == 8) {
            for (; x < w; x++)
                row[x] = GET_DATA_BYTE(line, x);
            continue;
        }
        for (; x + 8 <= w; x += 8)
            memcpy(row + x, expand[GET_DATA_BYTE(line, x >> 3)], 8);
        for (; x < w; x++)
            row[x] = GET_DATA_BIT(line, x) ? 0 : 255;
    }
    return 0;
}

// cp_extremes returns the darkest and brightest values of an 8 bpp pix.
int cp_extremes(PIX *pixs, l_int32 *pmin, l_int32 *pmax) {
    return pixGetRangeValues(pixs, 1, L_SELECT_RED /* ignored at 8 bpp */, pmin, pmax) ? 1 : 0;
}

// rank_value is the grey value below which a fraction rank of the pixels lie.
static int rank_value(PIX *pixs, l_float32 rank, l_int32 *pval) {
    NUMA *na = pixGetGrayHistogram(pixs, 1);
    if (!na)
        return 1;
    l_float32 total = 0, sum = 0, v;
    for (l_int32 i = 0; i < 256; i++) {
        numaGetFValue(na, i, &v);
        total += v;
    }
    *pval = 255;
    for (l_int32 i = 0; i < 256; i++) {
        numaGetFValue(na, i, &v);
        sum += v;
        if (sum >= rank * total) {
            *pval = i;
            break;
        }
    }
    numaDestroy(&na);
    return 0;
}

// cp_border_mask finds dark regions connected to the edge of the (reduced)
// page: the scanner lid or bed around the paper. A region is dark below
// darkfrac of the paper's tone (the 90th percentile grey). A closing fills
// the holes speckle leaves, an opening by opensize removes text strokes, so
// that text touching the edge is not taken for border. The mask is grown by
// grow pixels to cover the soft rim. *pmask (same size as pixs) is NULL when
// there is no border. Returns 0 on success.
int cp_border_mask(PIX *pixs, l_float32 darkfrac, l_int32 opensize, l_int32 grow,
                   PIX **pmask, l_int32 *ppaper, l_int32 *pthresh) {
    int ret = 1;
    l_int32 empty, paper;
    PIX *pixb = NULL, *pixc = NULL, *pixo = NULL, *pixe = NULL;

    *pmask = NULL;
    *ppaper = *pthresh = 0;
    if (rank_value(pixs, 0.9f, &paper))
        goto done;
    *ppaper = paper;
    *pthresh = (l_int32)(darkfrac * paper);
    if (*pthresh < 1) { // no paper bright enough to tell a border from it
        ret = 0;
        goto done;
    }
    if (!(pixb = pixThresholdToBinary(pixs, *pthresh)) ||
        !(pixc = pixCloseSafeBrick(NULL, pixb, 3, 3)) ||
        !(pixo = pixOpenBrick(NULL, pixc, opensize, opensize)) ||
        !(pixe = pixExtractBorderConnComps(pixo, 8)) || pixZero(pixe, &empty))
        goto done;
    ret = 0;
    if (!empty)
        *pmask = grow > 0 ? pixDilateBrick(NULL, pixe, 2 * grow + 1, 2 * grow + 1) : pixClone(pixe);
    if (!empty && !*pmask)
        ret = 1;
done:
    pixDestroy(&pixb);
    pixDestroy(&pixc);
    pixDestroy(&pixo);
    pixDestroy(&pixe);
    return ret;
}

// cp_background estimates the paper's tone by a grey closing at a further
// reduction red with a size x size brick, which erases anything narrower than
// the brick (all text strokes) and leaves the paper; *ppixinv is the 16 bpp
// map that scales it to 200 (pixApplyInvBackgroundGrayMap). *ppixn is pixs so
// normalised and then contrast-stretched: the ink level (mean of the dark
// class of a modified Otsu split, at most maxblack, so that a blank page's
// grain is not blown up) maps to 0 and 190 to 255. Returns 0 on success.
int cp_background(PIX *pixs, l_int32 red, l_int32 size, l_int32 maxblack,
                  PIX **ppixinv, PIX **ppixn, l_int32 *pblack, l_int32 *pwhite) {
    l_int32 thresh, fgval, bgval, black, white = 190;
    PIX *pixm = NULL, *pixinv = NULL, *pixn = NULL;

    *ppixinv = *ppixn = NULL;
    if (pixGetBackgroundGrayMapMorph(pixs, NULL, red, size, &pixm) || !pixm ||
        !(pixinv = pixGetInvBackgroundMap(pixm, 200, 0, 0)) ||
        !(pixn = pixApplyInvBackgroundGrayMap(pixs, pixinv, red, red)) ||
        pixSplitDistributionFgBg(pixn, 0.1f, 1, &thresh, &fgval, &bgval, NULL)) {
        pixDestroy(&pixm);
        pixDestroy(&pixinv);
        pixDestroy(&pixn);
        return 1;
    }
    pixDestroy(&pixm);
    black = L_MAX(0, L_MIN(fgval, maxblack));
    *pblack = black;
    *pwhite = white;
    pixGammaTRC(pixn, pixn, 1.0f, black, white);
    *ppixinv = pixinv;
    *ppixn = pixn;
    return 0;
}

// trc_lut is pixGammaTRC's map at gamma 1: black and below to 0, white and
// above to 255, linear between.
static void trc_lut(l_int32 black, l_int32 white, l_int32 lut[256]) {
    for (l_int32 i = 0; i < 256; i++) {
        if (i <= black)
            lut[i] = 0;
        else if (i >= white)
            lut[i] = 255;
        else
            lut[i] = (l_int32)(255.0 * (i - black) / (white - black) + 0.5);
    }
}

// raw_thresholds turns thresholds on the normalised, stretched page into
// thresholds on the raw page, one per reduced pixel: the smallest raw value
// whose normalised value reaches the threshold (both maps are monotonic), 0
// (nothing is ink) under the border mask. Returns a malloc'd ws*hs array.
// The values fit a byte: white <= 199 and inv >= 200 (the background is at
// most 255) put every threshold within reach of raw 255.
static l_uint8 *raw_thresholds(PIX *pixth, PIX *pixinv, l_int32 invred, l_int32 black,
                                l_int32 white, PIX *mask) {
    l_int32 ws, hs, wi = 0, hi = 0, lut[256], first[256];
    pixGetDimensions(pixth, &ws, &hs, NULL);
    if (pixinv)
        pixGetDimensions(pixinv, &wi, &hi, NULL);
    trc_lut(black, white, lut);
    // first[t]: the smallest normalised value that the stretch maps to >= t.
    for (l_int32 t = 0, n = 0; t < 256; t++) {
        while (n < 255 && lut[n] < t)
            n++;
        first[t] = n;
    }
    l_uint8 *r = malloc((size_t)ws * hs);
    l_float32 *scale = malloc((size_t)ws * sizeof *scale); // 256 / inv, this row
    if (!r || !scale) {
        free(r);
        free(scale);
        return NULL;
    }
    l_uint32 *dth = pixGetData(pixth), *dinv = pixinv ? pixGetData(pixinv) : NULL,
             *dm = mask ? pixGetData(mask) : NULL;
    l_int32 wplth = pixGetWpl(pixth), wplinv = pixinv ? pixGetWpl(pixinv) : 0,
            wplm = mask ? pixGetWpl(mask) : 0;
    for (l_int32 ys = 0; ys < hs; ys++) {
        l_uint32 *lth = dth + (size_t)ys * wplth;
        l_uint32 *lm = dm ? dm + (size_t)ys * wplm : NULL;
        if (ys == 0 || (dinv && ys % invred == 0)) {
            l_uint32 *linv = dinv ? dinv + (size_t)L_MIN(ys / invred, hi - 1) * wplinv : NULL;
            for (l_int32 xs = 0; xs < ws; xs++) {
                l_int32 inv = linv ? GET_DATA_TWO_BYTES(linv, L_MIN(xs / invred, wi - 1)) : 256;
                scale[xs] = 256.0f / L_MAX(inv, 1);
            }
        }
        for (l_int32 xs = 0; xs < ws; xs++) {
            l_int32 t = GET_DATA_BYTE(lth, xs), v = 0;
            if (t > 0 && !(lm && GET_DATA_BIT(lm, xs))) {
                // normalised = min(255, raw * inv / 256), as in
                // pixApplyInvBackgroundGrayMap: invert that, rounding up.
                v = (l_int32)ceilf(first[t] * scale[xs] - 0.001f);
                v = L_MAX(0, L_MIN(v, 255));
            }
            r[(size_t)ys * ws + xs] = (l_uint8)v;
        }
    }
    free(scale);
    return r;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
// less8 compares 8 bytes at once (a[i] < b[i], unsigned) and packs the
// results into a byte, a[0]'s in the top bit as Leptonica stores pixels. The
// low 7 bits are compared by a subtraction that cannot borrow across bytes,
// the top bits directly; a multiply gathers the 8 answers. This loop touches
// every pixel of the page, so it is worth the trick: 4x faster than a
// byte-at-a-time loop.
static inline l_uint32 less8(const l_uint8 *a, const l_uint8 *b) {
    const l_uint64 hi = 0x8080808080808080ULL, lo = 0x7f7f7f7f7f7f7f7fULL;
    l_uint64 x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    l_uint64 ge7 = (x | hi) - (y & lo); // top bit: low 7 bits of x >= y's
    l_uint64 lt = ((~x & y) | (~(x ^ y) & ~ge7)) & hi;
    return (l_uint32)(((lt >> 7) * 0x8040201008040201ULL) >> 56);
}
#endif

// cp_threshold binarises the full-resolution page src against thresholds
// found on its reduced copy (see raw_thresholds): pixth holds them for each
// red x red block, on the page normalised by pixinv (whose pixels cover invred
// reduced pixels; NULL for none) and stretched from black..white to 0..255.
// All the analysis happens at the reduced size; this one pass is all that
// touches every pixel. Returns a 1 bpp pix (1 = ink), or NULL on error.
PIX *cp_threshold(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 red,
                  PIX *pixth, PIX *pixinv, l_int32 invred, l_int32 black, l_int32 white,
                  PIX *mask) {
    l_int32 ws, hs, mw, mh;
    pixGetDimensions(pixth, &ws, &hs, NULL);
    if (ws != (w + red - 1) / red || hs != (h + red - 1) / red || invred < 1 ||
        black >= white || pixGetDepth(pixth) != 8 || (pixinv && pixGetDepth(pixinv) != 16))
        return NULL;
    if (mask && (pixGetDimensions(mask, &mw, &mh, NULL) || mw != ws || mh != hs ||
                 pixGetDepth(mask) != 1))
        return NULL;
    l_uint8 *r = raw_thresholds(pixth, pixinv, invred, black, white, mask);
    l_uint8 *row = malloc((size_t)w + 8);
    PIX *pixd = pixCreate(w, h, 1);
    if (!r || !row || !pixd) {
        free(r);
        free(row);
        pixDestroy(&pixd);
        return NULL;
    }
    l_uint32 *data = pixGetData(pixd);
    l_int32 wpl = pixGetWpl(pixd);
    for (l_int32 y = 0; y < h; y++) {
        if (y % red == 0) { // a new row of blocks: spread its thresholds out
            const l_uint8 *rs = r + (size_t)(y / red) * ws;
            for (l_int32 xs = 0, x = 0; xs < ws; xs++)
                for (l_int32 k = 0; k < red && x < w; k++)
                    row[x++] = rs[xs];
        }
        const l_uint8 *s = src + (size_t)y * stride;
        l_uint32 *line = data + (size_t)y * wpl;
        l_int32 x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (; x + 8 <= w; x += 8)
            SET_DATA_BYTE(line, x >> 3, less8(s + x, row + x));
#endif
        for (; x < w; x++)
            if (s[x] < row[x])
                SET_DATA_BIT(line, x);
    }
    free(r);
    free(row);
    return pixd;
}

// cp_find_skew measures the skew of the text lines of a 1 bpp page. Returns 0
// with *pangle (the clockwise rotation that deskews, degrees) and *pconf, 1 if
// no valid measurement was possible (blank page, too little text).
int cp_find_skew(PIX *pixb, l_int32 redsweep, l_int32 redsearch, l_float32 range,
                 l_float32 *pangle, l_float32 *pconf) {
    *pangle = *pconf = 0;
    return pixFindSkewSweepAndSearch(pixb, pangle, pconf, redsweep, redsearch, range,
                                     1.0f, 0.01f) ? 1 : 0;
}

// near_mask is the set of pixels within reach of ink in pixb (a square
// neighbourhood). Far reaches are dilated at a quarter of the size, which is
// 16 times cheaper and only a few pixels coarser.
static PIX *near_mask(PIX *pixb, l_int32 reach) {
    l_int32 w, h;
    pixGetDimensions(pixb, &w, &h, NULL);
    if (reach < 8 || w < 16 || h < 16)
        return pixDilateCompBrick(NULL, pixb, 2 * reach + 1, 2 * reach + 1);
    PIX *pixr = NULL, *pixdr = NULL, *pixe = NULL, *pixd = NULL;
    l_int32 rr = (reach + 3) / 4;
    if ((pixr = pixReduceRankBinaryCascade(pixb, 1, 1, 0, 0)) &&
        (pixdr = pixDilateCompBrick(NULL, pixr, 2 * rr + 1, 2 * rr + 1)) &&
        (pixe = pixExpandBinaryReplicate(pixdr, 4, 4)) && (pixd = pixCreate(w, h, 1)))
        pixRasterop(pixd, 0, 0, w, h, PIX_SRC, pixe, 0, 0);
    pixDestroy(&pixr);
    pixDestroy(&pixdr);
    pixDestroy(&pixe);
    return pixd;
}

// cp_despeckle removes specks from a 1 bpp page. Components larger than
// maxsize in width or height are text (or rules, or pictures) and stay. Smaller
// ones stay only if their area is at least minarea and they lie within reach
// pixels of a larger one, as the dot of an i, a full stop or a comma does;
// isolated ones are specks. *premoved counts the ink pixels removed.
PIX *cp_despeckle(PIX *pixb, l_int32 maxsize, l_int32 minarea, l_int32 reach,
                  l_int32 *premoved) {
    l_int32 before, after, changed, empty;
    PIX *big = NULL, *small = NULL, *keepable = NULL, *near = NULL, *seed = NULL,
        *kept = NULL, *out = NULL;

    *premoved = 0;
    if (!(big = pixSelectBySize(pixb, maxsize, maxsize, 8, L_SELECT_IF_EITHER,
                                L_SELECT_IF_GT, &changed)) ||
        !(small = pixSubtract(NULL, pixb, big)) || pixZero(small, &empty))
        goto done;
    if (empty) { // nothing small: nothing to do
        out = pixClone(pixb);
        goto done;
    }
    keepable = minarea > 1 ? pixSelectByArea(small, (l_float32)minarea, 8, L_SELECT_IF_GTE, &changed)
                           : pixClone(small);
    if (!keepable || !(near = near_mask(big, reach)) || !(seed = pixAnd(NULL, keepable, near)) ||
        !(kept = pixSeedfillBinary(NULL, seed, keepable, 8)) || !(out = pixOr(NULL, big, kept)))
        goto done;
    if (pixCountPixels(pixb, &before, NULL) || pixCountPixels(out, &after, NULL)) {
        pixDestroy(&out);
        goto done;
    }
    *premoved = before - after;
done:
    pixDestroy(&big);
    pixDestroy(&small);
    pixDestroy(&keepable);
    pixDestroy(&near);
    pixDestroy(&seed);
    pixDestroy(&kept);
    return out;
}

// cp_impulses measures salt-and-pepper noise: the fraction of pixels of the
// reduced page that are ink (below their threshold in pixth) with no ink
// among their 8 neighbours. Text sampled at about 75 dpi has few such pixels
// (dots, the odd broken stroke); a speckled scan has them by the thousand.
int cp_impulses(PIX *pixs, PIX *pixth, l_float32 *pfrac) {
    l_int32 w, h, n;
    PIX *pixb = NULL, *pixi = NULL;
    SEL *sel = NULL;
    int ret = 1;

    *pfrac = 0;
    pixGetDimensions(pixs, &w, &h, NULL);
    if (!(pixb = pixVarThresholdToBinary(pixs, pixth)) ||
        !(sel = selCreateFromString("ooo"
                                    "oXo"
                                    "ooo", 3, 3, "isolated")) ||
        !(pixi = pixHMT(NULL, pixb, sel)) || pixCountPixels(pixi, &n, NULL))
        goto done;
    *pfrac = (l_float32)n / ((l_float32)w * h);
    ret = 0;
done:
    pixDestroy(&pixb);
    pixDestroy(&pixi);
    selDestroy(&sel);
    return ret;
}

// cp_orient measures how a page of text lies from the shapes of its letters
// (Leptonica's ascender and descender count, on and across the page): src is
// grey, ink below 128, reduced by two halving steps first (0 or more). The
// counting is tuned for 150 to 300 dpi. Returns 0 and Leptonica's two
// confidences, or 1.
int cp_orient(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 halvings,
              l_float32 *pupconf, l_float32 *pleftconf) {
    PIX *g = cp_pix_from_gray(src, w, h, stride);
    if (!g)
        return 1;
    PIX *b = pixThresholdToBinary(g, 128);
    pixDestroy(&g);
    if (!b)
        return 1;
    for (l_int32 i = 0; i < halvings; i++) {
        PIX *r = pixReduceRankBinaryCascade(b, 1, 0, 0, 0);
        pixDestroy(&b);
        if (!r)
            return 1;
        b = r;
    }
    int rc = pixOrientDetect(b, pupconf, pleftconf, 0, 0) == 0 ? 0 : 1;
    pixDestroy(&b);
    return rc;
}
