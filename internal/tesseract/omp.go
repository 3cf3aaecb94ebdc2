package tesseract

import (
	"fmt"
	"os"
	"syscall"
)

// EnsureSingleThreaded re-executes the running program with OMP_THREAD_LIMIT=1 unless it is
// already set. Debian's libtesseract uses OpenMP, whose threads fight each other and our own
// per-core workers, so a page reads several times slower with its default threads than
// with one (docs/benchmarks.md, Figures behind the code's choices). libgomp reads
// the variable when the library loads, before main runs, so setting it later does nothing:
// the process must start with it. Call this first thing in main (and TestMain).
func EnsureSingleThreaded() error {
	if os.Getenv("OMP_THREAD_LIMIT") != "" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("re-exec with OMP_THREAD_LIMIT=1: find executable: %w", err)
	}
	env := append(os.Environ(), "OMP_THREAD_LIMIT=1")
	if err := syscall.Exec(exe, os.Args, env); err != nil {
		return fmt.Errorf("re-exec %s with OMP_THREAD_LIMIT=1: %w", exe, err)
	}
	return nil // not reached
}
