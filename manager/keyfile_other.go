//go:build !linux

package manager

import (
	"fmt"
	"os"
)

// keyFile off Linux has no memfd to seal, so it writes address, a NUL and
// key to a temporary file that is unlinked at once: only the descriptor
// remains, as with a memfd, though unsealed. A client on another Unix
// (talking to a server over TCP) still encodes its proxies; no child can
// be started there to receive the descriptor (procs needs Linux).
func keyFile(address string, key []byte) (*os.File, error) {
	f, err := os.CreateTemp("", "multiproc-manager-key-*")
	if err != nil {
		return nil, fmt.Errorf("manager: key descriptor: %w", err)
	}
	_ = os.Remove(f.Name())
	if _, err := f.Write(append([]byte(address+"\x00"), key...)); err != nil {
		f.Close()
		return nil, fmt.Errorf("manager: key descriptor: %w", err)
	}
	return f, nil
}
