//go:build !linux

package shm

import (
	"errors"
	"testing"
)

// Off Linux every way to a segment says it is unsupported (CI only vets
// this file: it runs on Linux).
func TestSegmentsAreUnsupportedOffLinux(t *testing.T) {
	_, err := Create("x", 4096)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Create: %v", err)
	}
	_, err = Anonymous(4096)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Anonymous: %v", err)
	}
	_, err = Open("x")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open: %v", err)
	}
	_, err = OpenView("x")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("OpenView: %v", err)
	}
}
