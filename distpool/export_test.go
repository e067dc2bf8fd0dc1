package distpool

// SetDuplicatePublish makes pools publish every task twice, as a driver
// retrying a publish whose PubAck it missed would, and returns how many
// second publishes the stream reported as duplicates so far.
func SetDuplicatePublish(on bool) { duplicatePublish.Store(on) }

// DuplicatesDropped counts second publishes the stream dropped.
func DuplicatesDropped() int64 { return duplicatesDropped.Load() }
