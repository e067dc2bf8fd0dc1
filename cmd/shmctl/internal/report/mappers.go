package report

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// mappers returns the pids of processes other than this one that map the
// file with the given device and inode, read from /proc/*/maps. It is a
// second line of defence for gc and rm, beside the participant table: it
// sees a process that has mapped a segment but not yet joined its table,
// and one whose pid the table cannot name (another pid namespace sharing
// /dev/shm). Processes whose maps this user may not read are not seen.
func mappers(dev, ino uint64) []int {
	want := []byte(strconv.FormatUint(ino, 10))
	devField := []byte(hex2(unix.Major(dev)) + ":" + hex2(unix.Minor(dev)))
	self := os.Getpid()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == self {
			continue
		}
		if mapsFile(pid, devField, want) {
			out = append(out, pid)
		}
	}
	return out
}

// mapsFile reports whether /proc/pid/maps has a mapping of dev:inode.
// A line reads "start-end perms offset dev inode path".
func mapsFile(pid int, dev, ino []byte) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) >= 5 && bytes.Equal(fields[4], ino) && bytes.Equal(fields[3], dev) {
			return true
		}
	}
	return false
}

// hex2 formats a device number as /proc/pid/maps does: hex, at least two digits.
func hex2(n uint32) string {
	s := strconv.FormatUint(uint64(n), 16)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}
