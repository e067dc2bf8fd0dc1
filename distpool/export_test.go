package distpool

// SetDuplicatePublish makes pools publish every task twice, as a driver
// retrying a publish whose PubAck it missed would, and returns how many
// second publishes the stream reported as duplicates so far.
func SetDuplicatePublish(on bool) { duplicatePublish.Store(on) }

// DuplicatesDropped counts second publishes the stream dropped.
func DuplicatesDropped() int64 { return duplicatesDropped.Load() }

// SetDieAfterAnswer makes hosts of this process SIGKILL themselves after
// publishing a result and before acking its task.
func SetDieAfterAnswer(on bool) { dieAfterAnswer.Store(on) }

// ResultSubject returns the subject the pool's results come on.
func (p *Pool) ResultSubject() string { return p.reply }
