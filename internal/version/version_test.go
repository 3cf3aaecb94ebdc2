package version

import (
	"runtime/debug"
	"testing"
)

func TestColophon(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{"from a clean checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1a9a83f0b2c4d5e6f708192a3b4c5d6e7f809112"}, {Key: "vcs.modified", Value: "false"}}}, "1a9a83f0b2c4"},
		{"from a changed tree", debug.BuildInfo{Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "1a9a83f0b2c4d5e6"}, {Key: "vcs.modified", Value: "true"}}}, "1a9a83f0b2c4+dirty"},
		{"no information", debug.BuildInfo{}, "(devel)"},
	}
	for _, tt := range tests {
		if got := colophon(&tt.bi); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestModule(t *testing.T) {
	bi := &debug.BuildInfo{Deps: []*debug.Module{
		{Path: "github.com/otiai10/gosseract/v2", Version: "v2.4.1"},
		{Path: "example.com/replaced", Version: "v1.0.0", Replace: &debug.Module{Version: "v1.0.1"}},
	}}
	for path, want := range map[string]string{"github.com/otiai10/gosseract/v2": "v2.4.1", "example.com/replaced": "v1.0.1", "example.com/absent": ""} {
		if got := module(bi, path); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
	// The test binary links this package's own module's dependencies only; it must not fail.
	_ = Module("github.com/otiai10/gosseract/v2")
}
