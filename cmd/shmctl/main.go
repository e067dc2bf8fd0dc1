package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/multiproc-go/multiproc/shm"
)

// Exit codes.
const (
	exitOK    = 0 // done
	exitFail  = 1 // something asked for could not be done (a name missing, a file kept)
	exitUsage = 2 // bad command line
)

const usageText = `shmctl lists, inspects and cleans multiproc shared-memory segments in /dev/shm.

Usage:
  shmctl ls [-a] [--json] [PATTERN...]        list segments (-a: foreign files too)
  shmctl inspect [--json] NAME...             show a segment's participants and objects
  shmctl rm [-f] [--json] NAME...             remove segments (-f: even in use or foreign)
  shmctl gc [-n] [--older-than D] [-a] [--json] [PATTERN...]
                                              remove segments whose creator and every
                                              attached process are dead (-n: dry run)

PATTERNs are globs on names in /dev/shm ('jobs-*'); flags may come anywhere.
Reading never attaches to a segment or writes to it; only rm and gc remove files.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one shmctl command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	c := &cmd{name: args[0], stdout: stdout, stderr: stderr}
	switch args[0] {
	case "ls", "list":
		return c.ls(args[1:])
	case "inspect", "show":
		return c.inspect(args[1:])
	case "rm", "remove":
		return c.rm(args[1:])
	case "gc":
		return c.gc(args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	fmt.Fprintf(stderr, "shmctl: unknown command %q\n\n%s", args[0], usageText)
	return exitUsage
}

// cmd is one invocation: where output goes and how it failed.
type cmd struct {
	name           string
	stdout, stderr io.Writer
	failed         bool
}

func (c *cmd) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("shmctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "%s\nFlags of %s:\n", usageText, c.name)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after the
// positional arguments (the flag package stops at the first positional).
// A "--" ends the flags. It returns the positional arguments, or the exit
// code to return at once (-h, a bad flag).
func (c *cmd) parse(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// segmentName accepts a name in /dev/shm or its full path.
func segmentName(arg string) string {
	if rest, ok := strings.CutPrefix(arg, shm.Dir+"/"); ok {
		return rest
	}
	return arg
}

func (c *cmd) errorf(format string, a ...any) {
	c.failed = true
	fmt.Fprintf(c.stderr, "shmctl %s: %s\n", c.name, fmt.Sprintf(format, a...))
}

func (c *cmd) exit() int {
	if c.failed {
		return exitFail
	}
	return exitOK
}

func (c *cmd) writeJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		c.errorf("%v", err)
	}
}
