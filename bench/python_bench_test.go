package bench

import "testing"

// runPythonBench runs the sub-benchmark name of b on a Python script: one
// server (see python.go) is started on the first round and serves every
// round; each round reports the script's figures for units. Without an
// interpreter the sub-benchmark is skipped with a message.
func runPythonBench(b *testing.B, name string, units []string, script string, args ...string) {
	var srv *pyServer
	b.Run(name, func(b *testing.B) {
		b.StopTimer()
		if srv == nil {
			py, err := findPython()
			if err != nil {
				b.Skipf("skipping the Python comparison: %v", err)
			}
			if srv, err = startPython(py, pythonScript(script), args...); err != nil {
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
				b.Fatalf("%s: no %s in the result", script, u)
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
