package manager

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// keyFile makes a sealed memory file holding address, a NUL and key.
func keyFile(address string, key []byte) (*os.File, error) {
	fd, err := unix.MemfdCreate("multiproc-manager-key", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("manager: key descriptor: %w", err)
	}
	f := os.NewFile(uintptr(fd), "multiproc-manager-key")
	content := append([]byte(address+"\x00"), key...)
	if _, err := f.Write(content); err != nil {
		f.Close()
		return nil, fmt.Errorf("manager: key descriptor: %w", err)
	}
	// Nobody changes it after this; a child reads it as it is.
	_, _ = unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_WRITE|unix.F_SEAL_GROW|unix.F_SEAL_SHRINK|unix.F_SEAL_SEAL)
	return f, nil
}
