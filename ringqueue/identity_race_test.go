//go:build race

package ringqueue_test

// raceBuild: children of a race-instrumented test binary start several
// times slower, so the churn test runs a short churn there; the plain run
// does the full one (see churnChildren).
const raceBuild = true
