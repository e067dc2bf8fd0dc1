package shm_test

import (
	"fmt"
	"os"

	"github.com/multiproc-go/multiproc/shm"
)

func Example() {
	name := fmt.Sprintf("example-%d", os.Getpid())
	seg, err := shm.Create(name, 64<<10)
	if err != nil {
		panic(err)
	}
	defer shm.Unlink(name)
	defer seg.Detach()

	// Create an object, initialized before anybody can see it.
	_, err = seg.Create(shm.Spec{Name: "greeting", Kind: shm.KindBytes, Size: 16}, func(b []byte) error {
		copy(b, "hello")
		return nil
	})
	if err != nil {
		panic(err)
	}

	// Another process would Open the segment by name and look the object up.
	other, err := shm.Open(name)
	if err != nil {
		panic(err)
	}
	defer other.Detach()
	obj, err := other.Lookup("greeting")
	if err != nil {
		panic(err)
	}
	fmt.Println(string(obj.Bytes()[:5]), obj.Kind, obj.Size)
	// Output: hello bytes 16
}
