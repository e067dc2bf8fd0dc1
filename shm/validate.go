package shm

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// validate checks a mapping's header before anything else reads it:
// magic, then version, then checksum, then every bound, and returns the
// header it checked. Another process can write the mapping at any moment,
// so the header is copied once, first, and only the copy is checked and
// used: a second read could see other bytes than the checked ones. It
// never reads outside mem, whatever mem holds.
func validate(mem []byte) (header, error) {
	if len(mem) < 8 || binary.NativeEndian.Uint64(mem) != magicWord {
		return header{}, ErrNotSegment
	}
	if len(mem) < headerSize {
		return header{}, fmt.Errorf("%w: %d bytes, shorter than a header", ErrCorrupt, len(mem))
	}
	var h header
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&h)), headerSize)
	copy(raw, mem[:headerSize])
	if h.Version != layoutVersion {
		return header{}, fmt.Errorf("%w: layout %d, this library reads %d", ErrVersion, h.Version, layoutVersion)
	}
	if sum := headerChecksum(raw); sum != h.Checksum {
		return header{}, fmt.Errorf("%w: header checksum %#x, want %#x", ErrCorrupt, h.Checksum, sum)
	}
	if h.Size != uint64(len(mem)) {
		return header{}, fmt.Errorf("%w: header says %d bytes, mapping has %d (truncated?)", ErrCorrupt, h.Size, len(mem))
	}
	if h.Participants == 0 || h.Participants > MaxParticipants {
		return header{}, fmt.Errorf("%w: %d participants", ErrCorrupt, h.Participants)
	}
	if h.DirEntries == 0 || h.DirEntries > maxDirEntries {
		return header{}, fmt.Errorf("%w: %d directory entries", ErrCorrupt, h.DirEntries)
	}
	g := computeGeometry(h.Participants, h.DirEntries)
	if h.TableOff != g.tableOff || h.DirOff != g.dirOff || h.HeapOff != g.heapOff {
		return header{}, fmt.Errorf("%w: table/directory/heap at %d/%d/%d, want %d/%d/%d",
			ErrCorrupt, h.TableOff, h.DirOff, h.HeapOff, g.tableOff, g.dirOff, g.heapOff)
	}
	if h.HeapOff > h.Size {
		return header{}, fmt.Errorf("%w: heap starts at %d past the end %d", ErrCorrupt, h.HeapOff, h.Size)
	}
	if h.Reserved != [3]uint64{} {
		return header{}, fmt.Errorf("%w: reserved header words are set", ErrCorrupt)
	}
	return h, nil
}

// checkEntry validates a ready directory entry against the heap's bounds.
func checkEntry(h *header, e *dirEntry) error {
	if !Kind(e.Kind).Valid() {
		return fmt.Errorf("%w: directory entry of unknown kind %d", ErrCorrupt, e.Kind)
	}
	if e.NameLen == 0 || e.NameLen > maxNameLen {
		return fmt.Errorf("%w: directory entry name length %d", ErrCorrupt, e.NameLen)
	}
	end := e.Off + e.Size
	if e.Off < h.HeapOff || end < e.Off || end > h.Size || e.Off%objectAlign != 0 {
		return fmt.Errorf("%w: object at [%d,+%d) outside the heap [%d,%d)", ErrCorrupt, e.Off, e.Size, h.HeapOff, h.Size)
	}
	return nil
}
