package bench

import (
	"errors"
	"fmt"
	"testing"
)

// runPythonBench runs the sub-benchmark name of b on a Python script: one
// server (see python.go) is started on the first round and serves every
// round; each round reports the script's figures for units. Without an
// interpreter the sub-benchmark is skipped with a message.
func runPythonBench(b *testing.B, name string, units []string, script string, args ...string) {
	runServerBench(b, name, units, func() (*pyServer, error) {
		py, err := findPython()
		if err != nil {
			return nil, errSkip{fmt.Sprintf("skipping the Python comparison: %v", err)}
		}
		return startPython(py, pythonScript(script), args...)
	})
}

// errSkip from a server's start skips the benchmark with its message.
type errSkip struct{ msg string }

func (e errSkip) Error() string { return e.msg }

// runServerBench is runPythonBench for any program speaking the scripts'
// protocol, started by startSrv.
func runServerBench(b *testing.B, name string, units []string, startSrv func() (*pyServer, error)) {
	var srv *pyServer
	b.Run(name, func(b *testing.B) {
		b.StopTimer()
		if srv == nil {
			var err error
			if srv, err = startSrv(); err != nil {
				var skip errSkip
				if errors.As(err, &skip) {
					b.Skip(skip.msg)
				}
				b.Fatal(err)
			}
		}
		fig, err := srv.run(b, b.N)
		if err != nil {
			srv = nil // run killed it
			b.Fatal(err)
		}
		for _, u := range units {
			v, ok := fig[u]
			if !ok {
				b.Fatalf("%s: no %s in the result", srv.name, u)
			}
			b.ReportMetric(v, u)
		}
	})
	if srv != nil {
		if err := srv.close(); err != nil {
			b.Error(err)
		}
	}
}
