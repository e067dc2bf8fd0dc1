package ringqueue_test

import (
	"errors"
	"fmt"
	. "github.com/multiproc-go/multiproc/ringqueue"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/shm"
)

// Child processes of the cross-process tests. Each is registered at
// package level so that the re-executed test binary finds it.

// victimBatch is the batch size of victims that put batches.
const victimBatch = 64

// workArg is what a producer or consumer child gets.
type workArg struct {
	Q      *Queue
	ID     int
	From   int // first seq (producers)
	Count  int // messages to put (producers); 0 = until killed (or Limit)
	Limit  int // with Count 0: seq numbers stay below Limit
	Ledger string
	// Progress, if set, names a shared word object where the child counts
	// what it has done, so the parent can act at a chosen point.
	Progress string
}

func progressWord(seg *shm.Segment, name string, id int) (*uint64, error) {
	if name == "" {
		return new(uint64), nil
	}
	obj, err := seg.Lookup(name)
	if err != nil {
		return nil, err
	}
	return obj.Uint64(uintptr(id) * 8), nil
}

var (
	// produceChild puts messages [From, From+Count) of producer ID.
	produceChild = procs.Register("ringqueue-test-produce", func(a workArg) (int, error) {
		defer a.Q.Detach()
		prog, err := progressWord(a.Q.Segment(), a.Progress, a.ID)
		if err != nil {
			return 0, err
		}
		if a.Count == 0 {
			// Until killed: count progress so the parent can kill at a
			// random point. Odd IDs put one message at a time; even IDs
			// put batches of victimBatch, whose slots stay claimed while
			// the batch is filled: a kill then lands mid-claim with good
			// odds.
			buf := make([]byte, testMsgMax)
			for s := a.From; ; {
				if s+victimBatch > a.Limit {
					waitToBeKilled() // the ledger's range is used up
				}
				if a.ID%2 == 1 {
					m := encodeTestMsg(buf, uint32(a.ID), uint32(s))
					if err := a.Q.Put(buf[:m]); err != nil {
						return s - a.From, err
					}
					s++
					atomic.AddUint64(prog, 1)
					continue
				}
				k, err := a.Q.PutBatchFunc(victimBatch, func(i int, slot []byte) int {
					return encodeTestMsg(slot, uint32(a.ID), uint32(s+i))
				})
				s += k
				atomic.AddUint64(prog, uint64(k))
				if err != nil {
					return s - a.From, err
				}
			}
		}
		if err := produceTest(a.Q, uint32(a.ID), a.Count); err != nil {
			return 0, err
		}
		return a.Count, nil
	})

	// consumeChild gets until the queue is closed and records messages in
	// the ledger.
	consumeChild = procs.Register("ringqueue-test-consume", func(a workArg) (int, error) {
		defer a.Q.Detach()
		l, err := openLedger(a.Q.Segment(), a.Ledger)
		if err != nil {
			return 0, err
		}
		return consumeTest(a.Q, l, a.ID)
	})

	// dieMidPut reserves a slot, writes half a message, counts progress,
	// and kills itself with SIGKILL: a claim whose claimant is dead.
	dieMidPut = procs.Register("ringqueue-test-die-mid-put", func(a workArg) (int, error) {
		prog, err := progressWord(a.Q.Segment(), a.Progress, a.ID)
		if err != nil {
			return 0, err
		}
		r, err := a.Q.Reserve(testMsgMax)
		if err != nil {
			return 0, err
		}
		n := encodeTestMsg(r.Bytes(), uint32(a.ID), uint32(a.From))
		clear(r.Bytes()[n/2:])
		atomic.AddUint64(prog, 1)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		waitToBeKilled()
		return 0, nil
	})

	// dieMidGet takes a message without releasing it, reports its seq in
	// the progress word (+1), and kills itself with SIGKILL.
	dieMidGet = procs.Register("ringqueue-test-die-mid-get", func(a workArg) (int, error) {
		prog, err := progressWord(a.Q.Segment(), a.Progress, a.ID)
		if err != nil {
			return 0, err
		}
		m, err := a.Q.Take()
		if err != nil {
			return 0, err
		}
		_, seq, err := decodeTestMsg(m.Bytes())
		if err != nil {
			return 0, err
		}
		atomic.StoreUint64(prog, uint64(seq)+1)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		waitToBeKilled()
		return 0, nil
	})

	// blockedGet blocks in Get on an empty queue and reports what it got.
	blockedGet = procs.Register("ringqueue-test-blocked-get", func(a workArg) (string, error) {
		defer a.Q.Detach()
		buf := make([]byte, a.Q.SlotSize())
		_, err := a.Q.Get(buf)
		return errString(err), nil
	})

	// blockedPut blocks in Put on a full queue and reports what it got.
	blockedPut = procs.Register("ringqueue-test-blocked-put", func(a workArg) (string, error) {
		defer a.Q.Detach()
		err := a.Q.Put([]byte("blocked"))
		return errString(err), nil
	})

	// openByName opens a named segment and the queue in it by name, puts
	// one message and gets one; it reports the message it got.
	openByName = procs.Register("ringqueue-test-open-by-name", func(names [2]string) (string, error) {
		seg, err := shm.Open(names[0])
		if err != nil {
			return "", err
		}
		defer seg.Detach()
		q, err := Open(seg, names[1])
		if err != nil {
			return "", err
		}
		if err := q.Put([]byte("from child")); err != nil {
			return "", err
		}
		buf := make([]byte, q.SlotSize())
		n, err := q.GetTimeout(buf, 30*time.Second)
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	})

	// holdRole takes an SPSC queue's producer role (one put), reports
	// ready through the progress word and waits until killed.
	holdRole = procs.Register("ringqueue-test-hold-role", func(a workArg) (int, error) {
		prog, err := progressWord(a.Q.Segment(), a.Progress, a.ID)
		if err != nil {
			return 0, err
		}
		if err := a.Q.Put([]byte("held")); err != nil {
			return 0, err
		}
		atomic.StoreUint64(prog, 1)
		waitToBeKilled()
		return 0, nil
	})
)

func errString(err error) string {
	switch {
	case err == nil:
		return "nil"
	case errors.Is(err, ErrClosed):
		return "closed"
	default:
		return fmt.Sprintf("other: %v", err)
	}
}

// waitToBeKilled blocks until the process is killed. (A bare select{}
// would not do: with every goroutine blocked the runtime reports a
// deadlock and exits.)
func waitToBeKilled() {
	for {
		time.Sleep(time.Hour)
	}
}
