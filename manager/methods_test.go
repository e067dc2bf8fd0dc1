package manager

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkTable calls every fixed-arity method of ms with one argument too
// many, and a name it lacks: both fail before the body runs (o is the
// zero T, a nil pointer the body would dereference).
func checkTable[T any](t *testing.T, typ string, ms methods[T]) {
	t.Helper()
	var o T
	for name, m := range ms {
		if m.args == anyArgs {
			continue
		}
		_, err := ms.call(o, typ, context.Background(), caller{}, name, make([][]byte, m.args+1))
		assert.ErrorIs(t, err, ErrBadArgs, "%s.%s", typ, name)
	}
	_, err := ms.call(o, typ, context.Background(), caller{}, "Nope", nil)
	assert.ErrorIs(t, err, ErrNoMethod, typ)
	assert.ErrorContains(t, err, typ+`: "Nope"`)
}

func TestMethodTablesCheckArityBeforeTheBody(t *testing.T) {
	checkTable(t, "lock", lockMethods)
	checkTable(t, "semaphore", semaphoreMethods)
	checkTable(t, "condition", conditionMethods)
	checkTable(t, "event", eventMethods)
	checkTable(t, "barrier", barrierMethods)
	checkTable(t, "queue", queueMethods)
	checkTable(t, "queue", joinableMethods)
	checkTable(t, "dict", dictMethods)
	checkTable(t, "list", listMethods)
	checkTable(t, "value", valueMethods)
	checkTable(t, "array", arrayMethods)
	checkTable(t, "namespace", namespaceMethods)
}

// Over the wire: a plain Queue has no task count, a lock call needs its
// owner token, and a constructor's argument count is checked too.
func TestBuiltinCallsWithTheWrongShapeFail(t *testing.T) {
	m := startServer(t, "", Options{}).connect(t)
	q, err := NewQueue[int](m, 0)
	require.NoError(t, err)
	_, err = q.r.do("TaskDone")
	assert.ErrorIs(t, err, ErrNoMethod)
	mu, err := NewMutex(m)
	require.NoError(t, err)
	_, err = mu.r.do("Lock")
	assert.ErrorIs(t, err, ErrBadArgs)
	_, err = m.create(typeMutex, [][]byte{intArg(1)}, nil)
	assert.ErrorIs(t, err, ErrBadArgs)
}
