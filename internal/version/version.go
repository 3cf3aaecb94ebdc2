// Package version says which build of Colophon, and of the modules it links, is running,
// for provenance records.
package version

import (
	"runtime/debug"
	"sync"
)

// info is the binary's build information, read once.
var info = sync.OnceValue(func() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return &debug.BuildInfo{}
	}
	return bi
})

// Colophon is this build's version: the module version when built from a release, else
// the commit it was built from ("1a9a83f0b2c4", "+dirty" when the tree had changes), else
// "(devel)".
func Colophon() string {
	return colophon(info())
}

func colophon(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + dirty
}

// Module is the version of a module linked into the binary ("v2.4.1"), or "" if it is not.
func Module(path string) string {
	return module(info(), path)
}

func module(bi *debug.BuildInfo, path string) string {
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}
