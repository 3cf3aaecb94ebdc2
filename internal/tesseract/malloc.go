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
// A worker's page images are allocated by C code on several threads: the engine's, and
// those of the goroutines that decode and clean pages. glibc gives each thread an arena of
// its own and keeps what is freed there for that arena; and once a large buffer is freed it
// raises its mmap threshold, so later buffers of that size come from the arenas too, and
// each arena holds freed page images for good. With the threshold fixed at 4 MiB, below a
// page image and above Tesseract's working buffers, every page image is mapped on its own
// and given back to the system when freed, while Tesseract's working buffers stay in the
// arenas, where mapping them afresh would slow it down. What each setting cost is in
// docs/benchmarks.md (Memory). MALLOC_MMAP_THRESHOLD_ in the environment is left alone.
// Elsewhere than glibc it does nothing.
func MapPageBuffers() {
	if os.Getenv("MALLOC_MMAP_THRESHOLD_") == "" {
		C.map_page_buffers()
	}
}
