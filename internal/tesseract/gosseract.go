package tesseract

// #include <tesseract/capi.h>
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/colophon-archive/colophon/internal/version"
	"github.com/otiai10/gosseract/v2"
)

// This file is the whole boundary with gosseract's insides: the one unexported field the
// engine reads, and the checks that say so plainly when an upgrade moves it. Why the engine
// reads it at all is in the package doc.

const (
	gosseractModule = "github.com/otiai10/gosseract/v2"
	// gosseractChecked is the gosseract release whose Client layout (and leaks) this file
	// was written against. TestGosseractBoundary fails when go.mod requires another, so an
	// upgrade is a decision made with this file open, never a silent change.
	gosseractChecked = "v2.4.1"
	// apiField is gosseract.Client's field holding the tesseract::TessBaseAPI* it creates:
	// typed void* on gosseract's side (tessbridge.h), hence unsafe.Pointer to reflection.
	apiField = "api"
)

// gosseractLayout is checkLayout of the gosseract linked in: the layout does not change
// while the process runs.
var gosseractLayout = sync.OnceValues(func() (reflect.StructField, error) {
	return checkLayout(reflect.TypeFor[gosseract.Client]())
})

// checkLayout finds the Tesseract instance's field in a gosseract.Client type, or says what
// changed.
func checkLayout(client reflect.Type) (reflect.StructField, error) {
	f, ok := client.FieldByName(apiField)
	switch {
	case !ok:
		return f, fmt.Errorf("gosseract %s: %s has no field %q holding the Tesseract instance any more; this package reads it as gosseract %s laid it out (see internal/tesseract/gosseract.go)",
			gosseractVersion(), client, apiField, gosseractChecked)
	case f.Type.Kind() != reflect.UnsafePointer:
		return f, fmt.Errorf("gosseract %s: %s.%s is a %s (%s), no longer the void* TessBaseAPI of gosseract %s; this package cannot use it as a Tesseract instance (see internal/tesseract/gosseract.go)",
			gosseractVersion(), client, apiField, f.Type, f.Type.Kind(), gosseractChecked)
	}
	return f, nil
}

// gosseractVersion is the gosseract linked in, as go.mod requires it, or "(unknown version)"
// for a binary without build information.
func gosseractVersion() string {
	if v := version.Module(gosseractModule); v != "" {
		return v
	}
	return "(unknown version)"
}

// CheckGosseract reports, without starting Tesseract, whether the gosseract linked in keeps
// its Tesseract instance where this package reads it. Engines check it themselves (Load
// returns the error); a worker may call it at start-up to refuse to run at all.
func CheckGosseract() error {
	_, err := gosseractLayout()
	return err
}

// handle is the TessBaseAPI* client wraps. It never reads a field whose layout the check
// refused, so a gosseract that moved it gives an error, not a crash.
func handle(c *gosseract.Client) (*C.TessBaseAPI, error) {
	f, err := gosseractLayout()
	if err != nil {
		return nil, err
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(reflect.ValueOf(c).Elem().FieldByIndex(f.Index).UnsafeAddr()))
	if p == nil {
		return nil, errors.New("gosseract created no Tesseract instance")
	}
	return (*C.TessBaseAPI)(p), nil
}
