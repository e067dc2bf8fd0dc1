package report

import (
	"fmt"

	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// Adapters for the semaphore package's kinds: mutex, rlock, semaphore,
// condition, event, barrier. Each calls semaphore.InspectX, which loads
// the shared words atomically and writes nothing.

// Lock is the state of a lock word (a mutex, an rlock, the lock of a
// condition, value or array).
type Lock struct {
	Locked bool    `json:"locked"`
	Holder *Holder `json:"holder,omitempty"`
	// Waiters: some process may sleep on the word.
	Waiters bool `json:"waiters"`
	// Consistent is false after a takeover from a dead holder, until the
	// new holder marks the state repaired.
	Consistent bool `json:"consistent"`
	// Recoverable is false once a lock was released while inconsistent:
	// every later Lock fails.
	Recoverable bool   `json:"recoverable"`
	Corrupt     bool   `json:"corrupt,omitempty"`
	Raw         uint64 `json:"raw"`
}

func lockOf(v *shm.View, st semaphore.MutexState) *Lock {
	l := &Lock{Locked: st.Locked, Waiters: st.Waiters, Consistent: st.Consistent,
		Recoverable: st.Recoverable, Corrupt: st.Corrupt, Raw: st.Raw}
	if st.Locked {
		l.Holder = holder(v, st.Holder)
	}
	return l
}

func (l *Lock) String() string {
	switch {
	case l.Corrupt:
		return fmt.Sprintf("corrupt lock word %#x", l.Raw)
	case !l.Recoverable:
		return "not recoverable"
	case !l.Locked:
		return "unlocked"
	}
	s := "locked by " + l.Holder.String()
	if l.Waiters {
		s += ", waiters"
	}
	if !l.Consistent {
		s += ", inconsistent"
	}
	return s
}

// RLock is a recursive lock's state.
type RLock struct {
	Lock
	Depth uint32 `json:"depth"`
}

// Semaphore is a semaphore's state.
type Semaphore struct {
	Value    uint32 `json:"value"`
	Bound    uint32 `json:"bound,omitempty"` // 0: unbounded
	Sleepers uint32 `json:"sleepers"`        // may count killed sleepers
}

// Condition is a condition variable's state.
type Condition struct {
	Waiting  uint32 `json:"waiting"`
	Sleepers uint32 `json:"sleepers"`
	Lock     *Lock  `json:"lock"`
}

// Event is an event's state.
type Event struct {
	Set        bool   `json:"set"`
	Generation uint32 `json:"generation"`
	Sleepers   uint32 `json:"sleepers"`
}

// Barrier is a barrier's state.
type Barrier struct {
	Parties    uint32          `json:"parties"`
	Arrived    uint32          `json:"arrived"`
	Broken     bool            `json:"broken"`
	Generation uint32          `json:"generation"`
	Sleepers   uint32          `json:"sleepers"`
	Members    []BarrierMember `json:"members,omitempty"`
}

// BarrierMember is a process that has waited on the barrier.
type BarrierMember struct {
	Holder
	ArrivedNow bool `json:"arrived_now"` // arrived in the current round
}

func init() {
	register(shm.KindMutex, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := semaphore.InspectMutex(obj)
		if err != nil {
			return nil, "", err
		}
		l := lockOf(v, st)
		return l, l.String(), nil
	})
	register(shm.KindRLock, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := semaphore.InspectRLock(obj)
		if err != nil {
			return nil, "", err
		}
		r := &RLock{Lock: *lockOf(v, st.MutexState), Depth: st.Count}
		sum := r.Lock.String()
		if r.Locked {
			sum = phrases(sum, fmt.Sprintf("depth %d", r.Depth))
		}
		return r, sum, nil
	})
	register(shm.KindSemaphore, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := semaphore.InspectSemaphore(obj)
		if err != nil {
			return nil, "", err
		}
		s := &Semaphore{Value: st.Value, Bound: st.Bound, Sleepers: st.Sleepers}
		sum := fmt.Sprintf("value %d", s.Value)
		if s.Bound != 0 {
			sum += fmt.Sprintf(" (bound %d)", s.Bound)
		}
		return s, phrases(sum, sleeping(s.Sleepers)), nil
	})
	register(shm.KindCondition, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := semaphore.InspectCondition(obj)
		if err != nil {
			return nil, "", err
		}
		c := &Condition{Waiting: st.Waiting, Sleepers: st.Sleepers, Lock: lockOf(v, st.Lock)}
		return c, phrases(fmt.Sprintf("%d waiting", c.Waiting), sleeping(c.Sleepers)) + "; lock: " + c.Lock.String(), nil
	})
	register(shm.KindEvent, func(v *shm.View, obj shm.Object) (any, string, error) {
		st, err := semaphore.InspectEvent(obj)
		if err != nil {
			return nil, "", err
		}
		e := &Event{Set: st.Set, Generation: st.Generation, Sleepers: st.Sleepers}
		sum := "clear"
		if e.Set {
			sum = "set"
		}
		return e, phrases(sum, sleeping(e.Sleepers)), nil
	})
	register(shm.KindBarrier, describeBarrier)
}

func describeBarrier(v *shm.View, obj shm.Object) (any, string, error) {
	st, err := semaphore.InspectBarrier(obj)
	if err != nil {
		return nil, "", err
	}
	b := &Barrier{Parties: st.Parties, Arrived: st.Arrived, Broken: st.Broken,
		Generation: st.Generation, Sleepers: st.Sleepers}
	var dead int
	for _, m := range st.Members {
		h := holder(v, m.ID)
		if !h.Alive {
			dead++
		}
		b.Members = append(b.Members, BarrierMember{Holder: *h, ArrivedNow: m.Arrived})
	}
	broken := ""
	if b.Broken {
		broken = "broken"
	}
	deadMembers := ""
	if dead > 0 {
		deadMembers = fmt.Sprintf("%d of %d members dead", dead, len(b.Members))
	}
	return b, phrases(fmt.Sprintf("%d of %d arrived", b.Arrived, b.Parties),
		fmt.Sprintf("round %d", b.Generation), broken, sleeping(b.Sleepers), deadMembers), nil
}

// sleeping says how many processes are counted asleep, "" for none.
func sleeping(n uint32) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d sleeping", n)
}
