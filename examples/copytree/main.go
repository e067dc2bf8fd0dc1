// Command copytree copies a directory tree with a pool of worker
// processes and draws a progress bar: each worker reports every file it
// finishes on a shared queue, and the parent advances the bar as the
// reports arrive. A file that cannot be copied (unreadable, or its target
// exists already) is reported at the end; it does not stop the rest.
//
//	go run ./examples/copytree SRC DST     # DST must not hold SRC's files yet
//	go run ./examples/copytree             # a demonstration on a made-up tree
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/multiproc-go/multiproc/procs"
	"github.com/multiproc-go/multiproc/ringqueue"
	"github.com/multiproc-go/multiproc/shm"
	"github.com/schollz/progressbar/v3"
)

// A copyTask is one file to copy.
type copyTask struct{ Src, Dst string }

// A done is what a worker reports on the progress queue for each file.
// It is fixed-size, so the queue carries it as plain bytes.
type done struct {
	Bytes  int64
	Failed bool
}

var (
	// progress is the shared queue, in each worker: its initializer sets it.
	progress *ringqueue.Typed[done]

	setup = procs.Register("copytree-setup", func(q *ringqueue.Typed[done]) (struct{}, error) {
		progress = q
		return struct{}{}, nil
	})

	copyFile = procs.Register("copytree-copy", func(t copyTask) (int64, error) {
		n, err := copyOne(t)
		if perr := progress.Put(done{Bytes: n, Failed: err != nil}); perr != nil && err == nil {
			err = perr
		}
		return n, err
	})
)

// copyOne copies one file; it never overwrites, and removes what it wrote
// if the copy fails halfway.
func copyOne(t copyTask) (int64, error) {
	in, err := os.Open(t.Src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, err
	}
	out, err := os.OpenFile(t.Dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(t.Dst)
	}
	return n, err
}

func main() {
	procs.Main() // first: in a worker, this runs the registered functions
	workers := flag.Int("workers", 0, "worker processes (0: one per CPU)")
	flag.Parse()
	src, dst := flag.Arg(0), flag.Arg(1)
	demo := flag.NArg() == 0
	if demo {
		var cleanup func()
		var err error
		if src, dst, cleanup, err = demoTree(); err != nil {
			fmt.Fprintln(os.Stderr, "copytree:", err)
			os.Exit(1)
		}
		defer cleanup()
		fmt.Printf("demonstration: copying %s to %s\n", src, dst)
	} else if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: copytree [-workers N] [SRC DST]")
		os.Exit(2)
	}
	sum, err := run(src, dst, *workers, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "copytree:", err)
		os.Exit(1)
	}
	sum.print(os.Stdout)
	if len(sum.Failures) > 0 && !demo { // the demonstration's failures are on purpose
		os.Exit(1)
	}
}

// A summary is what run did.
type summary struct {
	Files, Copied int
	Bytes         int64
	Elapsed       time.Duration
	Failures      []failure // in the tree's order
}

type failure struct {
	Path string // relative to the source
	Err  error
}

func (s summary) print(w io.Writer) {
	fmt.Fprintf(w, "copied %d of %d files (%d bytes) in %v\n", s.Copied, s.Files, s.Bytes, s.Elapsed.Round(time.Millisecond))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  failed: %s: %v\n", f.Path, f.Err)
	}
}

// run copies the tree src to dst with a pool of workers, drawing the
// progress bar on bar.
func run(src, dst string, workers int, bar io.Writer) (summary, error) {
	start := time.Now()
	tasks, rels, err := plan(src, dst)
	if err != nil {
		return summary{}, err
	}

	// The progress queue lives in an anonymous segment: the initializer's
	// argument takes it to every worker, as a Start argument would.
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		return summary{}, err
	}
	defer seg.Detach()
	q, err := ringqueue.NewTyped[done](seg, "progress", ringqueue.Options{Capacity: 1024})
	if err != nil {
		return summary{}, err
	}
	pool, err := procs.NewPool(workers, procs.WithInitializer(setup, q))
	if err != nil {
		return summary{}, err
	}
	defer pool.Terminate()

	// The bar is drawn from the queue's reports, on its own goroutine.
	pb := progressbar.NewOptions(len(tasks),
		progressbar.OptionSetWriter(bar),
		progressbar.OptionSetDescription("copying"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("files"),
		progressbar.OptionShowIts(),
		progressbar.OptionThrottle(50*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
	)
	ctx, stop := context.WithCancel(context.Background())
	drawn := make(chan struct{})
	go func() {
		defer close(drawn)
		var bytes int64
		for range tasks {
			d, err := q.GetContext(ctx)
			if err != nil {
				// Every result is in, so every report was put before it:
				// take what is left (a worker that died reported nothing).
				if d, err = q.TryGet(); err != nil {
					return
				}
			}
			bytes += d.Bytes
			pb.Describe(fmt.Sprintf("copying (%d KiB)", bytes>>10))
			_ = pb.Add(1)
		}
	}()

	// The results say what happened to each file, in the tree's order.
	sum := summary{Files: len(tasks)}
	i := 0
	for n, err := range procs.Imap(pool, copyFile, slices.Values(tasks), 4) {
		if err != nil {
			sum.Failures = append(sum.Failures, failure{rels[i], err})
		} else {
			sum.Copied++
			sum.Bytes += n
		}
		i++
	}
	stop()
	<-drawn
	_ = pb.Finish()
	fmt.Fprintln(bar)
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// plan walks src, makes the directories under dst, and lists the files to
// copy (symbolic links are followed: a dangling one fails to copy).
func plan(src, dst string) ([]copyTask, []string, error) {
	var tasks []copyTask
	var rels []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		tasks = append(tasks, copyTask{Src: path, Dst: target})
		rels = append(rels, rel)
		return nil
	})
	return tasks, rels, err
}

// demoTree makes a tree of a few hundred files in nested directories,
// including a dangling link (unreadable) and a file already present in the
// destination, so both kinds of failure show.
func demoTree() (src, dst string, cleanup func(), err error) {
	root, err := os.MkdirTemp("", "copytree-demo-")
	if err != nil {
		return "", "", nil, err
	}
	cleanup = func() { _ = os.RemoveAll(root) }
	src, dst = filepath.Join(root, "src"), filepath.Join(root, "dst")
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 31)
	}
	for d := range 8 {
		dir := filepath.Join(src, fmt.Sprintf("dir%d", d), "sub")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", "", cleanup, err
		}
		for f := range 40 {
			size := (d*40 + f) * 997 % len(chunk)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file%02d.bin", f)), chunk[:size], 0o644); err != nil {
				return "", "", cleanup, err
			}
		}
	}
	if err := os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(src, "dir0", "dangling-link")); err != nil {
		return "", "", cleanup, err
	}
	existing := filepath.Join(dst, "dir1", "sub", "file07.bin")
	if err := os.MkdirAll(filepath.Dir(existing), 0o755); err != nil {
		return "", "", cleanup, err
	}
	return src, dst, cleanup, os.WriteFile(existing, []byte("already here"), 0o644)
}
