package procs

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/multiproc-go/multiproc/shm"
)

// An Option configures a process before it starts.
type Option func(*options)

type options struct {
	name           string
	daemon         bool
	stdout, stderr io.Writer
	env            []string
}

// WithName names the process (default "Process-N", as Python numbers them).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithDaemon makes the child a daemon: it is killed (SIGKILL) when this
// process ends, however it ends, SIGKILL included.
func WithDaemon(daemon bool) Option { return func(o *options) { o.daemon = daemon } }

// WithStdout sends the child's standard output to w (default: this
// process's standard output). A non-*os.File writer costs a goroutine.
func WithStdout(w io.Writer) Option { return func(o *options) { o.stdout = w } }

// WithStderr sends the child's standard error to w (default: this process's).
func WithStderr(w io.Writer) Option { return func(o *options) { o.stderr = w } }

// WithEnv adds "KEY=value" entries to the child's environment, which is
// otherwise this process's.
func WithEnv(kv ...string) Option { return func(o *options) { o.env = append(o.env, kv...) } }

var processCount atomic.Int64

// Start starts a child process that runs f(arg) and returns at once.
//
// The child is this program's binary started again (/proc/self/exe); Main,
// first in its main, finds f by name and runs it. It inherits standard
// output and error, the environment, and exactly these descriptors: its
// argument pipe, its report pipe and one descriptor per segment that the
// argument names (shared objects in arg re-attach in the child by them).
// Nothing else crosses: Main, in the child, closes any other descriptor
// that reached it because this process held it without close-on-exec (a
// raw syscall.Open, or what the shell passed in).
//
// In a child whose main did not call Main first, Start does not return:
// it prints ErrNoMain, reports it to its parent and exits with code 2, so
// that a program missing Main cannot spawn copies of itself without end.
func Start[A, R any](f *Func[A, R], arg A, opts ...Option) (*Process, error) {
	if _, child := os.LookupEnv(envFunc); child && !mainRan.Load() {
		noMain()
	}
	if f == nil {
		return nil, fmt.Errorf("procs: Start with a nil Func")
	}
	o := options{stdout: os.Stdout, stderr: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	n := processCount.Add(1)
	if o.name == "" {
		o.name = "Process-" + strconv.FormatInt(n, 10)
	}
	var argBytes bytes.Buffer
	// Besides segments, the argument may hold descriptors of its own (a
	// pipe's Conn registers its socket with shm.ExportFile); they follow the
	// segments, MULTIPROC_FILES of them.
	segs, files, err := shm.Export(func() error { return gob.NewEncoder(&argBytes).Encode(box[A]{arg}) })
	if err != nil {
		return nil, fmt.Errorf("procs: %s: encoding the argument: %w", o.name, err)
	}
	defer func() {
		for _, s := range segs {
			_ = s.Detach()
		}
		for _, f := range files {
			_ = f.Close()
		}
	}()
	return startChild(f.name, argBytes.Bytes(), segs, files, o)
}

func childEnv(fname string, o options, nsegs int) []string {
	env := make([]string, 0, len(os.Environ())+len(o.env)+4)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MULTIPROC_") {
			env = append(env, kv)
		}
	}
	env = append(env, o.env...)
	daemon := "0"
	if o.daemon {
		daemon = "1"
	}
	return append(env, envFunc+"="+fname, envName+"="+o.name, envParent+"="+strconv.Itoa(os.Getpid()),
		envSegments+"="+strconv.Itoa(nsegs), envDaemon+"="+daemon)
}

// Pdeathsig is delivered when the *thread* that started the child exits,
// not the process. Go may retire an OS thread (a goroutine that exits while
// locked to its thread takes the thread with it), which would kill a daemon
// child early. So daemons are started from one goroutine locked to one
// thread that never exits: then only this process's death sends the signal.
// The runtime's fork path also checks, after setting Pdeathsig, that the
// parent has not already died, closing that race.
var spawner = struct {
	once sync.Once
	reqs chan spawnReq
}{}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawn(cmd *exec.Cmd, daemon bool) error {
	if !daemon {
		return cmd.Start()
	}
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd, done}
	return <-done
}
