package ringqueue

import (
	"runtime"
	"unsafe"
)

// Large messages are copied in and out of a slot as large structs of
// words, which the compiler moves with REP MOVSQ, rather than with
// copy(), which calls runtime.memmove and its AVX loop.
//
// Why: the two are not equal when the destination lines are cached by
// the other process, as a slot's are by the consumer that read it last
// and a reader's buffer is not. A store loop must read each destination
// line before it writes it (a read-for-ownership: here a transfer from
// the other core); the CPU's string move writes whole lines without
// reading them, and the longer the move the more of it runs that way.
// Measured with bench's Throughput (SPSC, one message at a time, quiet
// 2-vCPU AMD EPYC guest, 3 interleaved runs, k msgs/s):
//
//	                          4 KiB        64 KiB
//	copy()                    1284-1532    90-109    (perf: 39% of the producer in memmove)
//	4 KiB moves               1848-3620    273-310
//	16 KiB moves              (copy())     360-458
//	1 KiB moves               1284-1532    90-98     (no REP MOVSQ at that size)
//	64, 16, then 4 KiB moves  2943-3349    391-483   (what copyWide does)
//	the C ring (memcpy)       2508-3551    419-477
//
// So a copy moves the largest of 64, 16 and 4 KiB that fits, then the
// next, and copies the rest (under 4 KiB) with copy().
//
// Only amd64 takes this path (other CPUs were not measured, and their
// compilers move large structs their own way), and only 8-byte-aligned
// spans: the conversion to a pointer
// to words must be aligned (checkptr enforces it). Slots are, and so is
// any heap buffer of 8 bytes or more; a misaligned user buffer falls
// back to copy().

// The move units are structs, not arrays: the compiler moves a large
// struct with REP MOVSQ and a large array with a call to memmove (Go
// 1.26).
type (
	words64k struct{ w [64 << 10 / 8]uint64 }
	words16k struct{ w [16 << 10 / 8]uint64 }
	words4k  struct{ w [4 << 10 / 8]uint64 }
)

// Copy copies min(len(dst), len(src)) bytes from src to dst and returns
// how many, as copy does, but moves 4 KiB and more with the CPU's string
// move, as Put and Get do (see above: 2-4x the messages per second
// between two processes at 4 and 64 KiB). Use it in PutBatchFunc's fill and in
// GetBatch's fn to copy large messages. dst and src must not overlap.
func Copy(dst, src []byte) int { return copyMsg(dst, src) }

// copyMsg is Copy. It inlines, so that a small message pays one
// comparison more than copy().
func copyMsg(dst, src []byte) int {
	if !wideMoves || len(dst) < wideMin || len(src) < wideMin {
		return copy(dst, src)
	}
	return copyWide(dst, src)
}

const (
	// wideMoves says whether copies of wideMin bytes and more go
	// through copyWide.
	wideMoves = runtime.GOARCH == "amd64"
	// wideMin is the shortest copy copyWide is for.
	wideMin = 4 << 10
)

// copyWide is copyMsg for wideMin bytes and more (shorter ones work too).
func copyWide(dst, src []byte) int {
	n := min(len(dst), len(src))
	d, s := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	if (uintptr(d)|uintptr(s))&7 != 0 {
		return copy(dst, src)
	}
	i := 0
	for ; i+64<<10 <= n; i += 64 << 10 {
		*(*words64k)(unsafe.Add(d, i)) = *(*words64k)(unsafe.Add(s, i))
	}
	for ; i+16<<10 <= n; i += 16 << 10 {
		*(*words16k)(unsafe.Add(d, i)) = *(*words16k)(unsafe.Add(s, i))
	}
	for ; i+4<<10 <= n; i += 4 << 10 {
		*(*words4k)(unsafe.Add(d, i)) = *(*words4k)(unsafe.Add(s, i))
	}
	copy(dst[i:n], src[i:n])
	return n
}
