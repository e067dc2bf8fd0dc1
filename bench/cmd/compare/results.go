package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Results is one comparison run, as written to JSON.
type Results struct {
	Version   int       `json:"version"`
	Mode      string    `json:"mode"` // quick, full, custom, or input (re-rendered from raw output)
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Rounds    int       `json:"rounds"`
	Benchtime string    `json:"benchtime"`
	Commands  []string  `json:"commands"` // how the benchmarks were run
	Machine   Machine   `json:"machine"`
	Load      *Load     `json:"load,omitempty"` // how busy the machine was (nil: not measured)
	Notes     []string  `json:"notes"`
	// Conditions are the runner's remarks on the run (-note), shown
	// under the table's header.
	Conditions []string `json:"conditions,omitempty"`
	Rows       []Row    `json:"rows"`
	Samples    []Sample `json:"samples"` // every figure of every round: the raw data
}

const resultsVersion = 1

// configNotes say how the systems were set up, for the table's readers.
var configNotes = []string{
	"Every message is copied in and copied out once on every system; its first 8 bytes carry a sequence number the receiver checks.",
	"Rings: slots of exactly the message size; 1024 slots for 8 B, 64 B and 4 KiB messages, 64 slots for 64 KiB (4 MiB of slots at most). ringqueue-spsc and -mpmc use Put/Get one message at a time; ringqueue-spsc-batch uses PutBatchFunc/GetBatch, up to 64 messages per index update; ringqueue-typed is Typed[T] with a fixed-size T of the message size (raw copy), -typed-gob a T that gob encodes. Waiting: the default policy, WaitPaced (a busy wait that re-checks every 3 µs, then yields, then parks). Two laps of messages go through every fresh ring before the timed run, so that page faults and first cache-line transfers stay outside it.",
	"c-ring: a minimal C SPSC ring (bench/cring/spsc.c, built with the system's cc) between two processes over a memfd mapped by both, as ringqueue's anonymous segments are, the same messages copied in and out; a waiting side yields with sched_yield. No length word, roles, crash recovery or parking: the physical limit.",
	"Each benchmark runs a fixed number of operations (the benchtime's Nx), never a time window: a window too short for one iteration is how a Python lock once measured 62 ops/s.",
	"chan: two goroutines in one process (for reference, not cross-process), a buffered channel of the ring's capacity carrying slices of a fixed buffer set.",
	"pipe and socketpair: blocking pipe(2) / unix SOCK_STREAM socketpair(2) with the kernel's default buffers (64 KiB for a pipe); each message is one write(2) of a 4-byte length prefix and the payload, read through a 64 KiB buffer.",
	"python-queue: multiprocessing.Queue(maxsize = the ring's capacity); python-pipe: multiprocessing.Pipe(duplex=False) with send_bytes/recv_bytes; fork start method; a forked producer, the script's main process consumes. Timed by the same harness: interpreter and process start-up are outside the timed region, as for the Go children.",
	"Latency: 64-byte messages; ringqueue = two SPSC rings with WaitSpin (spin, then park), -paced (the default), -yield and -park the other wait policies; socketpair with length-prefixed frames; python-pipe = multiprocessing.Pipe() round trips. Percentiles by nearest rank over every round trip of the run.",
	"Sync: uncontended loops in one process; -2proc variants split the operations between two processes (Go references: two goroutines). python-value is Value('q') += 1 under get_lock(), Python's way to an atomic add.",
	"Scale: P producer and C consumer processes (all children) on one MPMC ring of 1024 × 64-byte slots; the run ends when every message is consumed. chan-4x4: four producer and four consumer goroutines on a buffered channel of 1024 [64]byte, in one process, for reference.",
}

// writeResults writes res as <dir>/<stamp>.json, .md, .png, .svg (and the
// raw benchmark output as .txt) and copies them to latest.*. It returns the
// paths written.
func writeResults(dir string, res *Results, raw []byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stamp := res.Started.UTC().Format("20060102T150405Z")
	var written []string
	for _, base := range []string{stamp, "latest"} {
		paths, err := writeSet(dir, base, res, raw)
		written = append(written, paths...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// writeSet writes one set of files named base.* in dir.
func writeSet(dir, base string, res *Results, raw []byte) ([]string, error) {
	var written []string
	p := filepath.Join(dir, base)
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p+".json", append(js, '\n'), 0o644); err != nil {
		return written, err
	}
	written = append(written, p+".json")
	f, err := os.Create(p + ".md")
	if err != nil {
		return written, err
	}
	err = writeMarkdown(f, res)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return written, err
	}
	written = append(written, p+".md")
	if raw != nil {
		if err := os.WriteFile(p+".txt", raw, 0o644); err != nil {
			return written, err
		}
		written = append(written, p+".txt")
	}
	for _, ext := range []string{".png", ".svg"} {
		ok, err := plotThroughput(res, p+ext)
		if err != nil {
			return written, fmt.Errorf("plot: %w", err)
		}
		if ok {
			written = append(written, p+ext)
		}
	}
	return written, nil
}

// readResults reads a JSON result set.
func readResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &res, nil
}
