// Command colophon turns scanned pages into verified, provenance-carrying text.
// One file per command: cmd_<name>.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/colophon-archive/colophon/internal/tesseract"
)

func main() {
	// Before anything else: libgomp reads OMP_THREAD_LIMIT when the process loads.
	if err := tesseract.EnsureSingleThreaded(); err != nil {
		fmt.Fprintln(os.Stderr, "colophon:", err)
		os.Exit(1)
	}
	tesseract.MapPageBuffers()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries an exit status other than 1, or marks an error already reported.
type exitError struct {
	code   int
	err    error
	silent bool // the command has already told the user
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run executes one command line and returns the exit status. Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.silent {
			return code
		}
	}
	fmt.Fprintln(stderr, "colophon:", err)
	return code
}
