package main

import (
	"fmt"
	"io"
	"time"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
)

// inspect shows one segment in full: header, participant table, and every
// object with its state.
func (c *cmd) inspect(args []string) int {
	fs := c.flags()
	asJSON := fs.Bool("json", false, "print JSON (one object for one NAME, an array for several)")
	names, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(names) == 0 {
		c.errorf("which segment? (shmctl ls lists them)")
		return exitUsage
	}
	var segs []report.Segment
	for _, n := range names {
		s, err := report.Load(segmentName(n), report.Options{Objects: true})
		if err != nil {
			c.errorf("%v", err)
			continue
		}
		if s.Status != report.StatusSegment {
			c.errorf("%s: %s", s.Name, s.Error)
		}
		segs = append(segs, s)
	}
	switch {
	case *asJSON && len(names) == 1 && len(segs) == 1:
		c.writeJSON(segs[0])
	case *asJSON:
		if segs == nil {
			segs = []report.Segment{}
		}
		c.writeJSON(segs)
	default:
		for i := range segs {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			c.printSegment(c.stdout, &segs[i])
		}
	}
	return c.exit()
}

func (c *cmd) printSegment(out io.Writer, s *report.Segment) {
	now := time.Now()
	w := newTable(out)
	row(w, "Segment", s.Name)
	row(w, "Path", s.Path)
	row(w, "Status", s.Status)
	if s.Error != "" {
		row(w, "Problem", s.Error)
	}
	row(w, "Size", humanSize(s.Size))
	owner := s.Owner
	if owner == "" {
		owner = fmt.Sprintf("uid %d", s.UID)
	}
	row(w, "Mode", fmt.Sprintf("%s, owner %s", s.Mode, owner))
	if s.Status != report.StatusSegment {
		row(w, "Modified", fmt.Sprintf("%s (%s ago)", s.ModTime.Format(time.DateTime), humanAge(s.Age(now))))
		_ = w.Flush()
		return
	}
	row(w, "ID", s.ID)
	row(w, "Created", fmt.Sprintf("%s (%s ago) by pid %s", s.Created.Format(time.DateTime), humanAge(s.Age(now)), process(s.Creator)))
	row(w, "Heap", fmt.Sprintf("%s used, %s free", humanSize(int64(s.Used)), humanSize(int64(s.Free))))
	dirLock := "free"
	if s.DirectoryLock != nil {
		dirLock = "held by " + s.DirectoryLock.String()
	}
	row(w, "Dir lock", dirLock)
	if s.PendingCreations > 0 {
		row(w, "Pending", fmt.Sprintf("%d object creation(s) unfinished, %d by dead processes", s.PendingCreations, s.DeadCreations))
	}
	_ = w.Flush()

	fmt.Fprintf(out, "\nPARTICIPANTS (%d)\n", len(s.Participants))
	if len(s.Participants) > 0 {
		w = newTable(out)
		row(w, "ID", "PID", "ALIVE")
		for _, p := range s.Participants {
			row(w, fmt.Sprintf("%#x", p.ID), p.Pid, liveness(p.Alive))
		}
		_ = w.Flush()
	}

	fmt.Fprintf(out, "\nOBJECTS (%d)\n", len(s.Objects))
	if len(s.Objects) > 0 {
		w = newTable(out)
		row(w, "NAME", "KIND", "ELEM", "SIZE", "STATE")
		for _, o := range s.Objects {
			elem := "-"
			if o.ElemSize != 0 {
				elem = fmt.Sprintf("%d B", o.ElemSize)
			}
			row(w, o.Name, o.Kind, elem, humanSize(int64(o.Size)), o.Summary)
		}
		_ = w.Flush()
	}
}
