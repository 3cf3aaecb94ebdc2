package tesseract

/*
#include <stdlib.h> // defines __GLIBC__ on glibc
#if defined(__GLIBC__)
#include <malloc.h>
static void map_page_buffers(void) { mallopt(M_MMAP_THRESHOLD, 4 << 20); }
#else
static void map_page_buffers(void) {}
#endif
*/
import "C"

import "os"

// MapPageBuffers keeps freed page images from piling up in the C heap. Call it first thing
// in main, before threads start allocating.
//
// A worker's page images (9 MiB at A4 300 dpi, 4 MiB at A5) are allocated by C code on
// several threads: the engine's, and those of the goroutines that decode and clean pages.
// glibc gives each thread an arena of its own and keeps what is freed there for that arena;
// and once a large buffer is freed it raises its mmap threshold, so later buffers of that
// size come from the arenas too: an OCR worker sat at 204 MiB resident between pages, with
// a full 64 MiB arena heap and five 11 MiB buffers held. With the threshold fixed at 4 MiB,
// every page image is mapped on its own and given back to the system when freed, while
// Tesseract's smaller working buffers stay in the arenas (a 1 MiB threshold, with at most
// 2 arenas, cost Tesseract 10-15% of its speed). MALLOC_MMAP_THRESHOLD_ in the environment
// is left alone. Elsewhere than glibc it does nothing.
func MapPageBuffers() {
	if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
		C.map_page_buffers()
	}
}
