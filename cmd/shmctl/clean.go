package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/shm"
)

// Actions reported by rm and gc.
const (
	actionRemoved     = "removed"
	actionWouldRemove = "would remove"
	actionKept        = "kept"
	actionFailed      = "failed"
)

// outcome is what rm or gc did with one file.
type outcome struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
}

// rm removes the named files. Without -f it removes only multiproc
// segments that no live process uses: a foreign file, a corrupt segment or
// one in use is kept and the command fails.
func (c *cmd) rm(args []string) int {
	fs := c.flags()
	force := fs.Bool("f", false, "remove even foreign files and segments in use")
	fs.BoolVar(force, "force", false, "same as -f")
	asJSON := fs.Bool("json", false, "print JSON")
	names, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(names) == 0 {
		c.errorf("which segments? (shmctl ls lists them)")
		return exitUsage
	}
	var outs []outcome
	for _, arg := range names {
		name := segmentName(arg)
		o := outcome{Name: name}
		s, err := report.Load(name, report.Options{MappedBy: true})
		switch {
		case err != nil:
			o.Action, o.Reason = actionFailed, err.Error()
		case !*force && s.Status != report.StatusSegment:
			o.Action, o.Reason = actionKept, fmt.Sprintf("%s (%s): -f removes it anyway", s.Status, s.Error)
		case !*force && s.InUse():
			_, why := report.Collectable(&s, 0, time.Now())
			o.Action, o.Reason = actionKept, "in use, "+why+": -f removes it anyway"
		default:
			if err := shm.Unlink(name); err != nil {
				o.Action, o.Reason = actionFailed, err.Error()
			} else {
				o.Action = actionRemoved
			}
		}
		if o.Action != actionRemoved {
			c.failed = true
		}
		outs = append(outs, o)
	}
	c.report(outs, *asJSON, true)
	return c.exit()
}

// gc removes the segments (matching the patterns) whose creator and every
// participant are dead and that no other process maps. Foreign and
// corrupt files are never removed.
func (c *cmd) gc(args []string) int {
	fs := c.flags()
	dry := fs.Bool("dry-run", false, "say what would be removed, remove nothing")
	fs.BoolVar(dry, "n", false, "same as --dry-run")
	minAge := new(time.Duration)
	fs.Var(durationFlag{minAge}, "older-than", "only segments created at least this long ago (90s, 30m, 2h, 1h30m)")
	all := fs.Bool("a", false, "also report foreign files (never removed)")
	asJSON := fs.Bool("json", false, "print JSON")
	args, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	patterns, ok := c.patterns(args)
	if !ok {
		return exitUsage
	}
	segs, err := report.List(patterns, report.Options{MappedBy: true})
	if err != nil {
		c.errorf("%v", err)
		return c.exit()
	}
	outs := []outcome{}
	for i := range segs {
		s := &segs[i]
		if !*all && !s.Status.Multiproc() {
			continue
		}
		o := outcome{Name: s.Name, Action: actionKept}
		var remove bool
		remove, o.Reason = report.Collectable(s, *minAge, time.Now())
		switch {
		case !remove:
		case *dry:
			o.Action = actionWouldRemove
		default:
			o.Action, o.Reason = c.collect(s, *minAge, o.Reason)
		}
		outs = append(outs, o)
	}
	c.report(outs, *asJSON, false)
	return c.exit()
}

// collect removes a segment gc found abandoned, after reading it once more
// right before the unlink: a process may have attached since the listing
// (or the name may now be another segment's), and the fresh read wins.
func (c *cmd) collect(s *report.Segment, minAge time.Duration, why string) (string, string) {
	again, err := report.Load(s.Name, report.Options{MappedBy: true})
	if errors.Is(err, report.ErrNoSuchSegment) {
		return actionKept, "removed by someone else meanwhile"
	}
	if err != nil {
		c.failed = true
		return actionFailed, err.Error()
	}
	if again.ID != s.ID {
		return actionKept, "replaced by another segment meanwhile"
	}
	if ok, now := report.Collectable(&again, minAge, time.Now()); !ok {
		return actionKept, now
	}
	if err := shm.Unlink(s.Name); err != nil {
		c.failed = true
		return actionFailed, err.Error()
	}
	return actionRemoved, why
}

func (c *cmd) report(outs []outcome, asJSON, quietOK bool) {
	if asJSON {
		c.writeJSON(outs)
		return
	}
	if quietOK {
		for _, o := range outs {
			if o.Action == actionRemoved {
				fmt.Fprintf(c.stdout, "removed %s\n", o.Name)
			} else {
				fmt.Fprintf(c.stderr, "shmctl %s: %s: %s: %s\n", c.name, o.Name, o.Action, o.Reason)
			}
		}
		return
	}
	w := newTable(c.stdout)
	row(w, "ACTION", "NAME", "REASON")
	for _, o := range outs {
		row(w, o.Action, o.Name, o.Reason)
	}
	if err := w.Flush(); err != nil {
		c.errorf("%v", err)
	}
}
