package shm

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The participant table gives every process attached to a segment a small
// index, and lock words and queue claims store that index as a tag. One word
// per slot, written with a single CAS so a claim names its claimant from the
// first instant:
//
//	bits  0..21  pid (Linux pids are below 2^22)
//	bits 22..31  generation: bumped on every claim of the slot
//	bits 32..63  low 32 bits of the process's start time (clock ticks since boot)
//
// A tag is index | generation<<10 (20 bits; 0 means nobody). The tag's
// holder is alive while the slot still carries the tag's generation, names a
// pid, and that pid is a live, non-zombie process with the same start time:
// pid reuse changes the start time, and a slot taken over by another process
// changes the generation, so neither can make a dead holder look alive.
//
// A process takes a free slot when it first attaches and frees it when it
// detaches. A process killed while attached leaves its slot claimed; the slot
// is taken over only when no free one is left, after its process is found dead.
const (
	tagIndexBits = 10
	tagGenBits   = 10
	// TagBits is how many low bits of a word a participant tag needs; the
	// bits above are free for the caller's flags.
	TagBits = tagIndexBits + tagGenBits

	pidBits  = 22
	pidMask  = 1<<pidBits - 1
	genMask  = 1<<tagGenBits - 1
	idxMask  = 1<<tagIndexBits - 1
	tagMask  = 1<<TagBits - 1
	genShift = pidBits
)

func packEntry(pid uint32, gen uint32, start uint64) uint64 {
	return uint64(pid&pidMask) | uint64(gen&genMask)<<genShift | uint64(uint32(start))<<32
}

func entryPid(w uint64) uint32   { return uint32(w) & pidMask }
func entryGen(w uint64) uint32   { return uint32(w>>genShift) & genMask }
func entryStart(w uint64) uint32 { return uint32(w >> 32) }

func makeTag(index, gen uint32) uint32 { return index | (gen&genMask)<<tagIndexBits }

// slot returns the table word of 1-based index i (the caller checks i).
func (m *mapping) slot(i uint32) *uint64 {
	return (*uint64)(unsafe.Pointer(&m.mem[m.tableOff+uint64(i-1)*8]))
}

// join claims a slot for this process and returns its tag.
func (m *mapping) join() (uint32, error) {
	pid := uint32(os.Getpid())
	start, _, err := processStart(int(pid))
	if err != nil {
		return 0, err
	}
	claim := func(i uint32, old uint64) (uint32, bool) {
		gen := (entryGen(old) + 1) & genMask
		if atomic.CompareAndSwapUint64(m.slot(i), old, packEntry(pid, gen, start)) {
			return makeTag(i, gen), true
		}
		return 0, false
	}
	for i := uint32(1); i <= m.participants; i++ {
		if old := atomic.LoadUint64(m.slot(i)); entryPid(old) == 0 {
			if tag, ok := claim(i, old); ok {
				return tag, nil
			}
		}
	}
	for i := uint32(1); i <= m.participants; i++ {
		if old := atomic.LoadUint64(m.slot(i)); !entryAlive(old) {
			if tag, ok := claim(i, old); ok {
				return tag, nil
			}
		}
	}
	return 0, ErrTooManyParticipants
}

// leave frees this process's slot, keeping its generation so that tags of
// this process that remain in lock words read as dead.
func (m *mapping) leave() {
	i := m.self & idxMask
	if i == 0 || i > m.participants {
		return
	}
	p := m.slot(i)
	old := atomic.LoadUint64(p)
	if entryGen(old) == m.self>>tagIndexBits && entryPid(old) == uint32(os.Getpid()) {
		atomic.CompareAndSwapUint64(p, old, packEntry(0, entryGen(old), 0))
	}
}

// Self returns this process's participant tag in the segment: never 0,
// at most TagBits wide.
func (s *Segment) Self() uint32 { return s.m.self }

// Alive reports whether the participant named by tag is still attached and
// its process still runs. A tag read from shared memory is input: a
// malformed tag is simply not alive. It reads /proc, so it belongs on slow
// paths only (a waiter that has slept a while checking on a lock's holder).
func (s *Segment) Alive(tag uint32) bool {
	m := s.m
	if tag != 0 && tag == m.self {
		return true
	}
	i := tag & idxMask
	if tag&^tagMask != 0 || i == 0 || i > m.participants {
		return false
	}
	w := atomic.LoadUint64(m.slot(i))
	if entryGen(w) != tag>>tagIndexBits {
		return false
	}
	return entryAlive(w)
}

// entryAlive reports whether a table word names a live process.
func entryAlive(w uint64) bool {
	pid := entryPid(w)
	if pid == 0 {
		return false
	}
	return processAlive(int(pid), entryStart(w))
}

// processAlive reports whether pid runs, is no zombie, and started at the
// given time (low 32 bits of clock ticks since boot).
func processAlive(pid int, start uint32) bool {
	st, state, err := processStart(pid)
	if errors.Is(err, os.ErrNotExist) {
		// /proc may hide other users' processes (hidepid): ask the kernel.
		err := unix.Kill(pid, 0)
		return err == nil || err == unix.EPERM
	}
	if err != nil {
		return true // cannot tell: never declare a live holder dead
	}
	return state != 'Z' && state != 'X' && uint32(st) == start
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

// A Participant is one slot of a segment's participant table.
type Participant struct {
	Tag   uint32
	Pid   int
	Alive bool
}

func (m *mapping) participantList() []Participant {
	var out []Participant
	for i := uint32(1); i <= m.participants; i++ {
		w := atomic.LoadUint64(m.slot(i))
		if entryPid(w) == 0 {
			continue
		}
		out = append(out, Participant{Tag: makeTag(i, entryGen(w)), Pid: int(entryPid(w)), Alive: entryAlive(w)})
	}
	return out
}
