package procs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/multiproc-go/multiproc/shm"
)

func startChild(fname string, arg []byte, segs []*shm.Segment, files []*os.File, o options) (*Process, error) {
	argR, argW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("procs: %s: %w", o.name, err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		argR.Close()
		argW.Close()
		return nil, fmt.Errorf("procs: %s: %w", o.name, err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{os.Args[0]}
	cmd.Stdout, cmd.Stderr = o.stdout, o.stderr
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = s.Name()
	}
	// Names never hold '/': it separates them.
	cmd.Env = append(childEnv(fname, o, len(segs)), envFiles+"="+strconv.Itoa(len(files)),
		envSegmentNames+"="+strings.Join(names, "/"))
	cmd.ExtraFiles = []*os.File{argR, repW}
	for _, s := range segs {
		cmd.ExtraFiles = append(cmd.ExtraFiles, s.File())
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, files...)
	if o.daemon {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	err = spawn(cmd, o.daemon)
	// The child has its own copies now (or never will).
	argR.Close()
	repW.Close()
	if err != nil {
		argW.Close()
		repR.Close()
		return nil, fmt.Errorf("procs: starting %s: %w", o.name, err)
	}
	p := newProcess(cmd, o)
	go func() {
		// A pipe holds 64 KiB: a larger argument must not block Start.
		_, _ = argW.Write(arg)
		argW.Close()
	}()
	go p.wait(repR)
	return p, nil
}
