package devstack

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFileName is the file in the data directory a running stack holds an exclusive flock(2)
// on. The file stays after the stack stops: removing it would let a third stack lock a new
// file while a second still waits on the old one's inode.
const LockFileName = "devstack.lock"

// ErrDataDirInUse is what Start returns (wrapped in a *DataDirInUseError) when another
// stack, in this process or another, holds the data directory.
var ErrDataDirInUse = errors.New("data directory in use")

// DataDirInUseError names the directory, its lock file and, when the holder wrote it, the
// holder's process ID.
type DataDirInUseError struct {
	Dir, LockFile string
	PID           int // 0 when not known (the holder had not written it yet)
}

func (e *DataDirInUseError) Error() string {
	holder := "another stack"
	if e.PID > 0 {
		holder = fmt.Sprintf("another stack (pid %d)", e.PID)
	}
	return fmt.Sprintf("data directory %s is in use by %s: it holds the lock on %s", e.Dir, holder, e.LockFile)
}

func (e *DataDirInUseError) Is(target error) bool { return target == ErrDataDirInUse }

// dirLock is a held lock on a data directory.
type dirLock struct{ f *os.File }

// lockDataDir takes the data directory's lock without waiting. The kernel drops a flock when
// the last descriptor of the open file goes, so a stack that crashed (even by SIGKILL)
// never blocks the next one; Go opens files close-on-exec, so the MinIO child does not keep
// it either.
func lockDataDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		pid := holderPID(f)
		f.Close()
		return nil, &DataDirInUseError{Dir: dir, LockFile: path, PID: pid}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data dir: flock %s: %w", path, err)
	}
	// Say who holds it, for the message a second stack prints. Only the holder writes it.
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data dir: write pid to %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// holderPID reads the pid the holder wrote; 0 when there is none yet.
func holderPID(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// release drops the lock (closing the file does).
func (l *dirLock) release() {
	if l != nil {
		_ = l.f.Close()
	}
}
