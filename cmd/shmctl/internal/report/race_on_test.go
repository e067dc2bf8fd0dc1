//go:build race

package report

// Under the race detector, atomic loads run in its C runtime, where a
// memory fault cannot be turned into a panic.
const raceEnabled = true
