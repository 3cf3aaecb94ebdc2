// Package bagit writes and validates BagIt 1.0 bags (RFC 8493): payload files under data/,
// manifests of their checksums, and tag files beside them, so a bag can be checked with any
// BagIt tool long after it left Colophon.
package bagit

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File is a file of a bag: a payload file (Path relative to data/) or a tag file (Path
// relative to the bag's root). Paths use "/".
type File struct {
	Path string
	Data []byte
}

// Field is a bag-info.txt line. Labels may repeat; order is kept.
type Field struct {
	Label, Value string
}

// Algorithms Create writes manifests with: SHA-256 is what Colophon records, SHA-512 is
// what RFC 8493 recommends.
var algorithms = []string{"sha256", "sha512"}

// newHash makes a hash for the algorithms Validate can check.
func newHash(alg string) hash.Hash {
	switch alg {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// Names with a meaning of their own at a bag's root.
const (
	bagitTxt   = "bagit.txt"
	bagInfoTxt = "bag-info.txt"
	fetchTxt   = "fetch.txt"
	dataDir    = "data"
)

// Create writes a bag into dir: bagit.txt, the payload under data/, manifest-sha256.txt and
// manifest-sha512.txt, bag-info.txt (info, then Bagging-Date unless given, Payload-Oxum and
// Bag-Size), the tag files, and tagmanifest-sha256.txt and tagmanifest-sha512.txt over all
// of those. dir must not exist or be empty. The bag is written beside dir and renamed into
// place, so dir never holds half a bag.
func Create(dir string, payload []File, info []Field, tags []File) error {
	if err := checkFiles(payload, tags); err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if err := checkInfo(info); err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if err := CheckDir(dir); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".bagging-*")
	if err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := write(tmp, payload, info, tags); err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	// An existing dir is empty (checked above); removing it fails if it filled up since.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("bag %s: move the bag into place: %w", dir, err)
	}
	done = true
	return nil
}

// CheckDir reports whether Create could write a bag into dir: a dir that holds anything is
// refused, as a bag never mixes with other files.
func CheckDir(dir string) error {
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("bag %s: exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("bag %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("bag %s: directory is not empty (holds %s); a bag needs an empty or new directory", dir, entries[0].Name())
	}
	return nil
}

func write(root string, payload []File, info []Field, tags []File) error {
	decl := []byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
	if err := writeFile(root, bagitTxt, decl); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(root, dataDir), 0o755); err != nil {
		return err
	}
	var octets int64
	for _, f := range payload {
		if err := writeFile(root, dataDir+"/"+f.Path, f.Data); err != nil {
			return err
		}
		octets += int64(len(f.Data))
	}
	tagged := []File{{bagitTxt, decl}}
	for _, alg := range algorithms {
		name := "manifest-" + alg + ".txt"
		data := manifest(alg, payload, dataDir+"/")
		if err := writeFile(root, name, data); err != nil {
			return err
		}
		tagged = append(tagged, File{name, data})
	}

	fields := slices.Clone(info)
	if !slices.ContainsFunc(fields, func(f Field) bool { return strings.EqualFold(f.Label, "Bagging-Date") }) {
		fields = append(fields, Field{"Bagging-Date", time.Now().Format(time.DateOnly)})
	}
	fields = append(fields,
		Field{"Payload-Oxum", fmt.Sprintf("%d.%d", octets, len(payload))},
		Field{"Bag-Size", humanSize(octets)})
	bi := formatInfo(fields)
	if err := writeFile(root, bagInfoTxt, bi); err != nil {
		return err
	}
	tagged = append(tagged, File{bagInfoTxt, bi})

	for _, f := range tags {
		if err := writeFile(root, f.Path, f.Data); err != nil {
			return err
		}
	}
	tagged = append(tagged, tags...)
	for _, alg := range algorithms {
		if err := writeFile(root, "tagmanifest-"+alg+".txt", manifest(alg, tagged, "")); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root, rel string, data []byte) error {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// manifest lists files' checksums, sorted by path, each path under prefix.
func manifest(alg string, files []File, prefix string) []byte {
	type line struct{ path, sum string }
	lines := make([]line, 0, len(files))
	for _, f := range files {
		h := newHash(alg)
		h.Write(f.Data)
		lines = append(lines, line{prefix + f.Path, fmt.Sprintf("%x", h.Sum(nil))})
	}
	slices.SortFunc(lines, func(a, b line) int { return strings.Compare(a.path, b.path) })
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.sum + "  " + encodePath(l.path) + "\n")
	}
	return []byte(b.String())
}

// encodePath escapes what RFC 8493 (2.1.3) says a manifest must: % and line breaks.
// Spaces stay as they are: a manifest line's path is everything after the checksum's
// separating whitespace.
func encodePath(p string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(p)
}

func decodePath(p string) string {
	return strings.NewReplacer("%25", "%", "%0D", "\r", "%0d", "\r", "%0A", "\n", "%0a", "\n").Replace(p)
}

// formatInfo writes label: value lines; a value's line breaks become continuation lines.
func formatInfo(fields []Field) []byte {
	var b strings.Builder
	for _, f := range fields {
		v := strings.ReplaceAll(strings.ReplaceAll(f.Value, "\r\n", "\n"), "\r", "\n")
		b.WriteString(f.Label + ": " + strings.ReplaceAll(v, "\n", "\n  ") + "\n")
	}
	return []byte(b.String())
}

func humanSize(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d bytes", n)
	}
	v := float64(n)
	for _, unit := range []string{"KB", "MB", "GB", "TB"} {
		v /= 1000
		if v < 1000 || unit == "TB" {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return "" // not reached
}

// checkFiles refuses paths a bag cannot hold: absolute, unclean, leaving the bag, repeated,
// or (for tag files) in data/ or named like a file Create writes itself.
func checkFiles(payload, tags []File) error {
	var errs []error
	seen := map[string]bool{}
	for _, f := range payload {
		if err := checkPath(f.Path); err != nil {
			errs = append(errs, fmt.Errorf("payload file %q: %w", f.Path, err))
		} else if seen[f.Path] {
			errs = append(errs, fmt.Errorf("payload file %q given twice", f.Path))
		}
		seen[f.Path] = true
	}
	clear(seen)
	for _, f := range tags {
		if err := checkPath(f.Path); err != nil {
			errs = append(errs, fmt.Errorf("tag file %q: %w", f.Path, err))
		} else if reserved(f.Path) {
			errs = append(errs, fmt.Errorf("tag file %q: the bag writes that file itself", f.Path))
		} else if seen[f.Path] {
			errs = append(errs, fmt.Errorf("tag file %q given twice", f.Path))
		}
		seen[f.Path] = true
	}
	return errors.Join(errs...)
}

func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.ContainsRune(p, 0):
		return errors.New("NUL in path")
	case strings.HasPrefix(p, "/"):
		return errors.New("absolute path")
	case path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../"):
		return errors.New("not a clean relative path")
	}
	return nil
}

func reserved(p string) bool {
	return p == bagitTxt || p == bagInfoTxt || p == fetchTxt || p == dataDir || strings.HasPrefix(p, dataDir+"/") ||
		(!strings.Contains(p, "/") && (strings.HasPrefix(p, "manifest-") || strings.HasPrefix(p, "tagmanifest-")))
}

func checkInfo(info []Field) error {
	var errs []error
	for _, f := range info {
		switch {
		case f.Label == "" || strings.TrimSpace(f.Label) != f.Label || strings.ContainsAny(f.Label, ":\r\n"):
			errs = append(errs, fmt.Errorf("bag-info label %q: want a non-empty label without colons, line breaks or outer spaces", f.Label))
		case strings.EqualFold(f.Label, "Payload-Oxum") || strings.EqualFold(f.Label, "Bag-Size"):
			errs = append(errs, fmt.Errorf("bag-info label %q: computed from the payload, not given", f.Label))
		}
	}
	return errors.Join(errs...)
}
