package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procClockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux
// architecture Go supports (the kernel fixes it, whatever CONFIG_HZ is).
const procClockTicks = 100

// SelfCPUSeconds is the user + system CPU time of this process so far, all threads: with
// the in-process stack that is NATS, the workers (Tesseract included), the client.
func SelfCPUSeconds() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds(), nil
}

// ProcessCPUSeconds is the user + system CPU time of process pid so far, from /proc/<pid>/stat.
func ProcessCPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces and parentheses itself, so
// fields are counted from the last ')'.
func parseStatCPU(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name in %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want 13 or more", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc stat: utime %q stime %q", f[11], f[12])
	}
	return float64(utime+stime) / procClockTicks, nil
}

// LoadAverage is the 1, 5 and 15 minute load averages; zeros when unknown.
func LoadAverage() [3]float64 {
	var la [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return la
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		la[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return la
}

// MachineInfo is what the figures were measured on.
type MachineInfo struct {
	CPUs        int    `json:"cpus"`
	MemTotalMiB int64  `json:"mem_total_mib"`
	OS          string `json:"os"`
	Kernel      string `json:"kernel"`
	Tesseract   string `json:"tesseract"` // first line of `tesseract --version`
	Go          string `json:"go"`
}

// Machine describes this machine; tesseractBin is the command line the baseline runs.
func Machine(ctx context.Context, tesseractBin string) MachineInfo {
	m := MachineInfo{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kib int64
			if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kib); n == 1 {
				m.MemTotalMiB = kib / 1024
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.OS = strings.TrimSpace(m.OS + " (debian_version " + strings.TrimSpace(string(b)) + ")")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	// `tesseract --version` prints to stdout in 5.x and to stderr in older releases.
	if out, err := exec.CommandContext(ctx, tesseractBin, "--version").CombinedOutput(); err == nil {
		m.Tesseract, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	}
	return m
}

// MachineBusySeconds is the CPU time all CPUs have spent busy since boot (everything but
// idle and iowait in /proc/stat), all processes together. Its growth during a run, less the
// run's own CPU time, is what other programs took: on a shared machine, the figures' noise.
func MachineBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStatBusy(b)
}

// parseProcStatBusy reads the "cpu" line: user nice system idle iowait irq softirq steal ...
func parseProcStatBusy(b []byte) (float64, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy uint64
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q: %w", v, err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return float64(busy) / procClockTicks, nil
}

// OthersMeter measures the CPU time other programs take while a contender runs.
type OthersMeter struct{ start float64 }

// StartOthers begins measuring; errors make the measure 0.
func StartOthers() OthersMeter {
	s, _ := MachineBusySeconds()
	return OthersMeter{start: s}
}

// Seconds is the machine's busy CPU time since StartOthers less own, the contender's CPU
// time (never below 0: the two clocks tick apart).
func (m OthersMeter) Seconds(own float64) float64 {
	now, err := MachineBusySeconds()
	if err != nil || m.start == 0 {
		return 0
	}
	return max(0, now-m.start-own)
}
