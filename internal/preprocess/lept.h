// C helpers for package preprocess: the full-resolution pixel loops, and the
// multi-step Leptonica sequences, kept in C so that every intermediate PIX is
// freed on every path in one place.
#ifndef COLOPHON_PREPROCESS_LEPT_H
#define COLOPHON_PREPROCESS_LEPT_H

#include <leptonica/allheaders.h>

PIX *cp_pix_from_gray(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride);
PIX *cp_sample_gray(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 red);
int cp_gray_from_pix(PIX *pix, l_uint8 *dst, l_int32 w, l_int32 h);
int cp_extremes(PIX *pixs, l_int32 *pmin, l_int32 *pmax);
int cp_border_mask(PIX *pixs, l_float32 darkfrac, l_int32 opensize, l_int32 grow,
                   PIX **pmask, l_int32 *ppaper, l_int32 *pthresh);
int cp_background(PIX *pixs, l_int32 red, l_int32 size, l_int32 maxblack,
                  PIX **ppixinv, PIX **ppixn, l_int32 *pblack, l_int32 *pwhite);
PIX *cp_threshold(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 red,
                  PIX *pixth, PIX *pixinv, l_int32 invred, l_int32 black, l_int32 white,
                  PIX *mask);
int cp_find_skew(PIX *pixb, l_int32 redsweep, l_int32 redsearch, l_float32 range,
                 l_float32 *pangle, l_float32 *pconf);
int cp_impulses(PIX *pixs, PIX *pixth, l_float32 *pfrac);
PIX *cp_despeckle(PIX *pixb, l_int32 maxsize, l_int32 minarea, l_int32 reach,
                  l_int32 *premoved);
int cp_orient(const l_uint8 *src, l_int32 w, l_int32 h, l_int32 stride, l_int32 halvings,
              l_float32 *pupconf, l_float32 *pleftconf);

#endif
