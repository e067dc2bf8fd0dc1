package main

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/stretchr/testify/assert"
)

func TestMain(m *testing.M) {
	procs.Main()
	os.Exit(m.Run())
}

func TestQuickstartSumsEverySquareOnce(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	main()
	os.Stdout = stdout
	w.Close()
	var out bytes.Buffer
	_, _ = io.Copy(&out, r)
	assert.Equal(t, "squared 1000 numbers; total 333833500\n", out.String())
	assert.Empty(t, procs.ActiveChildren())
}
