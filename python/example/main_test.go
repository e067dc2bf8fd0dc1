package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExampleSumsEverySquareOnce(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found on $PATH")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = run()
	os.Stdout = stdout
	w.Close()
	var out bytes.Buffer
	_, _ = io.Copy(&out, r)
	assert.NoError(t, err)
	// 0²+…+999² = 332833500; the counter: 1000 from Python, 1000 from Go.
	assert.Equal(t, "sum of 1000 squares: 332833500; counter: 2000\n", out.String())
}
