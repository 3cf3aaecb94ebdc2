package preprocess

/*
#include <malloc.h>
*/
import "C"

// cHeapInUse is the C heap's allocated bytes (glibc mallinfo2), where
// Leptonica's images live: small blocks plus mmapped large ones (a page's
// pixels). Tests use it to check that pages leak no PIX; cgo cannot be used
// in _test.go files, hence here.
func cHeapInUse() uint64 {
	m := C.mallinfo2()
	return uint64(m.uordblks) + uint64(m.hblkhd)
}
