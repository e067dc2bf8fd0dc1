package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A Machine says where a result set was measured.
type Machine struct {
	CPU        string `json:"cpu"`   // model name from /proc/cpuinfo
	Cores      int    `json:"cores"` // logical CPUs
	GOMAXPROCS int    `json:"gomaxprocs"`
	Kernel     string `json:"kernel"` // uname -r
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Go         string `json:"go"`     // the toolchain that built the benchmarks
	Python     string `json:"python"` // "Python 3.11.7", empty if none
	LoadAvg    string `json:"loadavg"`
	Commit     string `json:"commit,omitempty"` // of the module, if a git checkout
}

// probeMachine collects the machine's description. Every probe is best
// effort: a missing piece is left empty, never an error.
func probeMachine(root, python string) Machine {
	m := Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Go:         runtime.Version(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	if v := command(root, "go", "env", "GOVERSION"); v != "" {
		m.Go = v
	}
	if python != "" {
		m.Python = command(root, python, "--version")
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	m.Commit = command(root, "git", "rev-parse", "--short=12", "HEAD")
	if m.Commit != "" && command(root, "git", "status", "--porcelain", "--untracked-files=no") != "" {
		m.Commit += " (with local changes)"
	}
	return m
}

// cpuModel reads the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	return cpuModelFrom(b)
}

func cpuModelFrom(cpuinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// command runs name args in dir and returns its trimmed output, or "" on
// any failure.
func command(dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
