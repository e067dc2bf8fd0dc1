package main

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotThroughput draws msgs/s against message size, one line per system,
// both axes logarithmic, each point the median with its min–max as an
// error bar, and saves it to file (the extension picks PNG or SVG). It
// reports false, writing nothing, when res has no throughput rows.
func plotThroughput(res *Results, file string) (bool, error) {
	type point struct{ x, y, lo, hi float64 }
	lines := map[string][]point{}
	var systems []string
	var sizes []float64
	top := 0.0
	for _, r := range res.Rows {
		if r.Group != "Throughput" || r.Unit != "msgs/s" || r.Median <= 0 {
			continue
		}
		x := sizeBytes(r.Family)
		if math.IsInf(x, 0) {
			continue
		}
		if _, ok := lines[r.System]; !ok {
			systems = append(systems, r.System)
		}
		lines[r.System] = append(lines[r.System], point{x, r.Median, r.Min, r.Max})
		top = max(top, r.Max)
		if !slices.Contains(sizes, x) {
			sizes = append(sizes, x)
		}
	}
	if len(systems) == 0 {
		return false, nil
	}
	slices.Sort(sizes)

	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput, one producer → one consumer (%s, %d cores)", res.Machine.CPU, res.Machine.Cores)
	if l := res.Load; l != nil {
		p.Title.Text += fmt.Sprintf("\nload average %s at start, %s at end", l.Start, orNone(l.End, "?"))
		if l.Busy {
			p.Title.Text += fmt.Sprintf("; BUSY: others took %.0f%% of the CPU", 100*max(l.Others, 0))
		}
	}
	p.X.Label.Text = "message size (bytes)"
	p.Y.Label.Text = "messages/s (median, bars: min–max)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	var ticks plot.ConstantTicks
	for _, s := range sizes {
		ticks = append(ticks, plot.Tick{Value: s, Label: sizeLabel(s)})
	}
	p.X.Tick.Marker = ticks
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.X.Min, p.X.Max = sizes[0]/1.5, sizes[len(sizes)-1]*1.5
	// Two decades of headroom above the fastest point: the legend, top
	// right, then covers no data.
	p.Y.Max = top * 100
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())

	var args []any
	for _, s := range systems {
		pts := lines[s]
		slices.SortFunc(pts, func(a, b point) int { return cmpFloat(a.x, b.x) })
		xys := make(plotter.XYs, len(pts))
		errs := make(plotter.YErrors, len(pts))
		for i, pt := range pts {
			xys[i] = plotter.XY{X: pt.x, Y: pt.y}
			errs[i] = struct{ Low, High float64 }{pt.y - pt.lo, pt.hi - pt.y}
		}
		args = append(args, s, xys)
		bars, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, errs})
		if err != nil {
			return false, err
		}
		p.Add(bars)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return false, err
	}
	if err := p.Save(10*vg.Inch, 6*vg.Inch, file); err != nil {
		return false, err
	}
	return true, nil
}

// sizeLabel names a message size as the benchmarks do: 8B, 4KiB, 64KiB.
func sizeLabel(b float64) string {
	switch {
	case b >= 1<<20 && math.Mod(b, 1<<20) == 0:
		return fmt.Sprintf("%gMiB", b/(1<<20))
	case b >= 1<<10 && math.Mod(b, 1<<10) == 0:
		return fmt.Sprintf("%gKiB", b/(1<<10))
	}
	return fmt.Sprintf("%gB", b)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
