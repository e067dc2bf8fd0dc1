package main

// The Manager's comparison with Python's (bench/manager_test.go): proxy
// round trips from one caller and from eight, over a unix socket and TCP.
// It registers itself here, beside the other groups' settings, so that it
// joins both plans and its table shows ops/s and the ratio to Python that
// each Go row measured in the same run.
func init() {
	unitsOf["Manager"] = []string{"ops/s", "x-python"}
	quickPlan.Specs = append(quickPlan.Specs, spec{`^BenchmarkManager$`, "20ms"})
	fullPlan.Specs = append(fullPlan.Specs, spec{`^BenchmarkManager$`, "500ms"})
}
