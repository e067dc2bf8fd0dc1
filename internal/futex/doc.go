// Package futex waits and wakes on 32-bit words in memory that several
// processes map (Linux futex(2) without FUTEX_PRIVATE_FLAG).
//
// # Contract
//
// Wait(addr, val, timeout): atomically, if *addr == val, sleep until woken,
// until timeout passes, or spuriously. It returns nil when woken or when *addr
// already differed (EAGAIN), ErrTimeout when the timeout passed, and nil on
// EINTR: a caller always re-checks its condition in a loop, so a spurious
// return is allowed and costs one extra check.
//
// Wake(addr, n) wakes at most n sleepers on addr and says how many it woke.
//
// # Memory ordering
//
// The kernel compares *addr with val under its own lock, after the caller's
// earlier stores are visible, so the classic lost-wake-up race is closed by
// the caller's protocol: a waiter publishes that it sleeps, re-reads the word
// and sleeps only if the word still holds what it saw; a waker changes the
// word first and then decides whether to wake. Go's sync/atomic operations
// are sequentially consistent, which is exactly the store→load ordering that
// this pairing (a Dekker pattern) needs: of "waiter increments sleepers, then
// loads word" and "waker stores word, then loads sleepers", at least one side
// sees the other's store.
//
// # Skipping the wake
//
// A FUTEX_WAKE that finds nobody still costs a system call (~300 ns on a
// KVM guest). Gate pairs a futex word with a count of sleepers so that
// Signal makes no system call while nobody sleeps. A sleeper killed while
// asleep leaves the count one too high; the count carries an epoch, and
// wakers whose wakes keep finding nobody clear it in a new epoch (gate.go).
//
// # One waiter
//
// Every blocking call of the module waits with Gate.Await (await.go): a
// Bound (bound.go) says how long, a Policy (spin.go) how to spin before
// parking, a check hook watches whoever the caller waits for. The
// exceptions say why in their files: semaphore's Mutex (a waiters bit in
// the lock word) and shm's directory lock (no sleepers word).
//
// Shared futexes are keyed by the backing file and offset, so the word may
// sit at a different address in every process that maps it.
package futex
