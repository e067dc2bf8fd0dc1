package main

import (
	"fmt"
	"time"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/shm"
)

// ls lists the segments in /dev/shm: one row each, with who made them and
// who is attached. Foreign files show only with -a; files that claim to be
// segments but cannot be read (corrupt, another version) always show.
func (c *cmd) ls(args []string) int {
	fs := c.flags()
	all := fs.Bool("a", false, "also list files that are not multiproc segments")
	fs.BoolVar(all, "all", false, "same as -a")
	asJSON := fs.Bool("json", false, "print JSON")
	args, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	patterns, ok := c.patterns(args)
	if !ok {
		return exitUsage
	}
	segs, err := report.List(patterns, report.Options{})
	if err != nil {
		c.errorf("%v", err)
		return c.exit()
	}
	shown := segs[:0]
	for _, s := range segs {
		if *all || s.Status.Multiproc() {
			shown = append(shown, s)
		}
	}
	if *asJSON {
		if shown == nil {
			shown = []report.Segment{}
		}
		c.writeJSON(shown)
		return c.exit()
	}
	now := time.Now()
	w := newTable(c.stdout)
	row(w, "NAME", "SIZE", "MODE", "AGE", "STATE", "CREATOR", "OBJECTS", "ATTACHED")
	for i := range shown {
		s := &shown[i]
		lead := []any{s.Name, humanSize(s.Size), s.Mode, humanAge(s.Age(now)), state(s)}
		if s.Status != report.StatusSegment {
			// Keep every column's cells contiguous (tabwriter aligns runs of
			// lines), and put the reason last, where it pads nothing.
			row(w, append(lead, "-", "-", s.Error)...)
			continue
		}
		row(w, append(lead, process(s.Creator), s.ObjectCount, attached(s.Participants))...)
	}
	if err := w.Flush(); err != nil {
		c.errorf("%v", err)
	}
	if hidden := len(segs) - len(shown); hidden > 0 {
		fmt.Fprintf(c.stderr, "(%s in %s not shown: -a lists them)\n", plural(hidden, "other file", "other files"), shm.Dir)
	}
	return c.exit()
}
