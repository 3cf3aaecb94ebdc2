package bagit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var (
	testPayload = []File{
		{"scans/doc-1/0001/ab.png", []byte("a scan")},
		{"texts/doc-1/0001/v1.txt", []byte("the text\n")},
		{"odd names/50% off\r\nnow.txt", []byte("a path with a space, a percent sign and a line break")},
	}
	testInfo = []Field{{"Source-Organization", "Harbor Court Tenants' Association"}, {"External-Description", "box 3\nfolder 2"}}
	testTags = []File{{"metadata/premis.xml", []byte("<premis/>")}}
)

func goodBag(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bag")
	if err := Create(dir, testPayload, testInfo, testTags); err != nil {
		t.Fatal(err)
	}
	return dir
}

// problemFiles is the files Validate's problems name.
func problemFiles(err error) []string {
	var files []string
	if err == nil {
		return nil
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var p *Problem
		if errors.As(e, &p) {
			files = append(files, p.File)
		} else {
			files = append(files, "not a *Problem: "+e.Error())
		}
	}
	return files
}

func TestCreateWritesABag(t *testing.T) {
	dir := goodBag(t)
	if err := Validate(dir); err != nil {
		t.Fatalf("a bag just made does not validate:\n%v", err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("bagit.txt"); got != "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n" {
		t.Errorf("bagit.txt = %q", got)
	}
	sum := sha256.Sum256([]byte("a scan"))
	if m := read("manifest-sha256.txt"); !strings.Contains(m, fmt.Sprintf("%x  data/scans/doc-1/0001/ab.png\n", sum)) ||
		!strings.Contains(m, "  data/odd names/50%25 off%0D%0Anow.txt\n") {
		t.Errorf("manifest-sha256.txt:\n%s", m)
	}
	if m := read("manifest-sha512.txt"); strings.Count(m, "\n") != len(testPayload) {
		t.Errorf("manifest-sha512.txt:\n%s", m)
	}
	info := read("bag-info.txt")
	for _, want := range []string{"Source-Organization: Harbor Court Tenants' Association\n", "External-Description: box 3\n  folder 2\n",
		"Bagging-Date: ", "Payload-Oxum: 67.3\n", "Bag-Size: 67 bytes\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("bag-info.txt lacks %q:\n%s", want, info)
		}
	}
	tm := read("tagmanifest-sha256.txt")
	for _, name := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt", "metadata/premis.xml"} {
		if !strings.Contains(tm, "  "+name+"\n") {
			t.Errorf("tagmanifest-sha256.txt lacks %s:\n%s", name, tm)
		}
	}
	if strings.Contains(tm, "tagmanifest") {
		t.Errorf("tagmanifest-sha256.txt lists a tag manifest:\n%s", tm)
	}
	if _, err := os.Stat(filepath.Join(dir, "tagmanifest-sha512.txt")); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("the bag's parent holds %d entries, want the bag alone (no temporary directory left)", len(entries))
	}
}

func TestCreateRefuses(t *testing.T) {
	nonEmpty := t.TempDir()
	if err := os.WriteFile(filepath.Join(nonEmpty, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	if err := Create(empty, testPayload, nil, nil); err != nil {
		t.Errorf("an empty directory: %v", err)
	} else if err := Validate(empty); err != nil {
		t.Errorf("bag in an existing empty directory: %v", err)
	}
	for _, tc := range []struct {
		name    string
		dir     string
		payload []File
		info    []Field
		tags    []File
		want    string
	}{
		{"non-empty directory", nonEmpty, testPayload, nil, nil, "not empty"},
		{"payload path leaving the bag", "", []File{{"../x", nil}}, nil, nil, "not a clean relative path"},
		{"absolute payload path", "", []File{{"/etc/passwd", nil}}, nil, nil, "absolute path"},
		{"payload path twice", "", []File{{"a", nil}, {"a", nil}}, nil, nil, "given twice"},
		{"tag file in data/", "", nil, nil, []File{{"data/x", nil}}, "writes that file itself"},
		{"tag file named like a manifest", "", nil, nil, []File{{"manifest-md5.txt", nil}}, "writes that file itself"},
		{"computed bag-info field", "", nil, []Field{{"Payload-Oxum", "1.1"}}, nil, "computed from the payload"},
		{"bag-info label with a colon", "", nil, []Field{{"A:B", "x"}}, nil, "label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "bag")
			}
			err := Create(dir, tc.payload, tc.info, tc.tags)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Create = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(nonEmpty); len(entries) != 1 {
		t.Errorf("the non-empty directory now holds %d entries", len(entries))
	}
}

func TestValidateFindsTampering(t *testing.T) {
	edit := func(name string, f func(string) string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(name))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(f(string(b))), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(*testing.T, string)
		want   []string // the files the problems name, in order
	}{
		{"payload file edited", edit("data/texts/doc-1/0001/v1.txt", func(s string) string { return "the test\n" }),
			[]string{"data/texts/doc-1/0001/v1.txt", "data/texts/doc-1/0001/v1.txt"}}, // sha256 and sha512
		{"payload file with an odd name edited", edit("data/odd names/50% off\r\nnow.txt", strings.ToUpper),
			[]string{"data/odd names/50% off\r\nnow.txt", "data/odd names/50% off\r\nnow.txt"}},
		{"payload file deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "data/scans/doc-1/0001/ab.png")); err != nil {
				t.Fatal(err)
			}
		}, []string{"data/scans/doc-1/0001/ab.png", "data/scans/doc-1/0001/ab.png", "bag-info.txt"}}, // both manifests, the Oxum
		{"payload file added", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "data/texts/extra.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"data/texts/extra.txt", "bag-info.txt"}},
		{"payload file in one manifest only", edit("manifest-sha512.txt", func(s string) string {
			lines := strings.SplitAfter(s, "\n")
			return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, "ab.png") }), "")
		}), []string{"data/scans/doc-1/0001/ab.png", "manifest-sha512.txt", "manifest-sha512.txt"}}, // and both tag manifests
		{"bag-info.txt edited", edit("bag-info.txt", func(s string) string { return strings.Replace(s, "box 3", "box 4", 1) }),
			[]string{"bag-info.txt", "bag-info.txt"}}, // both tag manifests
		{"wrong Payload-Oxum", func(t *testing.T, dir string) {
			edit("bag-info.txt", func(s string) string { return strings.Replace(s, "Payload-Oxum: 67.3", "Payload-Oxum: 68.3", 1) })(t, dir)
			// The tag manifests are made to match, so the Oxum alone is wrong.
			rehashTagManifests(t, dir)
		}, []string{"bag-info.txt"}},
		{"malformed Payload-Oxum", func(t *testing.T, dir string) {
			edit("bag-info.txt", func(s string) string { return strings.Replace(s, "Payload-Oxum: 67.3", "Payload-Oxum: 67", 1) })(t, dir)
			rehashTagManifests(t, dir)
		}, []string{"bag-info.txt"}},
		{"manifest edited", edit("manifest-sha256.txt", func(s string) string {
			i := strings.Index(s, "  data/texts/")
			return s[:i-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", s[i-1])+1)%16]) + s[i:]
		}), []string{"data/texts/doc-1/0001/v1.txt", "manifest-sha256.txt", "manifest-sha256.txt"}},
		{"malformed manifest line", edit("manifest-sha256.txt", func(s string) string { return s + "nonsense\n" }),
			[]string{"manifest-sha256.txt", "manifest-sha256.txt", "manifest-sha256.txt"}}, // the line, both tag manifests
		{"tag file edited", edit("metadata/premis.xml", func(s string) string { return "<premis>" }),
			[]string{"metadata/premis.xml", "metadata/premis.xml"}},
		{"tag file deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "metadata/premis.xml")); err != nil {
				t.Fatal(err)
			}
		}, []string{"metadata/premis.xml", "metadata/premis.xml"}},
		{"bagit.txt deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "bagit.txt")); err != nil {
				t.Fatal(err)
			}
		}, []string{"bagit.txt", "bagit.txt", "bagit.txt"}}, // missing; and missing from both tag manifests' view
		{"payload manifests deleted", func(t *testing.T, dir string) {
			for _, alg := range []string{"sha256", "sha512"} {
				if err := os.Remove(filepath.Join(dir, "manifest-"+alg+".txt")); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"manifest-<algorithm>.txt", "data/odd names/50% off\r\nnow.txt", "data/scans/doc-1/0001/ab.png", "data/texts/doc-1/0001/v1.txt",
			"manifest-sha256.txt", "manifest-sha512.txt", "manifest-sha256.txt", "manifest-sha512.txt"}},
		{"data/ deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
				t.Fatal(err)
			}
		}, []string{"data/", "data/odd names/50% off\r\nnow.txt", "data/scans/doc-1/0001/ab.png", "data/texts/doc-1/0001/v1.txt",
			"data/odd names/50% off\r\nnow.txt", "data/scans/doc-1/0001/ab.png", "data/texts/doc-1/0001/v1.txt", "bag-info.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := goodBag(t)
			tc.tamper(t, dir)
			err := Validate(dir)
			if got := problemFiles(err); !slices.Equal(got, tc.want) {
				t.Errorf("problems name %q, want %q; all:\n%v", got, tc.want, err)
			}
			for _, f := range tc.want {
				if err != nil && !strings.Contains(err.Error(), f+": ") {
					t.Errorf("error does not name %s:\n%v", f, err)
				}
			}
		})
	}
}

// rehashTagManifests rewrites the tag manifests to match the tag files as they now are.
func rehashTagManifests(t *testing.T, dir string) {
	t.Helper()
	var tags []File
	for _, name := range []string{"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt", "metadata/premis.xml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, File{name, b})
	}
	for _, alg := range algorithms {
		if err := os.WriteFile(filepath.Join(dir, "tagmanifest-"+alg+".txt"), manifest(alg, tags, ""), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestValidateAcceptsOtherWriters(t *testing.T) {
	// A bag as another tool might write it: CRLF lines, one space, upper-case hex, md5 only,
	// no bag-info.txt, no tag manifest.
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "bagit.txt"), []byte("BagIt-Version: 0.97\r\nTag-File-Character-Encoding: UTF-8\r\n"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "data", "a file.txt"), []byte("hello"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "manifest-md5.txt"), []byte("5D41402ABC4B2A76B9719D911017C592 data/a file.txt\r\n"), 0o644))
	if err := Validate(dir); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
