package shm

import "os"

// Imports: descriptors that arrive with one message (over a unix socket,
// SCM_RIGHTS) rather than at a process's start. The receiver attaches the
// message's segments (InheritNamed), then decodes the message inside
// Import, whose files the handles being decoded take back by index with
// InheritedFile: the receiving side of Export. As with Export, the
// goroutine running the decoding is what binds it to its Import, so
// decodings on other goroutines take nothing from it.
var imports goScopes[fileSet]

func currentImport() *fileSet { return imports.current() }

// Import runs decode with files as the descriptors that handles decoded
// on this goroutine meanwhile take back by index (InheritedFile): files[i]
// is what the sender's Export listed at index i. It takes ownership of
// files: those that no handle took are closed when decode returns.
func Import(files []*os.File, decode func() error) error {
	s := &fileSet{files: files, taken: make([]bool, len(files))}
	defer func() {
		for i, f := range s.files {
			if !s.taken[i] {
				_ = f.Close()
			}
		}
	}()
	return imports.run(s, decode)
}
