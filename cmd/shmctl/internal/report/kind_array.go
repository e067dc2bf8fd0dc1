package report

import (
	"strconv"

	"github.com/multiproc-go/multiproc/array"
	"github.com/multiproc-go/multiproc/shm"
)

// Adapter for the array package's kind. It calls array.Inspect, which
// validates the array header and loads the lock word without writing.

// Array is a shared array's state.
type Array struct {
	ElemSize int   `json:"elem_size"`
	Len      int   `json:"len"`
	Locked   bool  `json:"locked"` // an Array with a lock; false: a RawArray
	Lock     *Lock `json:"lock,omitempty"`
}

func init() {
	register(shm.KindArray, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := array.Inspect(obj)
		if err != nil {
			return nil, "", err
		}
		a := &Array{ElemSize: st.ElemSize, Len: st.Len, Locked: st.Locked}
		sum := "len " + strconv.Itoa(a.Len)
		if st.Locked {
			a.Lock = lockOf(v, st.Lock)
			sum += "; lock: " + a.Lock.String()
		} else {
			sum += "; raw"
		}
		return a, sum, nil
	})
}
