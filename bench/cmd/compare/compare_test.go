package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/perf/benchfmt"
)

// The fixture has two rounds of a few systems, with figures chosen so that
// per-round ratios differ from ratios of medians, that ringqueue loses
// plainly at 64KiB against a pipe, and that socketpair's rounds disagree.

func fixture(t *testing.T) []Sample {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "two-rounds.txt"))
	require.NoError(t, err)
	defer f.Close()
	s, err := parse(f, "two-rounds.txt")
	require.NoError(t, err)
	return s
}

func find(rows []Row, name, unit string) Row {
	for _, r := range rows {
		if r.Name == name && r.Unit == unit {
			return r
		}
	}
	return Row{}
}

func TestParseReadsRoundsAndKeepsReportedUnits(t *testing.T) {
	s := fixture(t)
	require.Contains(t, s, Sample{Round: 1, Name: "Throughput/pipe/64B", Unit: "msgs/s", Value: 1e6, Iters: 50000})
	require.Contains(t, s, Sample{Round: 2, Name: "Latency/ringqueue", Unit: "p50-ns", Value: 900, Iters: 100000})
	require.Contains(t, s, Sample{Round: 1, Name: "Sync/mutex", Unit: "ns/op", Value: 10, Iters: 10000000})
	require.Contains(t, s, Sample{Round: 2, Name: "Other/thing", Unit: "ns/op", Value: 44, Iters: 1000000})
	for _, x := range s {
		require.NotContains(t, x.Name, "python", "a skipped benchmark has no figures")
	}
}

func TestParseWithoutRoundLinesIsRoundOne(t *testing.T) {
	s, err := parse(strings.NewReader("BenchmarkLatency/ringqueue-2 \t 10 \t 5 ns/op \t 4 p50-ns\n"), "x")
	require.NoError(t, err)
	require.Equal(t, []Sample{
		{Round: 1, Name: "Latency/ringqueue", Unit: "ns/op", Value: 5, Iters: 10},
		{Round: 1, Name: "Latency/ringqueue", Unit: "p50-ns", Value: 4, Iters: 10},
	}, s)
}

func TestParseRejectsABadRound(t *testing.T) {
	_, err := parse(strings.NewReader("round: zero\nBenchmarkX-2 1 1 ns/op\n"), "x")
	require.ErrorContains(t, err, "bad round")
}

func TestBenchNameDropsPrefixAndGOMAXPROCS(t *testing.T) {
	for in, want := range map[string]string{
		"BenchmarkThroughput/pipe/64B-2":   "Throughput/pipe/64B",
		"BenchmarkSync/sync.Mutex-16":      "Sync/sync.Mutex",
		"BenchmarkScale/mpmc-2x2-2":        "Scale/mpmc-2x2",
		"BenchmarkLatency/ringqueue-yield": "Latency/ringqueue-yield",
	} {
		require.Equal(t, want, benchName(benchfmt.Name(in)), in)
	}
}

func TestStatIsMedianWithRange(t *testing.T) {
	require.Equal(t, Stat{Median: 2, Min: 1, Max: 9, N: 3}, stat([]float64{9, 1, 2}))
	require.Equal(t, Stat{Median: 2.5, Min: 1, Max: 9, N: 4}, stat([]float64{9, 1, 2, 3}))
	require.Equal(t, Stat{}, stat(nil))
}

func TestSummarizeTakesRatiosWithinEachRound(t *testing.T) {
	rows := summarize(fixture(t))
	pipe := find(rows, "Throughput/pipe/64B", "msgs/s")
	require.Equal(t, Stat{Median: 1.5e6, Min: 1e6, Max: 2e6, N: 2}, pipe.Stat)
	require.Equal(t, "ringqueue-spsc", pipe.Ref)
	// Both rounds: pipe = ring / 20 exactly, although the medians differ.
	require.Equal(t, &Stat{Median: 0.05, Min: 0.05, Max: 0.05, N: 2}, pipe.Ratio)
	require.Equal(t, "ringqueue-spsc wins (20×)", pipe.Verdict)

	ref := find(rows, "Throughput/ringqueue-spsc/64B", "msgs/s")
	require.Equal(t, "reference", ref.Verdict)
	require.Equal(t, 1.0, ref.Ratio.Median)
}

func TestSummarizeSaysPlainlyWhereRingqueueLoses(t *testing.T) {
	rows := summarize(fixture(t))
	pipe := find(rows, "Throughput/pipe/64KiB", "msgs/s")
	require.Equal(t, 2.0, pipe.Ratio.Median)
	require.Equal(t, "**ringqueue-spsc loses**: pipe is 2.0× better", pipe.Verdict)

	sock := find(rows, "Throughput/socketpair/64KiB", "msgs/s")
	require.Equal(t, "tie within noise (rounds disagree)", sock.Verdict)

	mu := find(rows, "Sync/sync.Mutex", "ops/s")
	require.Equal(t, "mutex", mu.Ref)
	require.Equal(t, "**mutex loses**: sync.Mutex is 2.0× better", mu.Verdict)
}

func TestSummarizeLatencyLowerIsBetter(t *testing.T) {
	rows := summarize(fixture(t))
	p50 := find(rows, "Latency/socketpair", "p50-ns")
	require.False(t, p50.Higher)
	require.Equal(t, 20.0, p50.Ratio.Median)
	require.Equal(t, "ringqueue wins (20×)", p50.Verdict)
	require.Equal(t, Row{}, find(rows, "Latency/socketpair", "ns/op"), "only the percentiles are compared")
}

func TestSummarizeScaleIsRelativeToOneByOne(t *testing.T) {
	rows := summarize(fixture(t))
	r := find(rows, "Scale/mpmc-2x2", "msgs/s")
	require.Equal(t, "mpmc-1x1", r.Ref)
	require.Equal(t, 0.5, r.Ratio.Median)
	require.Contains(t, r.Verdict, "multiproc variant")
}

func TestSummarizeKeepsUnknownBenchmarksWithoutRatio(t *testing.T) {
	r := find(summarize(fixture(t)), "Other/thing", "ns/op")
	require.Equal(t, Stat{Median: 43, Min: 42, Max: 44, N: 2}, r.Stat)
	require.Nil(t, r.Ratio)
}

func fixtureResults(t *testing.T) *Results {
	s := fixture(t)
	return &Results{
		Version: resultsVersion, Mode: "input", Rounds: 2, Benchtime: "20ms",
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Finished: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC),
		Machine: Machine{CPU: "Test CPU", Cores: 2, GOMAXPROCS: 2, Kernel: "6.1", Go: "go1.26", Python: "Python 3.11.7"},
		Notes:   []string{"a note"}, Conditions: []string{"a loaded machine"},
		Samples: s, Rows: summarize(s),
	}
}

func TestWriteMarkdownShowsMachineTablesAndVerdicts(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeMarkdown(&b, fixtureResults(t)))
	md := b.String()
	for _, want := range []string{
		"Test CPU, 2 cores (GOMAXPROCS 2), Linux 6.1, go1.26, Python 3.11.7",
		"2 rounds",
		"| 64B | pipe | 1.50M | [1.00M–2.00M] | 96 | 0.05 | ringqueue-spsc wins (20×) |",
		"| 64KiB | pipe | 450k | [400k–500k] | 29491 | 2.00 | **ringqueue-spsc loses**: pipe is 2.0× better |",
		"| socketpair | p50 | 17.0 µs | [16.0 µs–18.0 µs] | 20.0 | ringqueue wins (20×) |",
		"| sync.Mutex | 200M | [200M–200M] | 5.0 | 2.00 | **mutex loses**: sync.Mutex is 2.0× better |",
		"| 2 | – | 10.0M (0.50×) |",
		"| Other/thing | ns/op | 43.0 | [42.0–44.0] |",
		"- a note",
		"> a loaded machine",
	} {
		require.Contains(t, md, want)
	}
	// Throughput rows go by size: 64B before 64KiB.
	require.Less(t, strings.Index(md, "| 64B |"), strings.Index(md, "| 64KiB |"))
}

func TestWriteResultsWritesJSONMarkdownRawAndPlots(t *testing.T) {
	dir := t.TempDir()
	res := fixtureResults(t)
	written, err := writeResults(dir, res, []byte("raw"))
	require.NoError(t, err)
	for _, base := range []string{"20260102T030405Z", "latest"} {
		for _, ext := range []string{".json", ".md", ".txt", ".png", ".svg"} {
			require.Contains(t, written, filepath.Join(dir, base+ext))
		}
	}
	back, err := readResults(filepath.Join(dir, "latest.json"))
	require.NoError(t, err)
	require.Equal(t, res.Rows, back.Rows)
	require.Equal(t, res.Samples, back.Samples)
	require.Equal(t, res.Machine, back.Machine)

	png, err := os.ReadFile(filepath.Join(dir, "latest.png"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
	svg, err := os.ReadFile(filepath.Join(dir, "latest.svg"))
	require.NoError(t, err)
	require.Contains(t, string(svg), "<svg")
	require.Contains(t, string(svg), "ringqueue-spsc")
}

func TestPublishResultsUsesStableNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results-published") // created as needed
	written, err := publishResults(dir, fixtureResults(t), []byte("raw"))
	require.NoError(t, err)
	for _, name := range []string{"results.json", "results.md", "results.txt", "throughput.png", "throughput.svg"} {
		require.Contains(t, written, filepath.Join(dir, name))
		require.FileExists(t, filepath.Join(dir, name))
	}
}

func TestPlotWithoutThroughputWritesNothing(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.png")
	ok, err := plotThroughput(&Results{}, file)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoFileExists(t, file)
}

func TestSizeBytesAndLabels(t *testing.T) {
	for s, n := range map[string]float64{"8B": 8, "64B": 64, "4KiB": 4096, "64KiB": 65536, "1MiB": 1 << 20} {
		require.Equal(t, n, sizeBytes(s), s)
		require.Equal(t, s, sizeLabel(n))
	}
	require.True(t, sizeBytes("big") > 1e300)
}

func TestTimesAndUnits(t *testing.T) {
	require.Equal(t, "1.13×", times(1.13))
	require.Equal(t, "2.6×", times(2.59))
	require.Equal(t, "38×", times(38.2))
	require.Equal(t, "24.7M", si(24.7e6))
	require.Equal(t, "967k", si(967e3))
	require.Equal(t, "850 ns", dur(850))
	require.Equal(t, "4.71 µs", dur(4710))
}

func TestCPUModelFromCpuinfo(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B45\nprocessor\t: 1\nmodel name\t: AMD EPYC 9B45\n"
	require.Equal(t, "AMD EPYC 9B45", cpuModelFrom([]byte(info)))
	require.Equal(t, "unknown CPU", cpuModelFrom([]byte("flags: x\n")))
}

func TestRunRendersASavedOutput(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-input", filepath.Join("testdata", "two-rounds.txt"), "-out", out}, &stdout, &stderr))
	require.Contains(t, stdout.String(), "### Throughput")
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-3:]
	for i, what := range []string{"table: ", "json: ", "plot: "} {
		require.True(t, strings.HasPrefix(last[i], what), "the last lines say where things are: %q", last)
		require.FileExists(t, strings.TrimPrefix(last[i], what))
	}
	res, err := readResults(filepath.Join(out, "latest.json"))
	require.NoError(t, err)
	require.Equal(t, "input", res.Mode)
	require.Equal(t, 2, res.Rounds)
	require.NotEmpty(t, res.Machine.CPU)
	require.FileExists(t, filepath.Join(out, "latest.md"))
}

func TestRunRerendersASavedJSONKeepingItsDetails(t *testing.T) {
	dir := t.TempDir()
	saved := fixtureResults(t)
	saved.Mode, saved.Rows = "full", nil
	_, err := writeResults(dir, saved, []byte("round: 1\n"))
	require.NoError(t, err)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run([]string{"-input", filepath.Join(dir, "latest.json"), "-out", out}, &stdout, &stderr))
	res, err := readResults(filepath.Join(out, "latest.json"))
	require.NoError(t, err)
	require.Equal(t, "full", res.Mode)
	require.Equal(t, saved.Machine, res.Machine)
	require.Equal(t, summarize(saved.Samples), res.Rows)
	require.FileExists(t, filepath.Join(out, "latest.txt"))
}

func TestSpecArgsRunOnlyBenchmarksOnce(t *testing.T) {
	require.Equal(t, []string{"-test.run", "^$", "-test.bench", "^BenchmarkSync$", "-test.benchtime", "1s", "-test.count", "1"},
		spec{Bench: "^BenchmarkSync$", Benchtime: "1s"}.args())
}

func TestPlansCountOperationsAndFullIsLonger(t *testing.T) {
	q, f := planFor(true), planFor(false)
	require.Equal(t, 3, q.Rounds)
	require.Equal(t, 5, f.Rounds)
	require.Len(t, f.Specs, len(q.Specs))
	for i, s := range q.Specs {
		require.True(t, strings.HasSuffix(s.Benchtime, "x"), "%s runs a count, not a duration: %s", s.Bench, s.Benchtime)
		require.Equal(t, s.Bench, f.Specs[i].Bench)
		require.Equal(t, s.Dir, f.Specs[i].Dir)
		var nq, nf int
		_, _ = fmt.Sscanf(s.Benchtime, "%dx", &nq)
		_, _ = fmt.Sscanf(f.Specs[i].Benchtime, "%dx", &nf)
		require.Equal(t, 4*nq, nf)
		// A section whose operation is a whole call of many items says
		// how few iterations it may be timed over; the others need many.
		least := 1000
		if sec := specSection(s); sec != nil && sec.MinIters > 0 {
			least = sec.MinIters
		}
		require.GreaterOrEqual(t, nq, least, "%s: a count too small to be stable", s.Bench)
	}
}

// specSection returns the section whose quick specs include s.
func specSection(s spec) *section {
	for _, sec := range sections {
		for _, q := range sec.Quick {
			if q.Bench == s.Bench {
				return sec
			}
		}
	}
	return nil
}

func TestNestedModuleSectionRunsInItsDirectory(t *testing.T) {
	q := planFor(true)
	require.Contains(t, q.dirs(), "distpool", "distpool's benchmarks run in their nested module")
	for _, s := range q.without("distpool").Specs {
		require.NotEqual(t, "distpool", s.Dir)
	}
	require.Less(t, len(q.without("distpool").Specs), len(q.Specs))

	// A module of its own under testdata: built where it is, run there.
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	r := &runner{root: root}
	bin, cmd, err := r.buildDir(context.Background(), "testdata/nested", t.TempDir())
	require.NoError(t, err)
	require.Contains(t, cmd, "cd testdata/nested")
	r.bins = map[string]string{"testdata/nested": bin}
	var raw bytes.Buffer
	s := spec{Bench: "^BenchmarkNested$", Benchtime: "3x", Dir: "testdata/nested"}
	require.NoError(t, r.run(context.Background(), 1, s, &raw))
	require.Regexp(t, `BenchmarkNested\S*\s+3\s.* 1(\.0+)? here`, raw.String())
	require.Contains(t, s.commandLine(), "cd testdata/nested")

	// One that does not build says why.
	_, _, err = r.buildDir(context.Background(), "testdata/no-such-module", t.TempDir())
	require.ErrorContains(t, err, "testdata/no-such-module")
}

func TestPatternAnchorsEveryLevel(t *testing.T) {
	require.Equal(t, "^BenchmarkThroughput$/^(a|b)$/^(8B)$", pattern("Throughput", []string{"a", "b"}, []string{"8B"}))
}

func TestEverySectionClassifiesItsOwnNames(t *testing.T) {
	for name, want := range map[string][4]string{
		"Throughput/c-ring/64B":         {"Throughput", "64B", "c-ring", "ringqueue-spsc"},
		"Latency/socketpair":            {"Latency", "", "socketpair", "ringqueue"},
		"Sync/python-lock-2proc":        {"Sync", "mutex-2proc", "python-lock-2proc", "mutex-2proc"},
		"Scale/chan-4x4":                {"Scale", "", "chan-4x4", "mpmc-1x1"},
		"Manager/whatever/of/it":        {"Manager", "", "whatever/of/it", ""},
		"Distpool/map-chunked/distpool": {"Distpool", "map-chunked", "distpool", "local"},
	} {
		g, f, s, r := classify(name)
		require.Equal(t, want, [4]string{g, f, s, r}, name)
	}
}

func TestParseWithoutRoundKeysCountsOccurrences(t *testing.T) {
	out := "BenchmarkX/a-2 10 5 ns/op\nBenchmarkX/b-2 10 6 ns/op\nBenchmarkX/a-2 10 7 ns/op\nBenchmarkX/b-2 10 8 ns/op\n"
	s, err := parse(strings.NewReader(out), "x")
	require.NoError(t, err)
	require.Equal(t, []int{1, 1, 2, 2}, []int{s[0].Round, s[1].Round, s[2].Round, s[3].Round})
}

func TestResultNameShortensAsTheTablesDo(t *testing.T) {
	n, ok := resultName("BenchmarkThroughput/c-ring/64B-2   \t 100 \t 5 ns/op")
	require.True(t, ok)
	require.Equal(t, "Throughput/c-ring/64B", n)
	_, ok = resultName("--- SKIP: BenchmarkThroughput/python-queue/64B")
	require.False(t, ok)
	_, ok = resultName("goos: linux")
	require.False(t, ok)
}

func TestOthersShareIsBusyTimeNotOurs(t *testing.T) {
	a := cpuSnap{busy: 10, total: 100, ours: 1}
	b := cpuSnap{busy: 30, total: 200, ours: 16} // 20 busy, 15 ours, over 100
	require.InDelta(t, 0.05, othersShare(a, b), 1e-9)
	require.Equal(t, 0.0, othersShare(a, cpuSnap{busy: 20, total: 200, ours: 30}), "never negative")
	require.Equal(t, -1.0, othersShare(a, a))
}

func TestBusyRunIsWarnedInHeaderAndLoadShown(t *testing.T) {
	res := fixtureResults(t)
	res.Load = &Load{Start: "3.10 2.00 1.00", End: "4.00 3.00 2.00", Others: 0.4, Busy: true}
	var b bytes.Buffer
	require.NoError(t, writeMarkdown(&b, res))
	require.Contains(t, b.String(), "Load average at start 3.10 2.00 1.00, at end 4.00 3.00 2.00")
	require.Contains(t, b.String(), "Other processes took 40% of the CPU time")
	require.Contains(t, b.String(), "**Warning: the machine was busy**")
}

func TestFewIterationsGiveNoVerdict(t *testing.T) {
	rows := summarize([]Sample{
		{Round: 1, Name: "Sync/mutex", Unit: "ops/s", Value: 1e8, Iters: 1e7},
		{Round: 1, Name: "Sync/python-lock", Unit: "ops/s", Value: 62, Iters: 1},
	})
	require.Contains(t, find(rows, "Sync/python-lock", "ops/s").Verdict, "no verdict")
}

func TestThroughputHeadlineIsRingqueueOverTheCRing(t *testing.T) {
	rows := summarize([]Sample{
		{Round: 1, Name: "Throughput/ringqueue-spsc/64B", Unit: "msgs/s", Value: 8e6, Iters: 1e6},
		{Round: 1, Name: "Throughput/c-ring/64B", Unit: "msgs/s", Value: 1e7, Iters: 1e6},
	})
	require.Contains(t, headline(rows), "64B 0.80×")
	require.Contains(t, find(rows, "Throughput/c-ring/64B", "msgs/s").Verdict, "physical limit")
}

func TestANewSectionIsOneDefinitionInTheList(t *testing.T) {
	extra := &section{
		Group: "Extra",
		Quick: []spec{{Bench: pattern("Extra", []string{"a", "b"}), Benchtime: "1000x"}},
		Units: []string{"ops/s"},
		Classify: func(parts []string) (string, string, string) {
			return "", parts[0], "a"
		},
		Table: func(b *strings.Builder, rows []Row) {
			for _, r := range rows {
				fmt.Fprintf(b, "extra row %s %s\n", r.System, r.Verdict)
			}
		},
		Notes: []string{"extra note"},
	}
	sections = append(sections, extra)
	t.Cleanup(func() { sections = sections[:len(sections)-1] })

	require.Contains(t, planFor(true).Specs, extra.Quick[0])
	samples := []Sample{
		{Round: 1, Name: "Extra/a", Unit: "ops/s", Value: 10, Iters: 1000},
		{Round: 1, Name: "Extra/b", Unit: "ops/s", Value: 5, Iters: 1000},
		{Round: 1, Name: "Extra/b", Unit: "ns/op", Value: 5, Iters: 1000},
	}
	res := &Results{Rows: summarize(samples), Notes: allNotes()}
	var b bytes.Buffer
	require.NoError(t, writeMarkdown(&b, res))
	require.Contains(t, b.String(), "extra row b a wins (2.0×)")
	require.NotContains(t, b.String(), "ns/op", "only the section's units")
	require.Contains(t, b.String(), "- extra note")
}
