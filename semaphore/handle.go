package semaphore

import (
	"fmt"

	"github.com/multiproc-go/multiproc/shm"
)

// decode is the GobDecode of a named primitive of kind: shm.Decode of a
// handle on an object of that kind itself (no offset into it), with open
// filling the handle in from the object. A Mutex, which may sit inside an
// object of another kind, calls shm.Decode itself.
func decode(a *shm.Attachment, b []byte, kind shm.Kind, open func(shm.Object) error) error {
	err := shm.Decode(a, b, shm.Want{Kind: kind}, func(obj shm.Object, _ uint64) error { return open(obj) })
	if err != nil {
		return fmt.Errorf("%s: decode: %w", kind, err)
	}
	return nil
}
