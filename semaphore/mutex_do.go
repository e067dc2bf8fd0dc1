package semaphore

import "errors"

// Do runs f while holding m: the shape of every update under a lock that a
// dead holder may have left half done. It locks m and calls f; repair is
// true when the lock was taken over from a holder that died holding it
// (ErrOwnerDead), and f must then put right what that holder may have left
// half done before doing its own work. m is unlocked however Do ends.
//
// Do returns what f returns, with these exceptions. If the lock cannot be
// taken (ErrNotRecoverable, a corrupt word), f does not run and Do returns
// Lock's error. If f repaired (repair was true and f returned nil), Do
// marks m consistent and returns Lock's error, which wraps ErrOwnerDead, so
// that the caller learns a holder died even though all went well; use
// Acquired(err) to tell that f ran. If f fails or panics while repairing,
// m is unlocked without MarkConsistent and stays not recoverable for good
// (ErrNotRecoverable to every later locker), as a robust mutex whose
// repair failed does. An error from Unlock is joined to the result.
//
// f runs on the calling goroutine and must not lock or unlock m itself.
func (m *Mutex) Do(f func(repair bool) error) (err error) {
	lockErr := m.Lock()
	repair := lockErr != nil
	if repair && !Acquired(lockErr) {
		return lockErr
	}
	defer func() {
		if uerr := m.Unlock(); uerr != nil {
			err = errors.Join(err, uerr)
		}
	}()
	if err := f(repair); err != nil {
		return err
	}
	if repair {
		if err := m.MarkConsistent(); err != nil {
			return err
		}
	}
	return lockErr
}
