package tesseract

/*
#include <stdlib.h> // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
static void limit_arenas(int set_arenas, int set_threshold) {
	if (set_arenas) mallopt(M_ARENA_MAX, 2);
	if (set_threshold) mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
#else
static void limit_arenas(int set_arenas, int set_threshold) {}
#endif
*/
import "C"

import "os"

// LimitMallocArenas keeps freed page buffers from piling up in the C heap. Call it first
// thing in main, before threads start allocating.
//
// A worker's page buffers (a page image is 9 MiB at A4 300 dpi) are allocated by C code on
// several threads: the engine's, and those of the goroutines that decode and clean pages.
// glibc gives each thread an arena of its own and keeps what is freed there for that arena;
// and once a large buffer is freed it raises its mmap threshold, so later buffers of that
// size come from the arenas too. Measured on an OCR worker: 204 MiB resident between pages;
// 87 MiB with at most 2 arenas and every buffer over 1 MiB mapped on its own (and so given
// back to the system when freed). Settings made in the environment (MALLOC_ARENA_MAX,
// MALLOC_MMAP_THRESHOLD_) are left alone. Elsewhere than glibc it does nothing.
func LimitMallocArenas() {
	flag := func(unset bool) C.int {
		if unset {
			return 1
		}
		return 0
	}
	C.limit_arenas(flag(os.Getenv("MALLOC_ARENA_MAX") == ""), flag(os.Getenv("MALLOC_MMAP_THRESHOLD_") == ""))
}
