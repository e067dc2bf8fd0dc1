// Package bench compares multiproc with what users would pick instead, on
// the machine at hand: `go test -bench` benchmarks, side by side in one run,
// and a command (bench/cmd/compare) that runs them round by round and
// prints a table and draws a plot.
//
// The package's API is BuildCRing, for the compare command; its
// benchmarks live in its test files, and the few helpers here (gates,
// frames, percentiles, the script driver) serve them.
//
// # Benchmarks
//
// Names are made for scripts: Group/system[/size], each reporting its
// figure with b.ReportMetric.
//
//	Throughput/<system>/<size>  msgs/s   one message per op, one producer process → one consumer process
//	Latency/<system>            p50-ns, p99-ns   one round trip per op
//	Sync/<primitive>            ops/s    one lock+unlock or add per op
//	Scale/mpmc-<P>x<C>          msgs/s   one message per op, P producer and C consumer processes
//	Scale/chan-4x4              msgs/s   four producer and four consumer goroutines, for reference
//
// Sizes are 8B, 64B, 4KiB and 64KiB; systems are c-ring (the physical
// limit: a minimal C SPSC ring between two processes over a memfd,
// cring/spsc.c, built with the system's C compiler or skipped without
// one), ringqueue-spsc, ringqueue-spsc-batch, ringqueue-mpmc,
// ringqueue-typed and -typed-gob, chan (two goroutines, in one process,
// for reference), pipe and socketpair (length-prefixed frames between
// processes), python-queue and python-pipe (Python's multiprocessing).
// Every fresh ring carries two laps of messages before its timed run, so
// that first touches of its pages stay outside the timing. A ring's slots are exactly the message size: 1024 slots
// up to 4 KiB, 64 slots of 64 KiB. Every message is copied in and out once on
// every system and carries a sequence number its receiver checks.
//
// Run them with, for example:
//
//	go test -run '^$' -bench 'Throughput/.*/64B' -benchtime 1000000x ./bench
//	go run ./bench/cmd/compare -quick
//
// Give a count of operations (-benchtime Nx) rather than a duration: a
// duration too short for a slow system times one iteration of it.
//
// # How a cross-process round is timed
//
// A round (one b.N) starts its children through procs.Start of registered
// functions, with the timer stopped. Each child sets up, counts itself in on
// a gate in shared memory and sleeps on a futex until the benchmark's
// process opens the gate; the timer runs from opening the gate until every
// participant has counted itself done (no sleeps anywhere: every wait is on
// a shared word). Children are daemons, so a failed benchmark leaves none
// behind.
//
// Python is measured by the same harness: a script in python/ starts once
// per benchmark in a serving mode, forks its workers, and answers "run N"
// commands with its own timing of N messages; the Go timer brackets each
// command. Without python3 (or $MULTIPROC_BENCH_PYTHON) those benchmarks
// are skipped with a message.
//
// # Tests
//
// `go test ./bench` does not run the benchmarks: it runs each benchmark's
// round with a few hundred messages (same children, same checks) and unit
// tests of the helpers, in a few seconds.
package bench
