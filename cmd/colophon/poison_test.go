package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/colophon-archive/colophon/internal/client"
	"github.com/colophon-archive/colophon/internal/imageinfo"
	"github.com/colophon-archive/colophon/internal/imageinfo/imageinfotest"
	"github.com/colophon-archive/colophon/internal/sample"
	"github.com/colophon-archive/colophon/pipeline"
	"github.com/colophon-archive/colophon/workers/ocr"
)

// TestPoisonInput uploads every kind of bad file among good pages. Each bad page ends
// refused at upload or failed in the pipeline, with a reason naming it, in status, in
// upload --wait's output and in the logs; no retry storm; the good pages complete.
func TestPoisonInput(t *testing.T) {
	e := newEnv(t)
	e.startWorkers()
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, err := sample.WriteFiles(dir, pages)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rnd := rand.New(rand.NewSource(7))
	big := make([]byte, 600<<10)
	rnd.Read(big)
	// Two-page files cut in half: a PDF without its cross-reference table, a TIFF whose
	// second page directory lies past the end of the file.
	img, _, err := imageinfo.Decode(pages[0].PNG, imageinfo.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := imageinfotest.PDF([]*image.Gray{img, img}, 150)
	if err != nil {
		t.Fatal(err)
	}
	tif, err := imageinfotest.TIFF([]*image.Gray{img, img}, 150)
	if err != nil {
		t.Fatal(err)
	}
	poison := []struct {
		file   string
		data   []byte
		where  string // "upload": refused before the pipeline; "ocr": failed by the OCR worker
		reason string
	}{
		{"empty.png", nil, "upload", "empty file"},
		{"torn.png", pages[1].PNG[:len(pages[1].PNG)/2], "ocr", "corrupt or truncated"},
		{"garbage-body.jpg", jpegWithGarbageBody(t, rnd), "ocr", "corrupt or truncated"},
		{"letter.png", []byte("Dear comrades,\nthis is a text file, not a scan.\n"), "upload", "not a supported image"},
		{"archive.jpg", []byte("PK\x03\x04 a zip file pretending to be a JPEG"), "upload", "not a supported image"},
		{"bomb.png", pngHeaderOnly(60000, 60000), "upload", "over the limit"},
		{"huge.tif", big, "upload", "over the 524288-byte limit"},
		{"torn.pdf", pdf[:len(pdf)/2], "upload", "corrupt or truncated"},
		{"torn.tif", tif[:len(tif)/2], "upload", "corrupt or truncated"},
	}
	args := []string{"upload", "--source", "poison box", "--doc", "poison", "--wait", "--max-file-bytes", "524288", good[0]}
	for _, p := range poison {
		args = append(args, write(p.file, p.data))
	}
	args = append(args, good[1])

	r := e.colophon(args...)
	if r.code == 0 {
		t.Fatalf("upload --wait with poison pages exited 0:\n%s", r.stderr)
	}
	st := decodeJSON[client.Report](t, e.mustRun("status", "poison", "--json").stdout)
	if st.Pages != len(poison)+2 || st.Done != 2 || st.Failed != len(poison) {
		t.Fatalf("status: %d pages, %d done, %d failed; want %d, 2, %d\n%+v", st.Pages, st.Done, st.Failed, len(poison)+2, len(poison), st.PageStates)
	}
	if st.PageStates[0].State != pipeline.StateDone || st.PageStates[len(st.PageStates)-1].State != pipeline.StateDone {
		t.Errorf("good pages not done: %+v", st.PageStates)
	}
	logs := grepLines(e.logs.String(), "doc=poison")
	for i, p := range poison {
		page := i + 2
		ps := st.PageStates[page-1]
		if ps.State != pipeline.StateFailed || !strings.Contains(ps.Error, p.file) || !strings.Contains(ps.Error, p.reason) {
			t.Errorf("%s: status page %d = %s %q; want failed naming the file and %q", p.file, page, ps.State, ps.Error, p.reason)
		}
		if !strings.Contains(r.stderr, p.file) {
			t.Errorf("%s: upload --wait output does not name it:\n%s", p.file, r.stderr)
		}
		switch p.where {
		case "upload":
			if !strings.Contains(r.stderr, "stage=upload") || !strings.Contains(grepLines(r.stderr, p.file), "outcome=failed") {
				t.Errorf("%s: no upload log line for the refusal:\n%s", p.file, r.stderr)
			}
		case "ocr":
			line := grepLines(logs, "page="+itoa(page)+" stage=ocr outcome=failed")
			if !strings.Contains(line, p.file) || !strings.Contains(line, "attempt=1") {
				t.Errorf("%s: worker log lacks its failure on the first attempt:\n%s", p.file, logs)
			}
			if n := strings.Count(logs, "page="+itoa(page)+" stage=ocr outcome=started"); n != 1 {
				t.Errorf("%s: recognition started %d times; a bad page must not be retried", p.file, n)
			}
		}
	}
	// The pages the pipeline failed are in the dead-letter stream, once each.
	if n := deadLetters(t, e, "poison"); n != 2 {
		t.Errorf("dead-letter stream holds %d jobs of doc poison, want 2", n)
	}
	// Nothing is left in the work queue.
	if n := streamMsgs(t, e, pipeline.StreamOCR); n != 0 {
		t.Errorf("OCR stream still holds %d jobs", n)
	}
}

// TestPageTimeout: a page over the per-page recognition limit fails with that reason, and
// the worker goes on reading the next page with a fresh engine.
func TestPageTimeout(t *testing.T) {
	e := newEnv(t)
	e.startWorkers(ocr.WithConcurrency(1), ocr.WithPageTimeout(150*time.Millisecond))
	pages, err := sample.Pages()
	if err != nil {
		t.Fatal(err)
	}
	files, err := sample.WriteFiles(t.TempDir(), pages[:1])
	if err != nil {
		t.Fatal(err)
	}
	r := e.colophon("upload", "--source", "slow box", "--doc", "slow", "--wait", files[0])
	if r.code == 0 || !strings.Contains(r.stderr, "exceeded the per-page time limit of 150ms") || !strings.Contains(r.stderr, "page 1 (page-01.png)") {
		t.Fatalf("upload --wait of a page over the time limit: exit %d\n%s", r.code, r.stderr)
	}
	// A blank page takes far less than the limit: the slot's fresh engine reads it.
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, blank, nil); err != nil {
		t.Fatal(err)
	}
	bp := filepath.Join(t.TempDir(), "blank.jpg")
	if err := os.WriteFile(bp, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("upload", "--source", "slow box", "--doc", "blank", "--wait", bp)
}

// jpegWithGarbageBody is a JPEG whose headers are intact and whose image data is noise.
func jpegWithGarbageBody(t *testing.T, rnd *rand.Rand) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 400, 300))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	sos := bytes.Index(data, []byte{0xff, 0xda})
	start := sos + 2 + int(binary.BigEndian.Uint16(data[sos+2:]))
	for i := start; i < len(data)-2; i++ {
		data[i] = byte(rnd.Intn(255)) // never 0xff: no accidental markers
	}
	return data
}

// pngHeaderOnly is a PNG signature and an IHDR declaring w x h 8-bit grey pixels, and no data:
// a decompression bomb's calling card.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth; colour type 0 (grey)
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&out, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	out.Write(chunk)
	binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return out.Bytes()
}

func deadLetters(t *testing.T, e *env, doc string) int {
	t.Helper()
	ctx := context.Background()
	s, err := e.bus.JS.Stream(ctx, pipeline.StreamDead)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(pipeline.SubjectDead+".>"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if bytes.Contains(m.Data, []byte(`"doc":"`+doc+`"`)) {
			n++
		}
	}
	return n
}

func streamMsgs(t *testing.T, e *env, stream string) uint64 {
	t.Helper()
	s, err := e.bus.JS.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func itoa(n int) string { return strconv.Itoa(n) }
