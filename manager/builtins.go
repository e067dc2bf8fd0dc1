package manager

// Wire names of the built-in types. A registered type may not take one.
const (
	typeDict             = "dict"
	typeList             = "list"
	typeNamespace        = "namespace"
	typeQueue            = "queue"
	typeJoinableQueue    = "joinable-queue"
	typeMutex            = "mutex"
	typeRLock            = "rlock"
	typeSemaphore        = "semaphore"
	typeBoundedSemaphore = "bounded-semaphore"
	typeCondition        = "condition"
	typeEvent            = "event"
	typeBarrier          = "barrier"
	typeValue            = "value"
	typeArray            = "array"
)

// builtins construct the built-in types from their constructor arguments,
// whose count construct checks (as methods.call does a method's).
var builtins = map[string]builtin{
	typeDict:             {anyArgs, newDictObject}, // key, value pairs
	typeList:             {anyArgs, newListObject},
	typeNamespace:        {anyArgs, newNamespaceObject}, // name, value pairs
	typeQueue:            {1, newQueueObject(false)},
	typeJoinableQueue:    {1, newQueueObject(true)},
	typeMutex:            {0, newMutexObject},
	typeRLock:            {0, newRLockObject},
	typeSemaphore:        {1, newSemaphoreObject(false)},
	typeBoundedSemaphore: {1, newSemaphoreObject(true)},
	typeCondition:        {1, newConditionObject},
	typeEvent:            {0, newEventObject},
	typeBarrier:          {1, newBarrierObject},
	typeValue:            {1, newValueObject},
	typeArray:            {anyArgs, newArrayObject},
}

type builtin struct {
	args int // exact constructor argument count, or anyArgs
	make func(s *Server, args [][]byte) (object, error)
}
