package devstack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colophon-archive/colophon/internal/devstack"
)

func writeFile(t *testing.T, path string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFindMinIO(t *testing.T) {
	tests := []struct {
		name string
		// setup prepares files under dir and returns env overrides plus the
		// path FindMinIO should return ("" when an error is expected).
		setup      func(t *testing.T, dir string) (env map[string]string, want string)
		errContain []string
	}{
		{
			name: "env points to missing file",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				return map[string]string{"COLOPHON_MINIO_BIN": filepath.Join(dir, "nope", "minio")}, ""
			},
			errContain: []string{"COLOPHON_MINIO_BIN", "nope/minio"},
		},
		{
			name: "env points to non-executable file",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "minio-noexec"), 0o644)
				return map[string]string{"COLOPHON_MINIO_BIN": p}, ""
			},
			errContain: []string{"COLOPHON_MINIO_BIN", "minio-noexec", "not executable"},
		},
		{
			name: "env points to directory",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				return map[string]string{"COLOPHON_MINIO_BIN": dir}, ""
			},
			errContain: []string{"COLOPHON_MINIO_BIN", "not a regular file"},
		},
		{
			name: "env wins over PATH",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "custom", "minio"), 0o755)
				writeFile(t, filepath.Join(dir, "path", "minio"), 0o755)
				return map[string]string{"COLOPHON_MINIO_BIN": p, "PATH": filepath.Join(dir, "path")}, p
			},
		},
		{
			name: "found on PATH",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "path", "minio"), 0o755)
				return map[string]string{"PATH": filepath.Join(dir, "path")}, p
			},
		},
		{
			name: "found in GOBIN",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "gobin", "minio"), 0o755)
				return map[string]string{"GOBIN": filepath.Join(dir, "gobin")}, p
			},
		},
		{
			name: "found in GOPATH/bin",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "gopath", "bin", "minio"), 0o755)
				return map[string]string{"GOPATH": filepath.Join(dir, "gopath")}, p
			},
		},
		{
			name: "GOPATH/bin non-executable is skipped",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				writeFile(t, filepath.Join(dir, "gopath", "bin", "minio"), 0o644)
				return map[string]string{"GOPATH": filepath.Join(dir, "gopath")}, ""
			},
			errContain: []string{devstack.MinIOInstallCommand},
		},
		{
			// GOPATH unset and no `go` on PATH: fall back to $HOME/go/bin.
			name: "found in HOME/go/bin",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				p := writeFile(t, filepath.Join(dir, "home", "go", "bin", "minio"), 0o755)
				return map[string]string{"GOPATH": "", "HOME": filepath.Join(dir, "home")}, p
			},
		},
		{
			name: "missing everywhere",
			setup: func(t *testing.T, dir string) (map[string]string, string) {
				return nil, ""
			},
			errContain: []string{"minio server not found", "install it with: " + devstack.MinIOInstallCommand},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			empty := filepath.Join(dir, "empty")
			if err := os.Mkdir(empty, 0o755); err != nil {
				t.Fatal(err)
			}
			// Baseline where nothing can be found; cases override parts of it.
			base := map[string]string{
				"COLOPHON_MINIO_BIN": "",
				"PATH":               empty,
				"GOBIN":              "",
				"GOPATH":             empty,
				"HOME":               empty,
			}
			env, want := tc.setup(t, dir)
			for k, v := range env {
				base[k] = v
			}
			for k, v := range base {
				t.Setenv(k, v)
			}

			got, err := devstack.FindMinIO()
			if want != "" {
				if err != nil {
					t.Fatalf("FindMinIO() error = %v, want %s", err, want)
				}
				if got != want {
					t.Fatalf("FindMinIO() = %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("FindMinIO() = %q, want an error", got)
			}
			for _, s := range tc.errContain {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("FindMinIO() error %q does not contain %q", err, s)
				}
			}
		})
	}
}
