package report

import (
	"strings"

	"github.com/multiproc-go/multiproc/shm"
	"github.com/multiproc-go/multiproc/value"
)

// Adapter for the value package's kind. It calls value.Inspect, which
// validates the value header and loads the shared words without writing.

// Value is a shared value's state.
type Value struct {
	ElemSize int   `json:"elem_size"`
	Locked   bool  `json:"locked"` // a Value with a lock; false: a RawValue
	Lock     *Lock `json:"lock,omitempty"`
	// Buffered: T is wider than a machine word, so stores go through a
	// double-buffered seqlock.
	Buffered bool    `json:"buffered"`
	Stores   uint32  `json:"stores,omitempty"` // buffered only, wraps at 2^32
	Writer   *Holder `json:"writer,omitempty"` // buffered only: the process storing now
}

func init() {
	register(shm.KindValue, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := value.Inspect(obj)
		if err != nil {
			return nil, "", err
		}
		val := &Value{ElemSize: st.ElemSize, Locked: st.Locked, Buffered: st.Buffered, Stores: st.Stores}
		var parts []string
		if st.Locked {
			val.Lock = lockOf(v, st.Lock)
			parts = append(parts, "lock: "+val.Lock.String())
		} else {
			parts = append(parts, "raw")
		}
		if st.Buffered {
			parts = append(parts, "double-buffered, "+plural(int(val.Stores), "store", "stores"))
			if st.Writer != 0 {
				val.Writer = holder(v, st.Writer)
				parts = append(parts, "store in progress by "+val.Writer.String())
			}
		}
		return val, strings.Join(parts, "; "), nil
	})
}
