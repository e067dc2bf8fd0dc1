package main

import (
	"fmt"
	"strings"
)

// Manager/<transport>-<callers>/<system>: proxy round trips to a Manager
// server in another process (bench/manager_test.go), multiproc's and
// Python's, from one caller and from eight, over a unix socket and TCP.
var managerSection = section{
	Group: "Manager",
	Quick: []spec{
		{Bench: pattern("Manager", []string{"unix-1", "tcp-1", "unix-8", "tcp-8"}, []string{"manager"}), Benchtime: "5000x"},
		// Python's Manager serves 10-20 k ops/s: 2,000 take 0.1-0.2 s.
		{Bench: pattern("Manager", []string{"unix-1", "tcp-1", "unix-8", "tcp-8"}, []string{"python"}), Benchtime: "2000x"},
	},
	Units: []string{"ops/s"},
	Classify: func(parts []string) (string, string, string) {
		if len(parts) != 2 {
			return "", strings.Join(parts, "/"), ""
		}
		return parts[0], parts[1], "manager"
	},
	Table: managerTable,
	Notes: []string{"Manager: one proxy round trip per op (a Value's Get; Python: v.value on a Manager's Value); eight callers are eight goroutines on one connection, eight threads (one connection each) in Python."},
}

func init() { managerSection.Full = scaled(managerSection.Quick, 4) }

func managerTable(b *strings.Builder, rows []Row) {
	b.WriteString("### Manager: proxy round trips to a server process (operations/s over all callers, higher is better)\n\n")
	b.WriteString("Ratio: the system's ops/s ÷ multiproc's manager in the same transport and number of callers, in the same round.\n\n")
	b.WriteString("| transport-callers | system | ops/s | [min–max] | µs/op | ratio | verdict |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.1f | %s | %s |\n", r.Family, r.System, si(r.Median), rangeOf(r.Stat, si), 1e6/r.Median, ratioCell(r), r.Verdict)
	}
	b.WriteString("\n")
}
