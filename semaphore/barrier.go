package semaphore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/multiproc-go/multiproc/internal/futex"
	"github.com/multiproc-go/multiproc/shm"
)

// A Barrier's object:
//
//	 0  state     uint64, changed by CAS only:
//	                bits  0..14  count: arrivals this round (== parties
//	                             while the last arrival runs the action)
//	                bit  15      broken
//	                bits 16..31  generation: the round, mod 2^16
//	                bits 32..63  history: bit (g mod 32) says how round g
//	                             ended, 1 broken (by Reset), 0 released
//	 8  sleepers  uint32: the gate's sleepers word (epoch | count)
//	12  parties   uint32, written before publication, never changed
//	16  actionBy  uint64: ID (shm.Segment.Self) of the process running
//	              the action | (its round mod 2^12) << 52
//	24  cause     uint32: why the barrier broke, for error messages: a
//	              cause code << 24 | the short ID of the dead participant
//	28  seq       uint32: the gate's futex word (futex.Gate); every change
//	              of state that a waiter waits for signals it
//	64  members   [64]{ID uint64, arrival uint64}: processes that have
//	              waited here, arrival = generation | 1<<16 of the latest
//
// A round: each arrival takes index count by CAS count → count+1. The
// last (count+1 == parties) runs the action and then, by one CAS, clears
// the round's history bit, zeroes count and moves the generation on; then
// it wakes the sleepers. A waiter sleeps until the generation moves (and
// reads the history bit of its round to know whether it was released or
// reset) or the broken bit appears in its generation. Abort, a timeout, a
// cancelled context, a failing action and a dead participant all set the
// broken bit by CAS on the current generation, so they cannot break a
// round that was already released. Reset moves a round on as broken.
// History and state change in one CAS, so a waiter can never read a
// release as a reset or the other way round — as long as it looks within
// 32 rounds of its own, which a waiter does unless descheduled that long.
//
// Dead participants. A process that waits registers itself in members and
// records there the round of each arrival. Members and the action runner
// are named by ID, which no other process is ever given, so a dead one can
// never pass for a live newcomer. A waiter asleep for
// barrierCheckEvery checks every member that has not arrived in the
// current round; if one has died (seg.Alive), it forgets that member and
// breaks the round. It also checks the process running the action. So a
// waiter is not left hanging by a process that has waited on this barrier
// before and died (SIGKILL or not) before arriving again, or that died
// running the action. Not detected: a process that dies before its first
// Wait (it never became a member), a live process that stops coming (use
// timeouts), and more members than the table holds. A process that
// leaves a barrier for good should call Leave first, or its exit breaks
// the next round it does not arrive at.
//
// The last arrival records itself as the runner, with its round, before it
// records its arrival, so there is no instant at which it could die unseen:
// until actionBy carries the current round, the runner is a member that
// has not recorded this round's arrival, and such a member found dead
// breaks the round (missingDead) as one that never came would.
const (
	barStateOff    = 0
	barSleepersOff = 8
	barPartiesOff  = 12
	barActionByOff = 16
	barCauseOff    = 24
	barSeqOff      = 28
	barMembersOff  = 64
	barMaxMembers  = 64
	barSize        = barMembersOff + 16*barMaxMembers

	actionRoundShift = shm.IDBits
	actionRoundMask  = 1<<(64-shm.IDBits) - 1

	barCountMask = 1<<15 - 1
	barBroken    = 1 << 15
	barGenShift  = 16

	// MaxParties is the largest number of parties a Barrier can have.
	MaxParties = barCountMask

	memberArrived = 1 << 16 // in the generation half of a member entry

	barrierCheckEvery = 50 * time.Millisecond
)

// Why a barrier broke (the cause word's top byte).
const (
	causeNone = iota
	causeAbort
	causeGaveUp // a waiter timed out or its context ended
	causeAction // the action failed or panicked
	causeDead   // a participant died; the low bits are its short ID
	causeReset

	causeShift = 24
)

var causeText = [...]string{
	causeAbort:  "aborted",
	causeGaveUp: "a waiter timed out or was cancelled",
	causeAction: "the action failed",
	causeDead:   "", // formatted with the tag
	causeReset:  "reset",
}

// A Barrier makes parties callers, in any processes, wait for each other,
// Python's multiprocessing.Barrier. Each Wait returns the caller's arrival
// index, 0 for the first, parties-1 for the last. The last arrival runs
// the action, if any, before anyone is released.
//
// The action is a Go func and cannot cross processes: each handle carries
// its own (NewBarrier, OpenBarrier, SetAction), and the action that runs
// is the one of the handle that arrives last in the round; a handle
// without one runs none. Give every participant the same action, or only
// one that you make sure arrives last.
//
// A *Barrier is a handle, safe for concurrent use; it crosses to a child
// process as a procs argument (without an action: see SetAction).
type Barrier struct {
	state    *uint64
	word     *uint32    // the low half of state
	sleepers futex.Gate // the gate over seq and the sleepers word
	actionBy *uint64
	cause    *uint32
	members  *[barMaxMembers]barMember
	parties  uint32
	action   atomic.Pointer[func() error]
	slot     atomic.Int32 // this process's members slot, -1 when unknown
	self     uint64
	name     string
	seg      *shm.Segment

	shm.Attachment // what GobDecode attached; Detach releases it
}

// NewBarrier creates a barrier for parties callers (1..MaxParties) named
// name in seg, with an optional action (nil for none).
func NewBarrier(seg *shm.Segment, name string, parties int, action func() error) (*Barrier, error) {
	if parties < 1 || parties > MaxParties {
		return nil, fmt.Errorf("barrier %q: create: %w: %d parties (1..%d)", name, ErrInvalid, parties, MaxParties)
	}
	obj, err := seg.Create(shm.Spec{Name: name, Kind: shm.KindBarrier, Size: barSize}, func(mem []byte) error {
		putU32(mem[barPartiesOff:], uint32(parties))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("barrier %q: create: %w", name, err)
	}
	return barrierAt(obj, action)
}

// OpenBarrier opens the barrier named name in seg, with this handle's
// action (nil for none).
func OpenBarrier(seg *shm.Segment, name string, action func() error) (*Barrier, error) {
	obj, err := seg.OpenObject(name, shm.KindBarrier, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("barrier %q: open: %w", name, err)
	}
	return barrierAt(obj, action)
}

func barrierAt(obj shm.Object, action func() error) (*Barrier, error) {
	if obj.Size < barSize {
		return nil, fmt.Errorf("barrier %q: open: %w: %d bytes", obj.Name, shm.ErrCorrupt, obj.Size)
	}
	parties := atomic.LoadUint32(obj.Uint32(barPartiesOff))
	if parties < 1 || parties > MaxParties {
		return nil, fmt.Errorf("barrier %q: open: %w: %d parties", obj.Name, shm.ErrCorrupt, parties)
	}
	state := obj.Uint64(barStateOff)
	b := &Barrier{
		state:    state,
		word:     lowHalf(state),
		sleepers: gateAt(obj, barSeqOff, barSleepersOff),
		actionBy: obj.Uint64(barActionByOff),
		cause:    obj.Uint32(barCauseOff),
		members:  (*[barMaxMembers]barMember)(obj.Pointer(barMembersOff)),
		parties:  parties,
		self:     obj.Segment().Self(),
		name:     obj.Name,
		seg:      obj.Segment(),
	}
	b.slot.Store(-1)
	b.SetAction(action)
	return b, nil
}

// lowHalf returns the 32-bit word holding the low bits of *p.
func lowHalf(p *uint64) *uint32 {
	one := uint64(1)
	if *(*byte)(unsafe.Pointer(&one)) == 1 { // little-endian
		return (*uint32)(unsafe.Pointer(p))
	}
	return (*uint32)(unsafe.Add(unsafe.Pointer(p), 4))
}

func barGen(lo uint32) uint32   { return lo >> barGenShift }
func barCount(lo uint32) uint32 { return lo & barCountMask }
func histBit(g uint32) uint64   { return 1 << (32 + g%32) }

// SetAction replaces this handle's action (nil for none).
func (b *Barrier) SetAction(action func() error) {
	if action == nil {
		b.action.Store(nil)
		return
	}
	b.action.Store(&action)
}

// Name returns the barrier's name.
func (b *Barrier) Name() string { return b.name }

// Parties returns how many callers a round needs.
func (b *Barrier) Parties() int { return int(b.parties) }

// NWaiting returns how many callers wait in the current round (a snapshot).
func (b *Barrier) NWaiting() int {
	lo := atomic.LoadUint32(b.word)
	if lo&barBroken != 0 || barCount(lo) >= b.parties {
		return 0
	}
	return int(barCount(lo))
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool { return atomic.LoadUint32(b.word)&barBroken != 0 }

// Wait waits until parties callers have called Wait, and returns this
// caller's arrival index. It returns ErrBrokenBarrier (wrapped) if the
// barrier is or becomes broken while it waits.
func (b *Barrier) Wait() (int, error) { return b.wait(futex.Block()) }

// TryWait passes the barrier only if that needs no wait: when this
// caller is the round's last arrival, it arrives, runs the action and
// releases the others, as Wait would; otherwise it returns ErrWouldBlock
// (wrapped) and changes nothing. Python has no such form: its wait(0)
// times out and breaks the barrier for everyone, which WaitTimeout(0)
// does here.
func (b *Barrier) TryWait() (int, error) { return b.wait(futex.NoWait()) }

// WaitContext is Wait that, when ctx ends, breaks the barrier for every
// waiter and returns ErrBrokenBarrier wrapping ctx.Err().
func (b *Barrier) WaitContext(ctx context.Context) (int, error) {
	return b.wait(futex.WithContext(ctx))
}

// WaitTimeout is Wait that, after d, breaks the barrier for every waiter
// and returns ErrBrokenBarrier wrapping ErrTimeout (Python's semantics).
func (b *Barrier) WaitTimeout(d time.Duration) (int, error) { return b.wait(timeoutBound(d)) }

// brokenErr is ErrBrokenBarrier with this caller's cause, or else the
// cause the breaker left in shared memory.
func (b *Barrier) brokenErr(cause error) error {
	if cause == nil {
		switch c := atomic.LoadUint32(b.cause); {
		case c>>causeShift == causeDead:
			cause = fmt.Errorf("participant %#x died", c&(1<<causeShift-1))
		case c>>causeShift != causeNone && c>>causeShift < uint32(len(causeText)):
			cause = fmt.Errorf("%s", causeText[c>>causeShift])
		default:
			return fmt.Errorf("barrier %q: wait: %w", b.name, ErrBrokenBarrier)
		}
	}
	return fmt.Errorf("barrier %q: wait: %w: %w", b.name, ErrBrokenBarrier, cause)
}

// wait is every Wait form.
func (b *Barrier) wait(bd futex.Bound) (int, error) {
	var g, idx uint32
	broken := false
	// Arrive. The last arrival of the round runs the action: a caller
	// that finds the round full waits for the next one to open (Python's
	// _enter). It has not joined a round, so giving up breaks nothing. A
	// NoWait caller arrives only as the last.
	arrive := func() bool {
		for {
			s := atomic.LoadUint64(b.state)
			lo := uint32(s)
			if lo&barBroken != 0 {
				broken = true
				return true
			}
			c := barCount(lo)
			if c >= b.parties || (bd.Try() && c+1 != b.parties) {
				return false
			}
			if atomic.CompareAndSwapUint64(b.state, s, s+1) {
				g, idx = barGen(lo), c
				return true
			}
		}
	}
	var check every
	err := b.sleepers.Await(bd, futex.Waiter{Policy: futex.Brief, Ready: arrive,
		Check: func() (bool, time.Duration) {
			// Slept a slice already: is the action's runner still alive?
			if check.due(barrierCheckEvery) {
				lo := atomic.LoadUint32(b.word)
				if dead, tag := b.missingDead(barGen(lo), lo); dead {
					b.breakRound(barGen(lo), causeDead<<causeShift|shm.Short(tag))
					return true, 0
				}
			}
			return false, barrierCheckEvery
		}})
	if err != nil {
		return 0, waitErr("barrier", b.name, "wait", err)
	}
	if broken {
		return 0, b.brokenErr(nil)
	}
	if idx+1 == b.parties {
		// Runner first, arrival second: see "Dead participants".
		atomic.StoreUint64(b.actionBy, b.self|uint64(g&actionRoundMask)<<actionRoundShift)
		b.arrived(g)
		return int(idx), b.release(g)
	}
	b.arrived(g)
	return int(idx), b.await(bd, g)
}

// release runs the action and opens the next round, as the last arrival
// of round g.
func (b *Barrier) release(g uint32) error {
	if f := b.action.Load(); f != nil {
		if err := b.runAction(*f, g); err != nil {
			return b.brokenErr(fmt.Errorf("action: %w", err))
		}
	}
	for {
		s := atomic.LoadUint64(b.state)
		lo := uint32(s)
		if barGen(lo) != g || lo&barBroken != 0 {
			return b.brokenErr(nil) // aborted or reset while the action ran
		}
		next := (s>>32)<<32&^histBit(g) | uint64((g+1)&(1<<16-1))<<barGenShift
		if atomic.CompareAndSwapUint64(b.state, s, next) {
			break
		}
	}
	b.sleepers.SignalAll()
	return nil
}

// runAction runs the action, breaking round g if it fails or panics (the
// panic goes on up, as Python's exception does).
func (b *Barrier) runAction(f func() error, g uint32) (err error) {
	ok := false
	defer func() {
		if !ok {
			b.breakRound(g, causeAction<<causeShift)
		}
	}()
	err = f()
	ok = err == nil
	return err
}

// await waits, as an arrival of round g, for the round to end.
func (b *Barrier) await(bd futex.Bound, g uint32) error {
	ended := func() bool {
		lo := atomic.LoadUint32(b.word)
		return barGen(lo) != g || lo&barBroken != 0
	}
	var check every
	var died error
	err := b.sleepers.Await(bd, futex.Waiter{Policy: futex.Brief, Ready: ended,
		Check: func() (bool, time.Duration) {
			if check.due(barrierCheckEvery) {
				lo := atomic.LoadUint32(b.word)
				if dead, tag := b.missingDead(g, lo); dead {
					b.breakRound(g, causeDead<<causeShift|shm.Short(tag))
					died = fmt.Errorf("participant %#x died", tag)
					return true, 0
				}
			}
			return false, barrierCheckEvery
		}})
	if err != nil {
		// Python: a waiter that gives up breaks the barrier, unless the
		// round was released first.
		b.breakRound(g, causeGaveUp<<causeShift)
		if s := atomic.LoadUint64(b.state); barGen(uint32(s)) != g && s&histBit(g) == 0 {
			return nil
		}
		return b.brokenErr(err)
	}
	s := atomic.LoadUint64(b.state)
	if barGen(uint32(s)) != g {
		if s&histBit(g) != 0 {
			return b.brokenErr(nil) // reset
		}
		return nil
	}
	return b.brokenErr(died)
}

// breakRound sets the broken bit, recording cause, if round g is still
// current and unbroken. The cause is stored first so that woken waiters
// find it; a breaker that loses the race may overwrite it with its own,
// which only changes the message.
func (b *Barrier) breakRound(g, cause uint32) {
	for {
		s := atomic.LoadUint64(b.state)
		lo := uint32(s)
		if barGen(lo) != g || lo&barBroken != 0 {
			return
		}
		atomic.StoreUint32(b.cause, cause)
		if atomic.CompareAndSwapUint64(b.state, s, s|barBroken) {
			break
		}
	}
	b.sleepers.SignalAll()
}

// Abort breaks the barrier: every current and future waiter gets
// ErrBrokenBarrier until Reset.
func (b *Barrier) Abort() {
	for {
		s := atomic.LoadUint64(b.state)
		if uint32(s)&barBroken != 0 {
			break
		}
		atomic.StoreUint32(b.cause, causeAbort<<causeShift)
		if atomic.CompareAndSwapUint64(b.state, s, s|barBroken) {
			break
		}
	}
	b.sleepers.SignalAll()
}

// Reset returns the barrier to its empty, unbroken state. Callers waiting
// in the current round get ErrBrokenBarrier.
func (b *Barrier) Reset() {
	for {
		s := atomic.LoadUint64(b.state)
		lo := uint32(s)
		if lo&(1<<barGenShift-1) == 0 {
			return // nobody waits, not broken: already reset
		}
		g := barGen(lo)
		next := (s>>32)<<32 | histBit(g) | uint64((g+1)&(1<<16-1))<<barGenShift
		atomic.StoreUint32(b.cause, causeReset<<causeShift)
		if atomic.CompareAndSwapUint64(b.state, s, next) {
			break
		}
	}
	b.sleepers.SignalAll()
}
