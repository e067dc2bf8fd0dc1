package semaphore

import "errors"

// Do runs f while holding m: the one shape of an update under a lock that
// a dead holder may have left half done. It locks m, calls f, and unlocks
// m however f ends (a panic goes on after the unlock).
//
// repair is true when the lock was taken over from a holder that died
// holding it (ErrOwnerDead): f must first put right what that holder may
// have left half done. If f then returns nil, Do marks m consistent and
// returns Lock's error, which wraps ErrOwnerDead, so that the caller
// learns a holder died although all went well. If f fails or panics while
// repairing, m is unlocked without MarkConsistent and is not recoverable
// for good (ErrNotRecoverable to every later locker), as a robust mutex
// whose repair failed is: nobody may trust what it guards.
//
// So when f returns nil, Do returns nil or an error for which Acquired is
// true. Otherwise it returns f's error, or Lock's when the lock could not
// be taken (ErrNotRecoverable, a corrupt word) and f did not run. An error
// from Unlock is joined to the result. f must not unlock m.
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
