package bagit

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a bag, in one file.
type Problem struct {
	File string // relative to the bag's root, with "/"
	What string
}

func (p *Problem) Error() string { return p.File + ": " + p.What }

// Validate checks the bag in dir as RFC 8493 says a valid bag must be: bagit.txt, data/ and a
// payload manifest present; every manifest line well formed and naming a file that exists
// and has that checksum; every payload file in every payload manifest; Payload-Oxum, when
// given, matching the payload; every tag manifest line checking out. It returns every
// problem found, each a *Problem naming the file, joined with errors.Join; nil for a valid bag.
func Validate(dir string) error {
	v := &validator{root: dir, sums: map[string]map[string]string{}}
	v.run()
	return errors.Join(v.problems...)
}

type validator struct {
	root     string
	problems []error
	// payload is every file under data/, with its size.
	payload map[string]int64
	// algs is every algorithm a manifest uses; sums caches each file's checksums in all of them.
	algs []string
	sums map[string]map[string]string
}

func (v *validator) problem(file, format string, args ...any) {
	v.problems = append(v.problems, &Problem{File: file, What: fmt.Sprintf(format, args...)})
}

var manifestName = regexp.MustCompile(`^(tag)?manifest-([a-z0-9]+)\.txt$`)

func (v *validator) run() {
	if _, err := os.Stat(v.root); err != nil {
		v.problem(".", "cannot read the bag: %v", err)
		return
	}
	v.checkDeclaration()
	v.walkPayload()

	entries, err := os.ReadDir(v.root)
	if err != nil {
		v.problem(".", "cannot list the bag: %v", err)
		return
	}
	var payloadManifests, tagManifests []string
	for _, e := range entries {
		m := manifestName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if newHash(m[2]) == nil {
			v.problem(e.Name(), "checksum algorithm %q is not one this validator can check", m[2])
			continue
		}
		if !slices.Contains(v.algs, m[2]) {
			v.algs = append(v.algs, m[2])
		}
		if m[1] == "" {
			payloadManifests = append(payloadManifests, e.Name())
		} else {
			tagManifests = append(tagManifests, e.Name())
		}
	}
	if len(payloadManifests) == 0 {
		v.problem("manifest-<algorithm>.txt", "missing: a bag needs at least one payload manifest (manifest-<algorithm>.txt)")
	}

	// listed[path] is the set of payload manifests naming path.
	listed := map[string][]string{}
	for _, name := range payloadManifests {
		for _, e := range v.readManifest(name, true) {
			listed[e.path] = append(listed[e.path], name)
			v.checkEntry(name, e)
		}
	}
	for _, p := range sortedKeys(v.payload) {
		switch in := listed[p]; {
		case len(in) == 0:
			v.problem(p, "payload file in no payload manifest")
		case len(in) < len(payloadManifests):
			for _, name := range payloadManifests {
				if !slices.Contains(in, name) {
					v.problem(p, "payload file not in %s", name)
				}
			}
		}
	}
	for _, name := range tagManifests {
		for _, e := range v.readManifest(name, false) {
			v.checkEntry(name, e)
		}
	}
	v.checkInfo()
}

// checkDeclaration reads bagit.txt: the version and the tag files' encoding.
func (v *validator) checkDeclaration() {
	fields, ok := v.readFields(bagitTxt, true)
	if !ok {
		return
	}
	if got := fieldValue(fields, "BagIt-Version"); got == "" {
		v.problem(bagitTxt, "no BagIt-Version")
	}
	switch got := fieldValue(fields, "Tag-File-Character-Encoding"); {
	case got == "":
		v.problem(bagitTxt, "no Tag-File-Character-Encoding")
	case !strings.EqualFold(got, "UTF-8"):
		v.problem(bagitTxt, "Tag-File-Character-Encoding %q: only UTF-8 tag files can be checked", got)
	}
}

// walkPayload lists every file under data/.
func (v *validator) walkPayload() {
	v.payload = map[string]int64{}
	data := filepath.Join(v.root, dataDir)
	st, err := os.Stat(data)
	if err != nil || !st.IsDir() {
		v.problem(dataDir+"/", "missing: a bag's payload directory is required")
		return
	}
	err = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(v.root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			v.problem(rel, "cannot read: %v", err)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			v.problem(rel, "not a regular file (%s)", d.Type())
			return nil
		}
		info, err := d.Info()
		if err != nil {
			v.problem(rel, "cannot read: %v", err)
			return nil
		}
		v.payload[rel] = info.Size()
		return nil
	})
	if err != nil {
		v.problem(dataDir+"/", "cannot list: %v", err)
	}
}

type entry struct {
	line int
	sum  string
	path string
}

// readManifest parses a manifest's lines; a payload manifest names files under data/, a tag
// manifest files outside it.
func (v *validator) readManifest(name string, payload bool) []entry {
	data, err := os.ReadFile(filepath.Join(v.root, name))
	if err != nil {
		v.problem(name, "cannot read: %v", err)
		return nil
	}
	alg := manifestName.FindStringSubmatch(name)[2]
	sumLen := newHash(alg).Size() * 2
	var out []entry
	seen := map[string]int{}
	for i, line := range splitLines(data) {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			continue
		}
		sep := strings.IndexAny(line, " \t")
		if sep < 0 {
			v.problem(name, "line %d: malformed: want a checksum, whitespace and a path", n)
			continue
		}
		sum, p := line[:sep], decodePath(strings.TrimLeft(line[sep:], " \t"))
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != sumLen {
			v.problem(name, "line %d: malformed: %q is not a %s checksum", n, sum, alg)
			continue
		}
		if p == "" || checkPath(p) != nil {
			v.problem(name, "line %d: malformed: path %q is not a clean relative path inside the bag", n, p)
			continue
		}
		inData := strings.HasPrefix(p, dataDir+"/")
		if payload && !inData {
			v.problem(name, "line %d: %s is not under data/: a payload manifest lists payload files only", n, p)
			continue
		}
		if !payload && inData {
			v.problem(name, "line %d: %s is a payload file: a tag manifest lists tag files only", n, p)
			continue
		}
		if first, ok := seen[p]; ok {
			v.problem(name, "line %d: %s listed again (first on line %d)", n, p, first)
			continue
		}
		seen[p] = n
		out = append(out, entry{n, strings.ToLower(sum), p})
	}
	return out
}

// splitLines splits on LF, CRLF or CR, as RFC 8493 allows any of them to end a line.
func splitLines(data []byte) []string {
	s := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// checkEntry checks that a manifest line's file exists and has its checksum.
func (v *validator) checkEntry(manifest string, e entry) {
	alg := manifestName.FindStringSubmatch(manifest)[2]
	sums, err := v.fileSums(e.path)
	if errors.Is(err, fs.ErrNotExist) {
		v.problem(e.path, "missing, but listed in %s (line %d)", manifest, e.line)
		return
	}
	if err != nil {
		v.problem(e.path, "cannot read: %v", err)
		return
	}
	if got := sums[alg]; got != e.sum {
		v.problem(e.path, "%s checksum is %s, but %s (line %d) says %s", alg, got, manifest, e.line, e.sum)
	}
}

// fileSums hashes a file once in every algorithm the bag's manifests use.
func (v *validator) fileSums(rel string) (map[string]string, error) {
	if s, ok := v.sums[rel]; ok {
		return s, nil
	}
	p := filepath.Join(v.root, filepath.FromSlash(rel))
	st, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hashes := make([]hash.Hash, len(v.algs))
	writers := make([]io.Writer, len(v.algs))
	for i, alg := range v.algs {
		hashes[i] = newHash(alg)
		writers[i] = hashes[i]
	}
	if _, err := io.Copy(io.MultiWriter(writers...), f); err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for i, alg := range v.algs {
		sums[alg] = hex.EncodeToString(hashes[i].Sum(nil))
	}
	v.sums[rel] = sums
	return sums, nil
}

// checkInfo reads bag-info.txt, when there is one, and checks Payload-Oxum against data/.
func (v *validator) checkInfo() {
	fields, ok := v.readFields(bagInfoTxt, false)
	if !ok {
		return
	}
	oxum := fieldValue(fields, "Payload-Oxum")
	if oxum == "" {
		return
	}
	octets, streams, found := strings.Cut(oxum, ".")
	o, err1 := strconv.ParseInt(octets, 10, 64)
	s, err2 := strconv.ParseInt(streams, 10, 64)
	if !found || err1 != nil || err2 != nil {
		v.problem(bagInfoTxt, "Payload-Oxum %q: want <octets>.<file count>", oxum)
		return
	}
	var total int64
	for _, n := range v.payload {
		total += n
	}
	if o != total || s != int64(len(v.payload)) {
		v.problem(bagInfoTxt, "Payload-Oxum says %d bytes in %d files, data/ holds %d bytes in %d files", o, s, total, len(v.payload))
	}
}

// readFields parses a tag file of "Label: value" lines, where a line starting with
// whitespace continues the value above.
func (v *validator) readFields(name string, required bool) ([]Field, bool) {
	data, err := os.ReadFile(filepath.Join(v.root, name))
	if errors.Is(err, fs.ErrNotExist) {
		if required {
			v.problem(name, "missing: every bag has one")
		}
		return nil, false
	}
	if err != nil {
		v.problem(name, "cannot read: %v", err)
		return nil, false
	}
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		v.problem(name, "starts with a byte order mark, which RFC 8493 forbids")
		data = data[3:]
	}
	var fields []Field
	for i, line := range splitLines(data) {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) == 0 {
				v.problem(name, "line %d: malformed: a continuation line with no label above it", i+1)
				continue
			}
			fields[len(fields)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		label, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(label) == "" {
			v.problem(name, "line %d: malformed: want \"Label: value\"", i+1)
			continue
		}
		fields = append(fields, Field{strings.TrimSpace(label), strings.TrimSpace(value)})
	}
	return fields, true
}

func fieldValue(fields []Field, label string) string {
	for _, f := range fields {
		if strings.EqualFold(f.Label, label) {
			return f.Value
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
