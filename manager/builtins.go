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

// builtins construct the built-in types from their constructor arguments.
var builtins = map[string]func(s *Server, args [][]byte) (object, error){
	typeDict:             newDictObject,
	typeList:             newListObject,
	typeNamespace:        newNamespaceObject,
	typeQueue:            newQueueObject(false),
	typeJoinableQueue:    newQueueObject(true),
	typeMutex:            newMutexObject,
	typeRLock:            newRLockObject,
	typeSemaphore:        newSemaphoreObject(false),
	typeBoundedSemaphore: newSemaphoreObject(true),
	typeCondition:        newConditionObject,
	typeEvent:            newEventObject,
	typeBarrier:          newBarrierObject,
	typeValue:            newValueObject,
	typeArray:            newArrayObject,
}
