package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
)

// Human output: aligned tables. A row's last cell is not padded (tabwriter
// leaves the text after a line's last tab alone), so long notes go there.

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func row(w io.Writer, cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, c)
	}
	fmt.Fprintln(w)
}

// humanSize formats a byte count with binary units.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// humanAge formats a duration to two units at most: 45s, 3m12s, 2h5m, 4d3h.
func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func liveness(alive bool) string {
	if alive {
		return "alive"
	}
	return "dead"
}

func process(p *report.Process) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%d (%s)", p.Pid, liveness(p.Alive))
}

// attached summarizes a participant table: "4712 alive, 4713 dead".
func attached(ps []report.Participant) string {
	const show = 4
	if len(ps) == 0 {
		return "-"
	}
	var parts []string
	for i, p := range ps {
		if i == show {
			alive := 0
			for _, q := range ps[show:] {
				if q.Alive {
					alive++
				}
			}
			parts = append(parts, fmt.Sprintf("+%d more (%d alive)", len(ps)-show, alive))
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s", p.Pid, liveness(p.Alive)))
	}
	return strings.Join(parts, ", ")
}

// state is a one-word status for the listing: live, dead, or what is wrong.
func state(s *report.Segment) string {
	switch {
	case s.Status != report.StatusSegment:
		return string(s.Status)
	case s.InUse():
		return "live"
	}
	return "dead"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
