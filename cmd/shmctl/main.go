package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/multiproc-go/multiproc/shm"
)

// Exit codes.
const (
	exitOK    = 0 // done
	exitFail  = 1 // something asked for could not be done (a name missing, a file kept)
	exitUsage = 2 // bad command line
)

// commandUsage is each command's synopsis and what it does, in the order
// the general usage lists them.
var commandUsage = []struct{ name, synopsis, does string }{
	{"ls", "shmctl ls [-a] [--json] [PATTERN...]", "list segments (-a: foreign files too)"},
	{"inspect", "shmctl inspect [--json] NAME...", "show a segment's participants and objects"},
	{"rm", "shmctl rm [-f] [--json] NAME...", "remove segments (-f: even in use or foreign)"},
	{"gc", "shmctl gc [-n] [--older-than D] [-a] [--json] [PATTERN...]",
		"remove segments whose creator and every attached process are dead (-n: dry run;\n" +
			"D is a duration with a unit: 90s, 30m, 2h, 1h30m)"},
}

const usageFooter = `
NAMEs and PATTERNs are names in /dev/shm, or paths there ('/dev/shm/jobs');
PATTERNs are globs ('jobs-*'); flags may come anywhere. "shmctl help CMD"
shows a command's flags. Reading never attaches to a segment or writes to
it; only rm and gc remove files.
`

func usageText() string {
	var b strings.Builder
	b.WriteString("shmctl lists, inspects and cleans multiproc shared-memory segments in /dev/shm.\n\nUsage:\n")
	for _, u := range commandUsage {
		fmt.Fprintf(&b, "  %s\n      %s\n", u.synopsis, strings.ReplaceAll(u.does, "\n", "\n      "))
	}
	b.WriteString(usageFooter)
	return b.String()
}

// synopsis returns a command's usage line, "" for an unknown command.
func synopsis(name string) string {
	for _, u := range commandUsage {
		if u.name == name {
			return u.synopsis
		}
	}
	return ""
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one shmctl command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
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
		if len(args) > 1 && args[0] == "help" {
			// "help gc" is "gc -h": that command's own usage and flags.
			if canonical(args[1]) == "" {
				fmt.Fprintf(stderr, "shmctl help: unknown command %q (commands: ls, inspect, rm, gc)\n", args[1])
				return exitUsage
			}
			return run([]string{args[1], "-h"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usageText())
		return exitOK
	}
	fmt.Fprintf(stderr, "shmctl: unknown command %q (commands: ls, inspect, rm, gc; shmctl help shows their use)\n", args[0])
	return exitUsage
}

// canonical returns the command an alias names, "" for none.
func canonical(name string) string {
	switch name {
	case "ls", "list":
		return "ls"
	case "inspect", "show":
		return "inspect"
	case "rm", "remove":
		return "rm"
	case "gc":
		return "gc"
	}
	return ""
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
	// The flag package prints its error, then calls Usage: parse prints
	// what each case needs instead (the whole help for -h only).
	fs.Usage = func() {}
	return fs
}

// help prints a command's usage and flags to stdout: what -h asked for.
func (c *cmd) help(fs *flag.FlagSet) {
	name := canonical(c.name)
	for _, u := range commandUsage {
		if u.name == name {
			fmt.Fprintf(c.stdout, "Usage: %s\n  %s\n\nFlags:\n", u.synopsis, strings.ReplaceAll(u.does, "\n", "\n  "))
		}
	}
	fs.SetOutput(c.stdout)
	fs.PrintDefaults()
	fs.SetOutput(c.stderr)
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
				c.help(fs)
				return nil, exitOK, false
			}
			// The flag package has printed the error: one line of use, not
			// every flag's description, follows it.
			fmt.Fprintf(c.stderr, "usage: %s (shmctl help %s: flags)\n", synopsis(canonical(c.name)), canonical(c.name))
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

// patterns turns ls's and gc's arguments into globs on names in /dev/shm,
// accepting paths there as inspect and rm do. A path elsewhere matches
// nothing a segment could be, so it is an error rather than an empty list.
func (c *cmd) patterns(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	for _, a := range args {
		p := segmentName(a)
		if strings.Contains(p, "/") {
			c.errorf("%q: not in %s (give a name or glob there, or its path %s/NAME)", a, shm.Dir, shm.Dir)
			return nil, false
		}
		out = append(out, p)
	}
	return out, true
}

// durationFlag is a time.Duration flag whose error says what a duration
// looks like (the flag package's says "parse error").
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return "0s"
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration with a unit, such as 90s, 30m, 2h or 1h30m")
	}
	*f.d = d
	return nil
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
