package tesseract

import (
	"errors"
	"image"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/otiai10/gosseract/v2"
)

// TestGosseractBoundary fails loudly when the gosseract go.mod requires is not the one
// gosseract.go was checked against, or no longer keeps its Tesseract instance there: an
// upgrade must be made with that file open, not discovered as a crash or a leak in a worker.
func TestGosseractBoundary(t *testing.T) {
	v := requiredVersion(t, "../../go.mod", gosseractModule)
	if v != gosseractChecked {
		t.Errorf("go.mod requires gosseract %s, but internal/tesseract/gosseract.go was checked against %s: "+
			"check that gosseract.Client still holds its TessBaseAPI* in the unexported field %q (and whether its result calls still leak, see the package doc), then set gosseractChecked",
			v, gosseractChecked, apiField)
	}
	if err := CheckGosseract(); err != nil {
		t.Fatalf("go.mod requires gosseract %s, whose Client the engine cannot read: %v", v, err)
	}
	c := gosseract.NewClient()
	defer c.Close()
	api, err := handle(c)
	if err != nil || api == nil {
		t.Fatalf("go.mod requires gosseract %s: no Tesseract instance from a new client: %v", v, err)
	}
}

// requiredVersion is the version of module that the go.mod at path requires. A test binary
// carries no module versions in its build information, so the file itself is read.
func requiredVersion(t *testing.T, path, module string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	t.Fatalf("%s does not require %s", path, module)
	return ""
}

// TestCheckLayout: each way gosseract's Client could change is refused with an error that
// names the field and what it found, before anything reads it.
func TestCheckLayout(t *testing.T) {
	tests := []struct {
		name    string
		client  any
		wantErr []string // each in the error; none for a layout the engine reads
	}{
		{"gosseract as linked", gosseract.Client{}, nil},
		{"the field as v2.4.1 has it", struct{ api unsafe.Pointer }{}, nil},
		{"the field renamed", struct{ handle unsafe.Pointer }{}, []string{`no field "api"`, gosseractChecked}},
		{"the field a struct pointer", struct{ api *struct{ p unsafe.Pointer } }{}, []string{"api is a *struct", "ptr", gosseractChecked}},
		{"the field an integer handle", struct{ api uintptr }{}, []string{"api is a uintptr", gosseractChecked}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkLayout(reflect.TypeOf(tt.client))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestEngineRefusesUnreadableGosseract: with a gosseract whose layout the boundary refuses,
// an engine gives that reason from every call instead of crashing in C, and still closes.
func TestEngineRefusesUnreadableGosseract(t *testing.T) {
	refusal := errors.New("gosseract v9.9.9: gosseract.Client has no field \"api\"")
	saved := gosseractLayout
	gosseractLayout = func() (reflect.StructField, error) { return reflect.StructField{}, refusal }
	t.Cleanup(func() { gosseractLayout = saved })

	if err := CheckGosseract(); !errors.Is(err, refusal) {
		t.Fatalf("CheckGosseract: %v, want the refusal", err)
	}
	e := New("eng")
	img := image.NewGray(image.Rect(0, 0, 10, 10))
	calls := []struct {
		name string
		call func() error
	}{
		{"Load", e.Load},
		{"Read", func() error { _, err := e.Read(t.Context(), Page{Image: img, DPI: 300}); return err }},
		{"Models", func() error { _, err := e.Models(); return err }},
		{"Orientation", func() error { _, err := e.Orientation(t.Context(), img, 300); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, refusal) {
			t.Errorf("%s: %v, want the refusal", c.name, err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
