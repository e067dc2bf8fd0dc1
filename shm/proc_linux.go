package shm

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// processAlive reports whether pid runs, is no zombie, and started at the
// given time (clock ticks since boot).
func processAlive(pid int, start uint64) bool {
	st, state, err := processStart(pid)
	if errors.Is(err, os.ErrNotExist) {
		// /proc may hide other users' processes (hidepid): ask the kernel.
		err := unix.Kill(pid, 0)
		return err == nil || err == unix.EPERM
	}
	if err != nil {
		return true // cannot tell: never declare a live holder dead
	}
	return state != 'Z' && state != 'X' && st == start
}

// processStart reads a process's start time and state from /proc/pid/stat.
func processStart(pid int) (start uint64, state byte, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	return parseStat(string(b))
}

// parseStat extracts state (field 3) and starttime (field 22) from a
// /proc/pid/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(s string) (uint64, byte, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("shm: malformed /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, errors.New("shm: malformed /proc stat")
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, 0, errors.New("shm: malformed /proc stat")
	}
	return start, f[0][0], nil
}

// pidNamespace returns the inode of this process's pid namespace, 0 when
// it cannot be read.
func pidNamespace() uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return 0
	}
	return st.Ino
}
