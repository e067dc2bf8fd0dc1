//go:build !race

package ringqueue_test

// raceBuild: see identity_race_test.go.
const raceBuild = false
