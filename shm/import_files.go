package shm

import (
	"os"
	"sync"
	"sync/atomic"
)

// Imports: descriptors that arrive with one message (over a unix socket,
// SCM_RIGHTS) rather than at a process's start. The receiver attaches the
// message's segments (InheritNamed), then decodes the message inside
// Import, whose files the handles being decoded take back by index with
// InheritedFile: the receiving side of Export. As with Export, the
// goroutine running the decoding is what binds it to its Import, so
// decodings on other goroutines take nothing from it.
var imports struct {
	active atomic.Int32 // Imports running anywhere: zero skips the lookup
	mu     sync.Mutex
	byG    map[uint64]*importScope
}

type importScope struct {
	fileSet
	outer *importScope // an Import running on the same goroutine around this one
}

func currentImport() *fileSet {
	if imports.active.Load() == 0 {
		return nil
	}
	g := goid()
	imports.mu.Lock()
	defer imports.mu.Unlock()
	if s := imports.byG[g]; s != nil {
		return &s.fileSet
	}
	return nil
}

// Import runs decode with files as the descriptors that handles decoded
// on this goroutine meanwhile take back by index (InheritedFile): files[i]
// is what the sender's Export listed at index i. It takes ownership of
// files: those that no handle took are closed when decode returns.
func Import(files []*os.File, decode func() error) error {
	g := goid()
	s := &importScope{fileSet: fileSet{files: files, taken: make([]bool, len(files))}}
	imports.mu.Lock()
	if imports.byG == nil {
		imports.byG = map[uint64]*importScope{}
	}
	s.outer = imports.byG[g]
	imports.byG[g] = s
	imports.mu.Unlock()
	imports.active.Add(1)
	defer func() {
		imports.active.Add(-1)
		imports.mu.Lock()
		if s.outer != nil {
			imports.byG[g] = s.outer
		} else {
			delete(imports.byG, g)
		}
		imports.mu.Unlock()
		for i, f := range s.files {
			if !s.taken[i] {
				_ = f.Close()
			}
		}
	}()
	return decode()
}
