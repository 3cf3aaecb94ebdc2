package devstacktest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/colophon-archive/colophon/internal/devstack"
)

// MinIODataDir is the drive a stack's MinIO child serves (its `minio server DIR` argument),
// read from /proc, for tests that damage what MinIO stores behind its back.
func MinIODataDir(t testing.TB, st *devstack.Stack) string {
	t.Helper()
	pid := st.MinIOPID()
	if pid == 0 {
		t.Fatalf("devstacktest: the stack reused an S3 server: no MinIO drive of its own")
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatalf("devstacktest: read MinIO's command line: %v", err)
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	i := slices.IndexFunc(args, func(a []byte) bool { return string(a) == "server" })
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("devstacktest: MinIO's command line %q names no drive", cmdline)
	}
	return string(args[i+1])
}

// Rot flips one byte of object bucket/key on drive (a MinIO single-drive directory), as a
// failing disk does: in the middle of its data part when it has one (objects over 128 KiB),
// else in its data kept inline at the end of its xl.meta. MinIO's bitrot check then refuses
// to serve the object while its metadata still reads.
func Rot(t testing.TB, drive, bucket, key string) {
	t.Helper()
	dir := filepath.Join(drive, bucket, filepath.FromSlash(key))
	target := filepath.Join(dir, "xl.meta")
	parts, _ := filepath.Glob(filepath.Join(dir, "*", "part.1"))
	if len(parts) > 0 {
		target = parts[0]
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatalf("devstacktest: rot %s/%s: %v", bucket, key, err)
	}
	at := len(data) / 2
	if len(parts) == 0 {
		// The inline data is the last thing in xl.meta, after the metadata and its CRC.
		at = len(data) - min(len(data)/4, 64)
	}
	data[at] ^= 0xff
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatalf("devstacktest: rot %s/%s: %v", bucket, key, err)
	}
}

// RotMeta flips one byte of the metadata at the start of object bucket/key's xl.meta on
// drive: MinIO then finds its CRC wrong and can neither stat nor read the object.
func RotMeta(t testing.TB, drive, bucket, key string) {
	t.Helper()
	target := filepath.Join(drive, bucket, filepath.FromSlash(key), "xl.meta")
	data, err := os.ReadFile(target)
	if err != nil || len(data) < 64 {
		t.Fatalf("devstacktest: rot the metadata of %s/%s: %d bytes, %v", bucket, key, len(data), err)
	}
	data[48] ^= 0xff // past the "XL2 " header and versions, inside the metadata the CRC covers
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatalf("devstacktest: rot the metadata of %s/%s: %v", bucket, key, err)
	}
}
