package semaphore

// Heap bytes each kind's object takes, so that a segment can be sized from
// what it will hold (see shm.Heap). MutexSize is the Mutex's.
const (
	RLockSize     = rlockSize
	SemaphoreSize = semSize // Semaphore and BoundedSemaphore
	ConditionSize = condSize
	EventSize     = eventSize
	BarrierSize   = barSize
)
