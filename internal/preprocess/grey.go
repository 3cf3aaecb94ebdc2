package preprocess

/*
#include "lept.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// The grey path, for NoBinarization: the same border, background and skew,
// applied to the full-resolution grey page. It costs several full-size
// passes (and rotation by area mapping), which the binarised path avoids.

// greyPage makes the full-size grey result: normalised and stretched as
// small was, with the border painted white.
func (pg *page) greyPage() error {
	g, err := fromGray(pg.img)
	if err != nil {
		return err
	}
	pg.grey = g
	if pg.inv != nil {
		tile := C.l_int32(pg.red * pg.invRed)
		n := C.pixApplyInvBackgroundGrayMap(pg.grey, pg.inv, tile, tile)
		if n == nil {
			return errors.New("normalise background: leptonica failed")
		}
		destroy(pg.grey)
		pg.grey = n
		C.pixGammaTRC(pg.grey, pg.grey, 1.0, C.l_int32(pg.black), C.l_int32(pg.white))
	}
	if pg.mask != nil {
		return pg.paintBorderWhite()
	}
	return nil
}

// paintBorderWhite scales the border mask up to full size and paints it white.
func (pg *page) paintBorderWhite() error {
	big := C.pixExpandBinaryReplicate(pg.mask, C.l_int32(pg.red), C.l_int32(pg.red))
	defer destroy(big)
	full := C.pixCreate(C.l_int32(pg.w), C.l_int32(pg.h), 1)
	defer destroy(full)
	if big == nil || full == nil {
		return errors.New("scale border mask: leptonica allocation failed")
	}
	C.pixRasterop(full, 0, 0, C.l_int32(pg.w), C.l_int32(pg.h), C.PIX_SRC, big, 0, 0)
	if C.pixSetMasked(pg.grey, full, 255) != 0 {
		return errors.New("paint border: leptonica failed")
	}
	return nil
}

// deskewGrey measures skew on the grey page thresholded at mid-grey (its
// background is white after normalisation) and rotates it by area mapping.
func (pg *page) deskewGrey() (*Step, error) {
	b := C.pixThresholdToBinary(pg.grey, 128)
	if b == nil {
		return nil, errors.New("threshold for skew: leptonica failed")
	}
	angle, conf, ok := pg.measureSkew(b)
	destroy(b)
	if !ok {
		return nil, nil
	}
	w, h, _ := dims(pg.grey)
	p := C.pixRotate(pg.grey, C.l_float32(degToRad(angle)), C.L_ROTATE_AREA_MAP, C.L_BRING_IN_WHITE,
		C.l_int32(w), C.l_int32(h))
	if p == nil {
		return nil, fmt.Errorf("rotate by %.2f degrees: leptonica failed", angle)
	}
	destroy(pg.grey)
	pg.grey = p
	return deskewStep(angle, conf), nil
}
