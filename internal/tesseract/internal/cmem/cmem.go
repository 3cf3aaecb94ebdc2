// Package cmem reports how much C memory the process holds, for the tesseract package's
// leak test and the memcurve tool.
package cmem

/*
#include <stdlib.h> // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// heap_in_use is the bytes malloc (and so C++ new) has handed out and not had back,
// or -1 where the C library cannot say.
static long long heap_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 m = mallinfo2();
	return (long long)(m.uordblks + m.hblkhd);
#else
	return -1;
#endif
}
*/
import "C"

// HeapInUse is the number of bytes allocated with C's malloc (and C++'s new) and not yet
// freed, across all arenas; ok is false where the C library cannot tell (not glibc 2.33+).
// Unlike the resident set size it moves by the byte, so a leak shows at once.
func HeapInUse() (n int64, ok bool) {
	v := int64(C.heap_in_use())
	return v, v >= 0
}
