package shm_test

import (
	"fmt"
	"log"
	"os"
	"os/exec"

	"github.com/multiproc-go/multiproc/shm"
)

// envProgramTwo makes this test binary, started again by
// Example_twoPrograms, act as the second program.
const envProgramTwo = "SHM_EXAMPLE_PROGRAM_TWO"

func init() {
	if name := os.Getenv(envProgramTwo); name != "" {
		programTwo(name)
		os.Exit(0)
	}
}

// programTwo is a program that shares nothing with the first but the
// segment's name: it opens the segment and reads what the first wrote.
func programTwo(name string) {
	seg, err := shm.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Detach()
	greeting, err := seg.Lookup("greeting")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("program two read %q\n", greeting.Bytes()[:22])
	copy(greeting.Bytes()[32:], "and hello back")
}

// Two programs share a named segment: one creates it and writes, the
// other, started separately and knowing only the name, opens it by that
// name. Here the second program is this test binary run again as a plain
// command (os/exec, not procs): it inherits nothing from the first.
func Example_twoPrograms() {
	name := fmt.Sprintf("example-greeting-%d", os.Getpid())
	seg, err := shm.Create(name, 4096)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Detach()
	defer shm.Unlink(name) // the creator removes the name; the memory goes with the last mapping

	greeting, err := seg.Create(shm.Spec{Name: "greeting", Kind: shm.KindBytes, Size: 64}, func(b []byte) error {
		copy(b, "hello from program one")
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	two := exec.Command(os.Args[0])
	two.Env = append(os.Environ(), envProgramTwo+"="+name)
	out, err := two.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	fmt.Printf("program one read %q\n", greeting.Bytes()[32:46])
	// Output:
	// program two read "hello from program one"
	// program one read "and hello back"
}
