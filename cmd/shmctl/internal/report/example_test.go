package report_test

import (
	"fmt"
	"os"

	"github.com/multiproc-go/multiproc/cmd/shmctl/internal/report"
	"github.com/multiproc-go/multiproc/semaphore"
	"github.com/multiproc-go/multiproc/shm"
)

// Load reads a segment without attaching to it and describes its objects.
func ExampleLoad() {
	name := fmt.Sprintf("shmctl-report-example-%d", os.Getpid())
	seg, err := shm.Create(name, 4096)
	if err != nil {
		panic(err)
	}
	defer shm.Unlink(name)
	defer seg.Detach()
	mu, _ := semaphore.NewMutex(seg, "lock")
	_ = mu.Lock()
	ev, _ := semaphore.NewEvent(seg, "done")
	ev.Set()

	s, err := report.Load(name, report.Options{Objects: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Status, len(s.Participants), "participant,", s.ObjectCount, "objects")
	for _, o := range s.Objects {
		switch d := o.Detail.(type) {
		case *report.Lock:
			fmt.Printf("%s (%s): locked %v, by us %v, holder alive %v\n",
				o.Name, o.Kind, d.Locked, d.Holder.Pid == os.Getpid(), d.Holder.Alive)
		default:
			fmt.Printf("%s (%s): %s\n", o.Name, o.Kind, o.Summary)
		}
	}
	// Output:
	// segment 1 participant, 2 objects
	// lock (mutex): locked true, by us true, holder alive true
	// done (event): set
}
