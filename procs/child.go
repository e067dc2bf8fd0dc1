package procs

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
	"golang.org/x/sys/unix"
)

// The parent tells a child what to run through its environment and hands
// it descriptors at fixed numbers (exec.Cmd.ExtraFiles entry i becomes
// descriptor 3+i):
//
//	3        the argument, gob bytes, read to EOF
//	4        the report, written once at the end
//	5...     segments the argument names (MULTIPROC_SEGMENTS of them)
//	then     other descriptors the argument holds (MULTIPROC_FILES of
//	         them, see shm.Export), in export index order
const (
	envFunc     = "MULTIPROC_FUNC"     // registered function to run; its presence marks a child
	envName     = "MULTIPROC_NAME"     // the process's name
	envSegments = "MULTIPROC_SEGMENTS" // how many segment descriptors follow the report's
	envDaemon   = "MULTIPROC_DAEMON"   // "1" for a daemon child
	envFiles    = "MULTIPROC_FILES"    // how many other descriptors follow the segments'

	// The segments' names, '/'-separated, "" for an anonymous one: /proc
	// shows a created segment under its O_TMPFILE "#<inode>" (shm.InheritNamed).
	envSegmentNames = "MULTIPROC_SEGMENT_NAMES"

	fdArg      = 3
	fdReport   = 4
	fdSegments = 5
)

// report is what a child sends back: its result, or why there is none.
type report struct {
	Result   []byte
	Err      string
	Panicked bool
}

// Main must be the first statement of main (and of TestMain). In the
// parent it returns at once, after one environment lookup. In a child
// started by Start it runs the registered function and exits: 0 on success,
// 1 when the function returns an error or panics (the panic and its stack go
// to the child's stderr, as an unrecovered panic's would).
func Main() {
	mainRan.Store(true)
	name, ok := os.LookupEnv(envFunc)
	if !ok {
		return
	}
	code := runChild(name)
	// A normal end, whatever the function returned: give the participant
	// entries back so that only a crash leaves a dead one (shm.LeaveAll).
	shm.LeaveAll()
	os.Exit(code)
}

// mainRan records that Main was called: a child in which it was not is
// running its parent's main instead of its function (see noMain).
var mainRan atomic.Bool

// ErrNoMain: Start was called in a child process whose main did not call
// Main first.
var ErrNoMain = errors.New("procs: this process was started by procs.Start but its main never called procs.Main(); " +
	"make procs.Main() the first statement of main (in tests, of a TestMain)")

// noMain stops a child that runs its parent's main because Main was not
// its first statement. Such a child would start children of its own, each
// doing the same: a self-spawning program. So Start in it does not return:
// the error goes to stderr and, as the child's report, to the parent (its
// Join's *ExitError carries it), and the child exits with code 2 however
// the caller would have handled an error. That also ends the second run
// of the parent's main, which is doing the parent's work a second time.
func noMain() {
	fmt.Fprintln(os.Stderr, ErrNoMain)
	var st unix.Stat_t
	// Descriptor 4 is the report pipe in a child that never ran Main (Main
	// would have taken it); check that it is a pipe before writing to it.
	if unix.Fstat(fdReport, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		out := os.NewFile(fdReport, "report")
		_ = gob.NewEncoder(out).Encode(report{Err: ErrNoMain.Error()})
		_ = out.Close()
	}
	// An exit, not a crash: give back any participant entries this second
	// run of main attached before it called Start.
	shm.LeaveAll()
	os.Exit(2)
}

var current = struct {
	sync.Once
	info Info
}{}

func runChild(fname string) int {
	// Our own descriptors must not leak into processes this child starts.
	unix.CloseOnExec(fdArg)
	unix.CloseOnExec(fdReport)
	out := os.NewFile(fdReport, "report")
	send := func(r report) {
		_ = gob.NewEncoder(out).Encode(r)
		_ = out.Close()
	}
	fail := func(format string, args ...any) int {
		msg := fmt.Sprintf(format, args...)
		fmt.Fprintln(os.Stderr, msg)
		send(report{Err: msg})
		return 1
	}
	// What the environment says is read once, then the protocol's
	// variables go: a program this child runs with os/exec (a procs program
	// itself, perhaps) must not take itself for a child of ours.
	Current()
	parentPid, _ = strconv.Atoi(os.Getenv(envParent))
	segsEnv, filesEnv, namesEnv := os.Getenv(envSegments), os.Getenv(envFiles), os.Getenv(envSegmentNames)
	for _, k := range []string{envFunc, envName, envSegments, envDaemon, envFiles, envSegmentNames, envParent} {
		_ = os.Unsetenv(k)
	}
	n, err := strconv.Atoi(segsEnv)
	if err != nil || n < 0 || n > 1<<16 {
		return fail("procs: child: bad %s=%q", envSegments, segsEnv)
	}
	nf, err := strconv.Atoi(filesEnv)
	if err != nil || nf < 0 || nf > 1<<16 {
		return fail("procs: child: bad %s=%q", envFiles, filesEnv)
	}
	names := strings.Split(namesEnv, "/")
	if n == 0 {
		names = nil
	}
	if len(names) != n {
		return fail("procs: child: %d segment names in %s for %d segments", len(names), envSegmentNames, n)
	}
	closeUnnamed(fdSegments + n + nf - 1)
	for i := range n {
		// Attached for the child's lifetime: the argument's handles name them.
		if _, err := shm.InheritNamed(uintptr(fdSegments+i), names[i]); err != nil {
			return fail("procs: child: %v", err)
		}
	}
	// Other inherited descriptors (shm.Export): recorded before the
	// argument is decoded, which takes them back by index.
	shm.InheritFiles(uintptr(fdSegments+n), nf)
	run, ok := lookupFunc(fname)
	if !ok {
		return fail("procs: child: no function registered as %q (Register at package level, Main first in main)", fname)
	}
	in := os.NewFile(fdArg, "argument")
	arg, err := io.ReadAll(in)
	_ = in.Close()
	if err != nil {
		return fail("procs: child: reading the argument: %v", err)
	}
	res, err, panicked := call(run, arg)
	// Leave before reporting: whoever learns that the function is done
	// finds its entries already given back.
	shm.LeaveAll()
	switch {
	case panicked:
		send(report{Err: err.Error(), Panicked: true})
		return 1
	case err != nil:
		send(report{Err: err.Error()})
		return 1
	}
	send(report{Result: res})
	return 0
}

// call runs the function, turning a panic into an error after printing it
// with its stack, as the runtime would have.
func call(run runner, arg []byte) (res []byte, err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			var stack bytes.Buffer
			fmt.Fprintf(&stack, "panic: %v\n\n%s", v, debug.Stack())
			os.Stderr.Write(stack.Bytes())
			res, err, panicked = nil, fmt.Errorf("%v", v), true
		}
	}()
	res, err = run(arg)
	return res, err, false
}

// Info describes a process.
type Info struct {
	Name   string
	Pid    int
	PPid   int
	Daemon bool
	Child  bool // started by procs.Start
}

// Current describes the calling process: in a child, the name it was
// started under; in a program's first process, "MainProcess".
func Current() Info {
	current.Do(func() {
		name, child := os.LookupEnv(envName)
		if !child {
			name = "MainProcess"
		}
		current.info = Info{Name: name, Pid: os.Getpid(), PPid: 0,
			Daemon: os.Getenv(envDaemon) == "1", Child: child}
	})
	info := current.info
	info.PPid = os.Getppid() // the parent may have died since
	return info
}
