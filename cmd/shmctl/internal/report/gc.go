package report

import (
	"fmt"
	"strings"
	"time"
)

// Collectable decides whether gc may remove s: only a valid segment whose
// creator and every participant are dead, that no other process maps
// (when s was loaded with Options.MappedBy), and that is at least minAge
// old. Foreign, corrupt and unreadable files are never collectable: what
// cannot be read cannot be proven abandoned. The reason says why, either way.
func Collectable(s *Segment, minAge time.Duration, now time.Time) (bool, string) {
	switch s.Status {
	case StatusSegment:
	case StatusForeign:
		return false, "not a multiproc segment: never removed"
	default:
		return false, fmt.Sprintf("%s: not removed (check it, then rm -f)", s.Status)
	}
	if s.Creator != nil && s.Creator.Alive {
		return false, fmt.Sprintf("creator pid %d is alive", s.Creator.Pid)
	}
	var live []string
	for _, p := range s.Participants {
		if p.Alive {
			live = append(live, fmt.Sprint(p.Pid))
		}
	}
	if len(live) > 0 {
		return false, "attached and alive: pid " + strings.Join(live, ", ")
	}
	if len(s.MappedBy) > 0 {
		return false, "mapped by pid " + joinInts(s.MappedBy)
	}
	if age := s.Age(now); age < minAge {
		return false, fmt.Sprintf("younger than %v (%v)", minAge, age.Round(time.Second))
	}
	why := "creator and every participant dead"
	if s.Creator != nil {
		why = fmt.Sprintf("creator pid %d dead", s.Creator.Pid)
		if n := len(s.Participants); n > 0 {
			why += fmt.Sprintf(", %d participant(s) dead", n)
		}
	}
	return true, why
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
