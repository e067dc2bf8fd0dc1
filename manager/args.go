package manager

import (
	"encoding/binary"
	"fmt"
)

// Small integers and flags inside arguments and results are bare varints
// (no tag): they are the protocol's own numbers (an id, an index, a count),
// never user values.

func uintArg(n uint64) []byte { return binary.AppendUvarint(nil, n) }
func intArg(n int64) []byte   { return binary.AppendVarint(nil, n) }

func boolArg(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

// argCount checks that args has exactly n entries.
func argCount(args [][]byte, n int) error {
	if len(args) != n {
		return fmt.Errorf("%d arguments, want %d: %w", len(args), n, ErrBadArgs)
	}
	return nil
}

func getUint(b []byte) (uint64, error) {
	n, m := binary.Uvarint(b)
	if m <= 0 || m != len(b) {
		return 0, fmt.Errorf("bad unsigned number: %w", ErrBadArgs)
	}
	return n, nil
}

func getInt(b []byte) (int64, error) {
	n, m := binary.Varint(b)
	if m <= 0 || m != len(b) {
		return 0, fmt.Errorf("bad number: %w", ErrBadArgs)
	}
	return n, nil
}

func getBool(b []byte) (bool, error) {
	if len(b) != 1 || b[0] > 1 {
		return false, fmt.Errorf("bad flag: %w", ErrBadArgs)
	}
	return b[0] == 1, nil
}

// getInts decodes each of bs as an int (results of a call).
func getIntResults(bs [][]byte, n int) ([]int64, error) {
	if len(bs) != n {
		return nil, fmt.Errorf("%d results, want %d: %w", len(bs), n, ErrProtocol)
	}
	out := make([]int64, n)
	for i, b := range bs {
		v, err := getInt(b)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i, ErrProtocol)
		}
		out[i] = v
	}
	return out, nil
}
