package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/multiproc-go/multiproc/shm"
)

// passedFile carries an open descriptor to a child inside a procs.Start
// argument: GobEncode registers it with shm.ExportFile (procs passes the
// export's files to the child), GobDecode takes it back with
// shm.InheritedFile. A nil F crosses as nil.
type passedFile struct{ F *os.File }

var errBadPassedFile = errors.New("bench: malformed passed file")

// GobEncode writes the export index of F (or nothing for a nil F).
func (p passedFile) GobEncode() ([]byte, error) {
	if p.F == nil {
		return []byte{}, nil
	}
	i, err := shm.ExportFile(p.F)
	if err != nil {
		return nil, fmt.Errorf("bench: passing %s: %w", p.F.Name(), err)
	}
	return binary.LittleEndian.AppendUint32(nil, uint32(i)), nil
}

// GobDecode takes the descriptor GobEncode exported.
func (p *passedFile) GobDecode(b []byte) error {
	switch len(b) {
	case 0:
		p.F = nil
		return nil
	case 4:
		f, err := shm.InheritedFile(int(binary.LittleEndian.Uint32(b)))
		if err != nil {
			return fmt.Errorf("bench: taking a passed file: %w", err)
		}
		p.F = f
		return nil
	}
	return errBadPassedFile
}
